// Command pingpong is the experiment behind ipclab's held waits
// (internal/sysipc.Calls): two Go processes bounce 64 bytes over a pair
// of pipes, with the system calls made through Go's scheduler
// (syscall.Syscall) or held (syscall.RawSyscall), blocking reads or ppoll
// waits on non-blocking descriptors as ipclab's, and print the round
// trip's p50 and p99. c/pingpong.c is the same in C.
//
//	go run ./scripts/pingpong [-raw] [-ppoll] [-cpus 1,1] [-n 50000]
//	gcc -O2 -o /tmp/cpp scripts/pingpong/c/pingpong.c && /tmp/cpp MODE 1 1 50000
//
// It pins both processes (-cpus parent,child) as the harness's -pin does.
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
	raw    = flag.Bool("raw", false, "make the system calls with RawSyscall (held)")
	ppoll  = flag.Bool("ppoll", false, "wait in ppoll on non-blocking descriptors, as ipclab does, instead of a blocking read")
	cpus   = flag.String("cpus", "1,1", "the CPUs of the parent and the child")
	n      = flag.Int("n", 50000, "round trips measured, after 1000 more")
	child  = flag.Bool("child", false, "internal: run as the echoing child")
	viaIPC = flag.Bool("ipclab", false, "send and receive through ipclab's pipe transport (held with -raw) instead of the loops here")
	reps   = flag.Int("reps", 1, "measure this many times, -n round trips each, and print each one's p50 and p99 and where its slow round trips fell")
)

func call(trap, a1, a2, a3 uintptr) (uintptr, syscall.Errno) {
	if *raw {
		r, _, e := syscall.RawSyscall(trap, a1, a2, a3)
		return r, e
	}
	r, _, e := syscall.Syscall(trap, a1, a2, a3)
	return r, e
}

func read(fd int, b []byte) {
	for {
		if *ppoll {
			fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if *raw {
				syscall.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, 0, 0, 0, 0)
			} else {
				unix.Ppoll(fds[:], nil, nil)
			}
		}
		r, e := call(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if e == unix.EINTR || e == unix.EAGAIN {
			continue
		}
		if e != 0 || int(r) != len(b) {
			fmt.Fprintln(os.Stderr, "read:", r, e)
			os.Exit(1)
		}
		return
	}
}

func write(fd int, b []byte) {
	if _, e := call(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b))); e != 0 {
		fmt.Fprintln(os.Stderr, "write:", e)
		os.Exit(1)
	}
}

// pin puts every thread of this process on cpu.
func pin(cpu int) {
	var s unix.CPUSet
	s.Set(cpu)
	tids, _ := os.ReadDir("/proc/self/task")
	for _, t := range tids {
		id, _ := strconv.Atoi(t.Name())
		unix.SchedSetaffinity(id, &s)
	}
}

func main() {
	flag.Parse()
	parts := strings.Split(*cpus, ",")
	if len(parts) != 2 {
		fmt.Fprintln(os.Stderr, "-cpus wants two CPUs: parent,child")
		os.Exit(2)
	}
	cpuP, _ := strconv.Atoi(parts[0])
	cpuC, _ := strconv.Atoi(parts[1])
	b := make([]byte, 64)
	if *child {
		pin(cpuC)
		if *viaIPC {
			c := openIPC(3, 4)
			for {
				if _, err := c.Recv(b); err != nil {
					os.Exit(0)
				}
				if err := c.Send(b); err != nil {
					os.Exit(0)
				}
			}
		}
		unix.SetNonblock(3, *ppoll)
		for {
			read(3, b)
			write(4, b)
		}
	}
	toChildR, toChildW, _ := os.Pipe()
	fromChildR, fromChildW, _ := os.Pipe()
	cmd := exec.Command(os.Args[0], append(os.Args[1:], "-child")...)
	cmd.ExtraFiles = []*os.File{toChildR, fromChildW}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pin(cpuP)
	w, r := int(toChildW.Fd()), int(fromChildR.Fd()) // Fd makes them blocking
	roundTrip := func() {
		write(w, b)
		read(r, b)
	}
	if *viaIPC {
		c := openIPC(r, w)
		roundTrip = func() {
			if err := c.Send(b); err != nil {
				panic(err)
			}
			if _, err := c.Recv(b); err != nil {
				panic(err)
			}
		}
	} else {
		unix.SetNonblock(r, *ppoll)
	}
	for i := 0; i < 1000; i++ {
		roundTrip()
	}
	rtt := make([]float64, *n)
	at := make([]time.Duration, *n)
	start := time.Now()
	for rep := 0; rep < *reps; rep++ {
		for i := range rtt {
			t := time.Now()
			roundTrip()
			rtt[i] = float64(time.Since(t).Nanoseconds())
			at[i] = t.Sub(start)
		}
		if *reps > 1 {
			// The slow round trips (over 3x the p50): how many, and the
			// median time between them, to tell a periodic cause.
			sorted := slices.Clone(rtt)
			slices.Sort(sorted)
			var slow []time.Duration
			for i, v := range rtt {
				if v > 3*sorted[*n/2] {
					slow = append(slow, at[i])
				}
			}
			var gaps []time.Duration
			for i := 1; i < len(slow); i++ {
				gaps = append(gaps, slow[i]-slow[i-1])
			}
			slices.Sort(gaps)
			gap := time.Duration(0)
			if len(gaps) > 0 {
				gap = gaps[len(gaps)/2]
			}
			fmt.Printf("rep %d: p50 %.2f us, p99 %.2f us, %d over 3x p50, median gap %v\n", rep, sorted[*n/2]/1000, sorted[*n*99/100]/1000, len(slow), gap)
		}
	}
	slices.Sort(rtt)
	fmt.Printf("raw=%v ppoll=%v ipclab=%v GOMAXPROCS=%d: p50 %.2f us, p99 %.2f us\n", *raw, *ppoll, *viaIPC, runtime.GOMAXPROCS(0), rtt[*n/2]/1000, rtt[*n*99/100]/1000)
}

// openIPC makes an ipclab pipe end of descriptors rfd and wfd, its waits
// held with -raw.
func openIPC(rfd, wfd int) *pipe.Conn {
	c, err := pipe.Open(pipe.Addr{RFD: rfd, WFD: wfd}.String(), pipe.Options{})
	if err != nil {
		panic(err)
	}
	if *raw {
		if err := c.HoldWaits(true); err != nil {
			panic(err)
		}
	}
	return c
}
