// Command pipestream is the experiment behind the pipe throughput figures
// in results/README.md: one process streams 64-byte frames (a 4-byte
// length, then the payload, as ipclab's pipe transport frames them) into
// a pipe and another reads them, each pinned to its own CPU, and it
// prints the time per message and the writer's CPU per message. Every
// writer can be paired with every reader, so the cost of each side can be
// told apart; the pairs run interleaved, round after round.
//
// Writers: c (c/stream.c, one write(2) per frame), syscall (a loop of
// syscall.Syscall writes), raw (RawSyscall), file (os.File on a
// non-blocking pipe, in Go's poller), ipclab and ipclab-held (pipe.Conn's
// Send, with held waits for the second).
// Readers: c (read(2) of up to 64 KiB), go (the same through
// syscall.Syscall), ipclab and ipclab-held (Recv of each message).
//
//	gcc -O2 -o /tmp/pipestream-c scripts/pipestream/c/stream.c
//	go run ./scripts/pipestream [-n 300000] [-rounds 5] c/c ipclab/c c/ipclab ipclab/ipclab
//
// PERFEV=event,... runs each reader under perf stat, counting those
// events into /tmp/pipestream-perf-WRITER-READER.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/ipclab/ipclab/transports/pipe"
	"golang.org/x/sys/unix"
)

var (
	n      = flag.Int("n", 300000, "frames per stream")
	size   = flag.Int("size", 64, "payload bytes per frame")
	rounds = flag.Int("rounds", 5, "rounds; the pairs run interleaved in each")
	cbin   = flag.String("c", "/tmp/pipestream-c", "c/stream.c, compiled")
	cpus   = flag.String("cpus", "0,1", "the writer's CPU and the reader's")
	child  = flag.String("reader", "", "internal: run as this Go reader on fd 3, reporting on fd 4")
)

func cpu(i int) int {
	c, err := strconv.Atoi(strings.Split(*cpus, ",")[i])
	if err != nil {
		panic("-cpus: " + err.Error())
	}
	return c
}

// pin pins the whole process, as the harness's -pin does.
func pin(c int) {
	var s unix.CPUSet
	s.Set(c)
	if err := unix.SchedSetaffinity(0, &s); err != nil {
		panic(err)
	}
	for _, t := range threads() {
		unix.SchedSetaffinity(t, &s)
	}
}

func threads() []int {
	es, _ := os.ReadDir("/proc/self/task")
	var ts []int
	for _, e := range es {
		if t, err := strconv.Atoi(e.Name()); err == nil {
			ts = append(ts, t)
		}
	}
	return ts
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

// goReader reads n frames from fd 3 and writes a byte to fd 4.
func goReader(kind string) {
	pin(cpu(1))
	switch kind {
	case "go":
		check(unix.SetNonblock(3, false))
		total, buf := *n*(*size+4), make([]byte, 65536)
		for got := 0; got < total; {
			k, err := syscall.Read(3, buf)
			if err != nil || k == 0 {
				panic(fmt.Sprint("read: ", k, err))
			}
			got += k
		}
	case "ipclab", "ipclab-held":
		c, err := pipe.Open(pipe.Addr{RFD: 3, WFD: 5}.String(), pipe.Options{})
		check(err)
		if kind == "ipclab-held" {
			check(c.HoldWaits(true))
		}
		buf := make([]byte, 65536)
		for i := 0; i < *n; i++ {
			_, err := c.Recv(buf)
			check(err)
		}
	default:
		panic("unknown reader " + kind)
	}
	unix.Write(4, []byte{1})
	os.Exit(0)
}

func cpuTime(u unix.Rusage) time.Duration {
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// stream runs one writer/reader pair: the time per message, from the
// first write to the reader's report, and the writer's CPU per message.
func stream(writer, reader string) (perMsg, writerCPU float64) {
	var data, done, spare [2]int
	for _, p := range []*[2]int{&data, &done, &spare} {
		check(unix.Pipe2(p[:], unix.O_CLOEXEC))
	}
	fds := []*os.File{os.NewFile(uintptr(data[0]), "data"), os.NewFile(uintptr(done[1]), "done"), os.NewFile(uintptr(spare[1]), "spare")}
	frame := *size + 4
	rd := exec.Command(*cbin, "r", strconv.Itoa(cpu(1)), strconv.Itoa(*n*frame))
	if reader != "c" {
		rd = exec.Command(os.Args[0], "-reader", reader, "-n", strconv.Itoa(*n), "-size", strconv.Itoa(*size), "-cpus", *cpus)
	}
	if ev := os.Getenv("PERFEV"); ev != "" {
		out := "/tmp/pipestream-perf-" + writer + "-" + reader
		rd = exec.Command("perf", append([]string{"stat", "-x,", "--append", "-o", out, "-e", ev, "--"}, rd.Args...)...)
	}
	rd.ExtraFiles, rd.Stderr = fds, os.Stderr
	check(rd.Start())
	for _, f := range fds {
		f.Close()
	}
	// spare[0] is closed here unless an ipclab writer's Conn owns it.
	closeSpare := true
	defer func() {
		if closeSpare {
			unix.Close(spare[0])
		}
	}()
	defer unix.Close(done[0])

	var u0, u1 unix.Rusage
	start := time.Now()
	unix.Getrusage(unix.RUSAGE_SELF, &u0)
	buf := make([]byte, frame)
	*(*uint32)(unsafe.Pointer(&buf[0])) = uint32(*size)
	p := unsafe.Pointer(&buf[0])
	switch writer {
	case "c":
		w := exec.Command(*cbin, "w", strconv.Itoa(cpu(0)), strconv.Itoa(*n), strconv.Itoa(*size))
		w.ExtraFiles, w.Stderr = []*os.File{nil, os.NewFile(uintptr(data[1]), "data")}, os.Stderr
		check(w.Run())
		u0 = unix.Rusage{}
		u1 = *(*unix.Rusage)(unsafe.Pointer(w.ProcessState.SysUsage().(*syscall.Rusage)))
	case "syscall", "raw", "raw-polled", "raw-nonblock", "raw-epoll":
		call := syscall.Syscall
		if writer != "syscall" {
			call = syscall.RawSyscall
		}
		switch writer {
		case "raw-polled": // one poll(2) of the pipe
			fds := []unix.PollFd{{Fd: int32(data[1]), Events: unix.POLLOUT}}
			unix.Poll(fds, 0)
		case "raw-nonblock": // O_NONBLOCK, as Go's poller sets it
			check(unix.SetNonblock(data[1], true))
		case "raw-epoll": // in an epoll set, as Go's poller puts it
			ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
			check(err)
			defer unix.Close(ep)
			ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET}
			check(unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, data[1], &ev))
		}
		for i := 0; i < *n; i++ {
			k, _, e := call(unix.SYS_WRITE, uintptr(data[1]), uintptr(p), uintptr(frame))
			if e == unix.EAGAIN {
				i--
				continue
			}
			if e != 0 || int(k) != frame {
				panic(fmt.Sprint("write: ", k, e))
			}
		}
		runtime.KeepAlive(buf) // p reaches the kernel through call, a func value
	case "file":
		check(unix.SetNonblock(data[1], true))
		f := os.NewFile(uintptr(data[1]), "data")
		for i := 0; i < *n; i++ {
			_, err := f.Write(buf)
			check(err)
		}
	case "ipclab", "ipclab-held":
		c, err := pipe.Open(pipe.Addr{RFD: spare[0], WFD: data[1]}.String(), pipe.Options{})
		check(err)
		// The Conn's os.Files own spare[0] and data[1]: closed raw, their
		// finalizers would later close whatever a later round's pipes got
		// those numbers (done[0]: a stream timed short, its error unseen).
		closeSpare = false
		defer c.Close()
		if writer == "ipclab-held" {
			check(c.HoldWaits(true))
		}
		msg := buf[4:]
		for i := 0; i < *n; i++ {
			check(c.Send(msg))
		}
	default:
		panic("unknown writer " + writer)
	}
	if writer != "c" {
		unix.Getrusage(unix.RUSAGE_SELF, &u1)
	}
	var b [1]byte
	unix.Read(done[0], b[:])
	elapsed := time.Since(start)
	if strings.HasPrefix(writer, "raw") || writer == "syscall" {
		unix.Close(data[1])
	}
	check(rd.Wait())
	return float64(elapsed) / float64(*n), float64(cpuTime(u1)-cpuTime(u0)) / float64(*n)
}

func main() {
	flag.Parse()
	if *child != "" {
		goReader(*child)
	}
	pin(cpu(0))
	pairs := flag.Args()
	if len(pairs) == 0 {
		pairs = []string{"c/c", "ipclab/c", "c/ipclab", "ipclab/ipclab"}
	}
	type result struct{ perMsg, cpu float64 }
	res := map[string][]result{}
	for r := 0; r < *rounds; r++ {
		for _, pr := range pairs {
			w, rd, ok := strings.Cut(pr, "/")
			if !ok {
				panic("want WRITER/READER, not " + pr)
			}
			t, c := stream(w, rd)
			res[pr] = append(res[pr], result{t, c})
		}
	}
	fmt.Printf("%d frames of %d bytes per stream, writer on CPU %d, reader on CPU %d; medians of %d\n", *n, *size, cpu(0), cpu(1), *rounds)
	// The machine's speed drifts (a VM's slow spells), so each pair is
	// also given as the median of its per-round ratio to the first pair,
	// which ran beside it in the same round.
	fmt.Printf("%-26s %8s %7s %9s %9s   %s\n", "writer/reader", "ns/msg", "MB/s", "wCPU/msg", "x "+pairs[0], "every round (ns/msg)")
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	for _, pr := range pairs {
		x := res[pr]
		t := make([]float64, len(x))
		c := make([]float64, len(x))
		ratio := make([]float64, len(x))
		all := ""
		for i, y := range x {
			t[i], c[i], ratio[i] = y.perMsg, y.cpu, y.perMsg/res[pairs[0]][i].perMsg
			all += fmt.Sprintf(" %.0f", y.perMsg)
		}
		mt := median(t)
		fmt.Printf("%-26s %8.0f %7.1f %9.0f %9.2f  %s\n", pr, mt, float64(*size)*1e3/mt, median(c), median(ratio), all)
	}
}
