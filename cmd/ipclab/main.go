// Command ipclab measures and exercises Linux IPC mechanisms.
//
//	ipclab bench            latency and throughput of every transport, two processes
//	ipclab plot DIR         redraw the plots of a results directory
//	ipclab report DIR       write the report (HTML, Markdown) of a results directory
//	ipclab ls, ipclab clean list and remove the IPC objects ipclab created
//	ipclab recv ADDR        create the channel at ADDR and print what arrives
//	ipclab send ADDR        open the channel at ADDR and send stdin, line by line
//	ipclab limits           print the kernel IPC limits in force
//	ipclab floor            measure this machine's cache-line, futex and pipe round trips
//	ipclab lab run NAME     run a course experiment; lab check DIR verifies a run
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
  report DIR    write DIR/report.html and report.md: summary, warnings, figures
  ls            list the IPC objects ipclab created, and whether their creator runs
  clean         remove those whose creator is gone
  recv ADDR     create the channel at ADDR and print each message received
  send ADDR     open the channel at ADDR and send each line of stdin
  limits        print the kernel IPC limits in force
  floor         measure this machine's floor: cache-line, futex and pipe round trips
                between two pinned processes, and the CPU pair's topology
  lab           the course's laboratory: run an experiment file, its expectations,
                a report to hand in, and the instructor's check ('ipclab lab help')

addresses: pipe (bench only), fifo:PATH, sysvmsg:key=0xKEY, sysvmsg:path=P,proj=N,
           sysvmsg:id=ID (open only), posixmq:/NAME (two queues, /NAME.1 and /NAME.2),
           posixmq:/NAME,single (the one queue /NAME, as C's mq_open sees it; one way),
           sysvshm:key=0xKEY[,wait=futex|sysvsem|spin][,spin=off|DURATION], sysvshm:path=P,proj=N,
           sysvshm:id=ID (open only). proj is any int, as ftok(3) takes it: glibc uses its
           low 8 bits (1300 is 20), and 0 is allowed.
           posixshm:name=/NAME[,wait=futex|posixsem|spin][,spin=off|DURATION]
           ,owner=any on any of these but pipe opens an object another user owns or
           whose mode lets other users in (refused by default).

Run 'ipclab COMMAND -h' for a command's flags, 'ipclab --version' for the
version and commit. Exit status: 0 done, 1 failed, 2 a wrong command line.
`

func main() {
	peerproc.Dispatch() // this process may be a bench peer
	os.Exit(run(os.Args[1:]))
}

// commands are ipclab's subcommands, by name.
var commands = map[string]func([]string) error{
	"bench":   runBench,
	"plot":    runPlot,
	"compare": runCompare,
	"report":  runReport,
	"ls":      runLs,
	"clean":   runClean,
	"recv":    runRecv,
	"send":    runSend,
	"limits":  runLimits,
	"floor":   runFloor,
	"lab":     runLab,
}

// run runs one command line and returns the exit status: 0 done (or help
// asked for), 1 the command failed, 2 the command line is wrong.
func run(args []string) int {
	if len(args) < 1 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return 0
	case "-version", "--version", "version":
		fmt.Println(version())
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		var names []string
		for n := range commands {
			names = append(names, n)
		}
		hint := ""
		if s := suggest(name, names); s != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", s)
		}
		fmt.Fprintf(os.Stderr, "ipclab: unknown command %q%s; 'ipclab -h' lists the commands\n", name, hint)
		return 2
	}
	err := cmd(args[1:])
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "ipclab %s: %v\n'ipclab %s -h' for its usage\n", name, err, name)
		return 2
	}
	fmt.Fprintf(os.Stderr, "ipclab %s: %v\n", name, err)
	return 1
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
