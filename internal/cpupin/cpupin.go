// Package cpupin pins a whole process to a set of CPUs and tells which
// CPUs it may use. The harness (package bench) and the floor measurement
// (package floor) pin their processes with it, so both place work alike.
package cpupin

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Allowed returns the CPUs this process may run on, in increasing order.
func Allowed() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var cpus []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// Current returns this process's affinity mask, to restore after Process.
func Current() (unix.CPUSet, error) {
	var set unix.CPUSet
	err := unix.SchedGetaffinity(0, &set)
	return set, err
}

// holdProcs fixes GOMAXPROCS at the first pin.
var holdProcs sync.Once

// Process pins every thread of this process to set. Threads the Go runtime
// starts later inherit the mask of the thread that starts them, so the
// whole process stays put.
//
// The first call also fixes GOMAXPROCS at the value the runtime chose at
// start (the CPUs the process could use then). Since Go 1.25 the runtime
// re-reads the affinity mask about once a second and lowers GOMAXPROCS to
// it, so a process pinned to one CPU would run its first second with two
// Ps and the rest with one: a case's figures would depend on its length.
// With one P, every blocking system call longer than a sysmon tick hands
// its P off (measured at split: posixmq p50 93 against 68 us, sysvmsg 81
// against 64 us). A Go program the scheduler places itself keeps the
// machine's count, and that is the figure to report.
func Process(set *unix.CPUSet) error {
	holdProcs.Do(func() { runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) })
	return pinThreads(set)
}

// pinThreads is Process without fixing GOMAXPROCS. A thread started
// while the list is being pinned may have copied its parent's old mask,
// so the pass repeats until it meets no thread it had not pinned.
func pinThreads(set *unix.CPUSet) error {
	pinned := map[int]bool{}
	for pass := 0; ; pass++ {
		tids, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := false
		for _, t := range tids {
			tid, _ := strconv.Atoi(t.Name())
			if pinned[tid] {
				continue
			}
			fresh = true
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("sched_setaffinity(%d): %w", tid, err)
			}
			pinned[tid] = true
		}
		if !fresh {
			return nil
		}
		if pass == 100 {
			return fmt.Errorf("cpupin: threads kept appearing while pinning (%d pinned)", len(pinned))
		}
	}
}

// ChildEnv is what to add to the environment of a process started while
// this one may be pinned: a child inherits the affinity mask, and its
// runtime would choose GOMAXPROCS from it (1 for a process started while
// its parent runs on one CPU), not the machine's count this process
// holds (see Process). Setting the variable also stops the child's
// runtime from lowering it later.
func ChildEnv() []string {
	return []string{"GOMAXPROCS=" + strconv.Itoa(runtime.GOMAXPROCS(0))}
}

// ProcessTo pins every thread of this process to the one CPU cpu.
func ProcessTo(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return Process(&set)
}
