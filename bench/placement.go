package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/record"
	"golang.org/x/sys/unix"
)

// Placement is where the two processes run.
type Placement string

const (
	PinNone  Placement = "none"  // wherever the scheduler puts them
	PinSplit Placement = "split" // sender on the first CPU, receiver on the second
	PinSame  Placement = "same"  // both on the first CPU
)

// ParsePlacement parses --pin.
func ParsePlacement(s string) (Placement, error) {
	switch p := Placement(s); p {
	case PinNone, PinSplit, PinSame:
		return p, nil
	}
	return "", fmt.Errorf("unknown placement %q (want none, split or same)", s)
}

// cpusFor returns the CPU the sender (0) or receiver (1) is pinned to,
// or -1 for none.
func (p Placement) cpuFor(side int) (int, error) {
	allowed, err := cpupin.Allowed()
	if err != nil {
		return -1, err
	}
	switch p {
	case PinNone:
		return -1, nil
	case PinSame:
		return allowed[0], nil
	}
	if len(allowed) < 2 {
		return -1, fmt.Errorf("placement split needs two CPUs; this process may use %v", allowed)
	}
	return allowed[side], nil
}

// cpus returns the CPUs of the sender and the receiver (-1: not pinned).
func (p Placement) cpus() (sender, receiver int, err error) {
	if sender, err = p.cpuFor(0); err != nil {
		return -1, -1, err
	}
	if p == PinSame {
		return sender, sender, nil
	}
	receiver, err = p.cpuFor(1)
	return sender, receiver, err
}

// pinProcess pins every thread of this process to set (see cpupin.Process).
func pinProcess(set *unix.CPUSet) error { return cpupin.Process(set) }

// threadTimes maps each thread of this process to its time on a CPU so
// far, in ns (/proc/self/task/*/schedstat: stat's tick-granular utime
// misses a short case), and the CPU it last ran on (stat field 39).
func threadTimes() map[int][2]int64 {
	out := map[int][2]int64{}
	stats, _ := filepath.Glob("/proc/self/task/*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
		if len(f) <= 36 {
			continue
		}
		dir := filepath.Dir(p)
		tid, _ := strconv.Atoi(filepath.Base(dir))
		var run int64
		if ss, err := os.ReadFile(filepath.Join(dir, "schedstat")); err == nil {
			if fs := strings.Fields(string(ss)); len(fs) > 0 {
				run, _ = strconv.ParseInt(fs[0], 10, 64)
			}
		}
		cpu, _ := strconv.ParseInt(f[36], 10, 64)
		out[tid] = [2]int64{run, cpu}
	}
	return out
}

// cpusUsed returns the CPUs that the threads which ran since before (a
// threadTimes snapshot) last ran on: idle threads, whose last CPU may
// predate the measurement or the pinning, do not count.
func cpusUsed(before map[int][2]int64) (cpus []int, threads int) {
	now := threadTimes()
	for tid, t := range now {
		if b, ok := before[tid]; ok && t[0] == b[0] {
			continue
		}
		if c := int(t[1]); !slices.Contains(cpus, c) {
			cpus = append(cpus, c)
		}
	}
	slices.Sort(cpus)
	return cpus, len(now)
}

// stealTicks reads the host's steal time for all CPUs from /proc/stat, in
// USER_HZ ticks (100 per second on Linux).
func stealTicks() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) > 8 && f[0] == "cpu" {
		v, _ := strconv.ParseInt(f[8], 10, 64)
		return v
	}
	return 0
}

// usage is a getrusage snapshot of this process, with its threads' times.
type usage struct {
	user, sys, vol, invol, maxrss int64
	threads                       map[int][2]int64
	gcs                           uint64
}

func readUsage() usage {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return usage{ru.Utime.Nano(), ru.Stime.Nano(), ru.Nvcsw, ru.Nivcsw, ru.Maxrss, threadTimes(), gcCycles()}
}

// costSince is the cost between snapshot u0 and now, per message.
func costSince(u0 usage, msgs int) record.Cost {
	u := readUsage()
	c := record.Cost{UserNs: u.user - u0.user, SysNs: u.sys - u0.sys, VolCtxSw: u.vol - u0.vol, InvolCtxSw: u.invol - u0.invol,
		PID: os.Getpid(), MaxRSSKiB: u.maxrss, GCCycles: int64(u.gcs - u0.gcs)}
	c.PerMessage(msgs)
	c.CPUs, c.ThreadsAtEnd = cpusUsed(u0.threads)
	return c
}
