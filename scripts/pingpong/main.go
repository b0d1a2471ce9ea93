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

	"golang.org/x/sys/unix"
)

var (
	raw   = flag.Bool("raw", false, "make the system calls with RawSyscall (held)")
	ppoll = flag.Bool("ppoll", false, "wait in ppoll on non-blocking descriptors, as ipclab does, instead of a blocking read")
	cpus  = flag.String("cpus", "1,1", "the CPUs of the parent and the child")
	n     = flag.Int("n", 50000, "round trips measured, after 1000 more")
	child = flag.Bool("child", false, "internal: run as the echoing child")
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
	unix.SetNonblock(r, *ppoll)
	rtt := make([]float64, *n)
	for i := 0; i < *n+1000; i++ {
		t := time.Now()
		write(w, b)
		read(r, b)
		if i >= 1000 {
			rtt[i-1000] = float64(time.Since(t).Nanoseconds())
		}
	}
	slices.Sort(rtt)
	fmt.Printf("raw=%v ppoll=%v GOMAXPROCS=%d: p50 %.2f us, p99 %.2f us\n", *raw, *ppoll, runtime.GOMAXPROCS(0), rtt[*n/2]/1000, rtt[*n*99/100]/1000)
}
