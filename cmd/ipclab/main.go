// Command ipclab measures and exercises Linux IPC mechanisms.
//
//	ipclab bench            latency and throughput of every transport, two processes
//	ipclab plot DIR         redraw the plots of a results directory
//	ipclab ls, ipclab clean list and remove the IPC objects ipclab created
//	ipclab recv ADDR        create the channel at ADDR and print what arrives
//	ipclab send ADDR        open the channel at ADDR and send stdin, line by line
//	ipclab limits           print the kernel IPC limits in force
//	ipclab floor            measure this machine's cache-line, futex and pipe round trips
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/ipclab/ipclab/internal/peerproc"
)

const usage = `ipclab: a message-passing layer and measurement lab for Linux IPC

usage: ipclab COMMAND [flags]

commands:
  bench         measure latency and throughput of every transport between two
                processes; records, plots and a summary table
  plot DIR      redraw the plots of a results directory
  compare A B   compare two results directories, with a significance test per case
  ls            list the IPC objects ipclab created, and whether their creator runs
  clean         remove those whose creator is gone
  recv ADDR     create the channel at ADDR and print each message received
  send ADDR     open the channel at ADDR and send each line of stdin
  limits        print the kernel IPC limits in force
  floor         measure this machine's floor: cache-line, futex and pipe round trips
                between two pinned processes, and the CPU pair's topology

addresses: pipe (bench only), fifo:PATH, sysvmsg:key=0xKEY, sysvmsg:path=P,proj=N,
           sysvmsg:id=ID (open only), posixmq:/NAME,
           sysvshm:key=0xKEY[,wait=futex|sysvsem|spin][,spin=off|DURATION], sysvshm:id=ID (open only)

Run 'ipclab COMMAND -h' for a command's flags.
`

func main() {
	peerproc.Dispatch() // this process may be a bench peer
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"bench":   runBench,
		"plot":    runPlot,
		"compare": runCompare,
		"ls":      runLs,
		"clean":   runClean,
		"recv":    runRecv,
		"send":    runSend,
		"limits":  runLimits,
		"floor":   runFloor,
	}
	name := os.Args[1]
	if name == "-h" || name == "--help" || name == "help" {
		fmt.Print(usage)
		return
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "ipclab: unknown command %q\n\n%s", name, usage)
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "ipclab %s: %v\n", name, err)
		os.Exit(1)
	}
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name, args, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ipclab %s %s\n\n%s\n", name, args, help)
		printVisibleDefaults(fs)
	}
	return fs
}

// flagSet reports whether the command line set the flag, as opposed to
// its default applying.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
