package cbaseline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/shmchan"
	"github.com/ipclab/ipclab/transports"
)

// A private /dev/shm: the posixshm mechanisms' objects and semaphores,
// and straight.c's shm_open objects, are checked for leaks too.
func TestMain(m *testing.M) { testmain.MainWith(m, testmain.Options{PrivateDevShm: true}) }

func build(t *testing.T) string {
	t.Helper()
	prog, _, err := Build(t.TempDir())
	if errors.Is(err, ErrNoCompiler) {
		t.Skip(err) // .ci/run installs gcc, so CI never skips
	}
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// Every mechanism the transport table names carries both modes end to
// end; the receiver's checksum and the sender's confirmation must agree
// with the message contents.
func TestEveryMechanism(t *testing.T) {
	prog := build(t)
	seen := map[string]bool{"": true} // a transport without a C baseline
	for _, tr := range transports.All() {
		mech := tr.CMechanism
		if seen[mech] {
			continue
		}
		seen[mech] = true
		for _, size := range []int{0, 8, 100, 8192} {
			for _, mode := range []string{"latency", "throughput"} {
				t.Run(fmt.Sprintf("%s/%d/%s", mech, size, mode), func(t *testing.T) {
					a := Args{Mechanism: mech, Mode: mode, Size: size, Count: 300, Warmup: 30, SenderCPU: -1, ReceiverCPU: -1}
					r, err := Run(context.Background(), prog, a)
					if err != nil {
						t.Fatal(err)
					}
					for _, c := range []record.Cost{r.Sender, r.Receiver} {
						if len(c.CPUs) != 1 || c.ThreadsAtEnd != 1 || c.PID <= 0 {
							t.Fatalf("cost %+v: want one thread on one CPU and a pid", c)
						}
					}
					if mode == "latency" {
						for _, v := range r.RTTNs {
							if v <= 0 {
								t.Fatalf("round trip of %v ns", v)
							}
						}
						if want := map[bool]int{true: 300 / record.OneWayEvery, false: 0}[size >= 8]; len(r.OneWayNs) != want {
							t.Fatalf("%d one-way samples, want %d", len(r.OneWayNs), want)
						}
						return
					}
					var sum uint64
					for i := range size {
						b := byte(i*7 + 1)
						// The word-wise sum of little-endian words equals the
						// sum of each byte shifted to its place.
						if i < size/8*8 {
							sum += uint64(b) << (8 * (i % 8))
						} else {
							sum += uint64(b)
						}
					}
					want := fmt.Sprintf("%d %d", 300*size, 300*sum)
					if got := fmt.Sprintf("%d %d", r.Bytes, r.Sum); got != want || r.Confirmation != want {
						t.Fatalf("receiver summed %q, confirmed %q; want %q", got, r.Confirmation, want)
					}
					if r.LastNs <= r.FirstSendNs {
						t.Fatalf("last receive %d not after first send %d", r.LastNs, r.FirstSendNs)
					}
				})
			}
		}
	}
}

// Poll waits: every mechanism with a descriptor carries both modes with
// the calls waiting in ppoll, and in a ping-pong across two CPUs each
// side waits (counted in PollWaits, which blocking waits leave at 0). A
// mechanism without a descriptor is refused.
func TestPollWaits(t *testing.T) {
	prog := build(t)
	cpus, err := cpupin.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	for _, mech := range []string{"pipe", "fifo", "posixmq", "unix-stream", "unix-seqpacket", "unix-dgram", "tcp", "posixshm-eventfd"} {
		if !Polls(mech) {
			t.Fatalf("Polls(%q) = false", mech)
		}
		for _, mode := range []string{"latency", "throughput"} {
			t.Run(mech+"/"+mode, func(t *testing.T) {
				for _, w := range []Waits{Poll, Block} {
					a := Args{Mechanism: mech, Mode: mode, Size: 100, Count: 300, Warmup: 30, SenderCPU: -1, ReceiverCPU: -1, Waits: w}
					// Each side waits for the other only where neither can
					// run on: one CPU each (unpinned, the two may share one,
					// and a side preempted by the peer it woke finds its next
					// message there when it reads).
					bothWait := len(cpus) >= 2
					if bothWait {
						a.SenderCPU, a.ReceiverCPU = cpus[0], cpus[1]
					}
					if mech == "posixshm-eventfd" {
						// Both ends on one CPU, where the spin before each
						// sleep cannot succeed: then the sides sleep.
						a.SenderCPU, a.ReceiverCPU = cpus[0], cpus[0]
						bothWait = false
					}
					r, err := Run(context.Background(), prog, a)
					if err != nil {
						t.Fatal(err)
					}
					if r.Waits != w {
						t.Fatalf("ipcbench says its waits were %q, want %q", r.Waits, w)
					}
					if mode == "throughput" && r.Bytes != 300*100 {
						t.Fatalf("%s waits: the receiver summed %d bytes, want %d", w, r.Bytes, 300*100)
					}
					polled := r.Sender.PollWaits + r.Receiver.PollWaits
					switch {
					case w == Block && polled+r.EmptyTries[0]+r.EmptyTries[1] != 0:
						t.Fatalf("blocking waits counted %d ppoll waits and %v calls that found nothing", polled, r.EmptyTries)
					case w == Poll && mode == "latency" && polled == 0:
						t.Fatalf("300 round trips never waited in ppoll")
					case w == Poll && mode == "latency" && bothWait && (r.Sender.PollWaits == 0 || r.Receiver.PollWaits == 0):
						t.Fatalf("300 round trips on two CPUs waited in ppoll %d (sender) and %d (receiver) times; each side must have waited for the other", r.Sender.PollWaits, r.Receiver.PollWaits)
					}
					if w != Poll || mode != "latency" {
						continue
					}
					// The Go ends' pipe, fifo and posixmq receives ask ppoll
					// first after a receive that waited, and try first every
					// 16th time in a streak (sysipc.WaitStreak); the sockets'
					// always try first, so each of their waits follows a call
					// that found nothing.
					if mech == "posixshm-eventfd" { // waits are sleeps on the eventfd, after the spin
						continue
					}
					for i, side := range []record.Cost{r.Sender, r.Receiver} {
						empty := r.EmptyTries[i]
						if streak := mech == "pipe" || mech == "fifo" || mech == "posixmq"; streak && (empty == 0 || empty >= side.PollWaits) ||
							!streak && empty != side.PollWaits {
							t.Errorf("side %d: %d ppoll waits after %d calls that found nothing", i, side.PollWaits, empty)
						}
					}
				}
			})
		}
	}
	for _, mech := range []string{"sysvmsg", "shm-futex", "posixshm-futex"} {
		if Polls(mech) {
			t.Errorf("Polls(%q) = true", mech)
		}
		if _, err := Run(context.Background(), prog, Args{Mechanism: mech, Mode: "latency", Size: 8, Count: 1, SenderCPU: -1, ReceiverCPU: -1, Waits: Poll}); err == nil || !strings.Contains(err.Error(), "no descriptor") {
			t.Errorf("%s with poll waits: err = %v, want no descriptor", mech, err)
		}
	}
	// ipcbench itself refuses them, and a WAITS it does not know, as bad
	// input (Run refuses the first before it starts the program).
	for _, c := range []struct{ mech, waits, want string }{
		{"sysvmsg", "poll", "no descriptor"}, {"shm-futex", "poll", "no descriptor"}, {"pipe", "spin", "unknown WAITS"}} {
		var stderr strings.Builder
		cmd := exec.Command(prog, c.mech, "latency", "8", "1", "0", "-1", "-1", c.waits)
		cmd.Stderr = &stderr
		var exit *exec.ExitError
		if err := cmd.Run(); !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("ipcbench %s ... %s: %v, %q; want exit 2 saying %q", c.mech, c.waits, err, stderr.String(), c.want)
		}
	}
}

// A size beyond a kernel limit is a LimitError naming the sysctl.
func TestLimit(t *testing.T) {
	prog := build(t)
	b, err := os.ReadFile("/proc/sys/kernel/msgmax")
	if err != nil {
		t.Skip(err)
	}
	msgmax, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	_, err = Run(context.Background(), prog, Args{Mechanism: "sysvmsg", Mode: "latency", Size: msgmax + 1, Count: 1, SenderCPU: -1, ReceiverCPU: -1})
	var le *LimitError
	if !errors.As(err, &le) || !strings.Contains(le.Reason, "kernel.msgmax") {
		t.Fatalf("err = %v, want a LimitError naming kernel.msgmax", err)
	}
	_, err = Run(context.Background(), prog, Args{Mechanism: "carrier-pigeon", Mode: "latency", Size: 8, Count: 1, SenderCPU: -1, ReceiverCPU: -1})
	if err == nil || !strings.Contains(err.Error(), "unknown mechanism") {
		t.Fatalf("err = %v, want unknown mechanism", err)
	}
}

// Cancelling a run (SIGTERM) and killing its receiver both end it
// promptly, and TestMain finds nothing left behind; with poll waits too,
// where the sender sleeps in ppoll rather than in the blocking call.
func TestInterruptedRunsRemoveTheirObjects(t *testing.T) {
	prog := build(t)
	type run struct {
		mech  string
		waits Waits
	}
	var runs []run
	for _, mech := range []string{"sysvmsg", "posixmq", "shm-sysvsem", "shm-futex", "fifo", "posixshm-futex", "posixshm-posixsem", "posixshm-eventfd"} {
		runs = append(runs, run{mech, Block})
	}
	for _, mech := range []string{"posixmq", "fifo", "pipe", "unix-dgram", "tcp", "posixshm-eventfd"} {
		runs = append(runs, run{mech, Poll})
	}
	for _, rn := range runs {
		mech, waits := rn.mech, rn.waits
		name := mech
		if waits == Poll {
			name += "/poll"
		}
		t.Run(name+"/sigterm", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			start := time.Now()
			_, err := Run(ctx, prog, Args{Mechanism: mech, Mode: "latency", Size: 64, Count: 1 << 24, SenderCPU: -1, ReceiverCPU: -1, Waits: waits})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v to stop", d)
			}
		})
		t.Run(name+"/receiver-killed", func(t *testing.T) {
			errc := make(chan error, 1)
			var parent int
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// An ipcbench of an earlier subtest may still be on its way out.
			before := ourProgs(prog)
			go func() {
				_, err := Run(ctx, prog, Args{Mechanism: mech, Mode: "throughput", Size: 64, Count: 1 << 24, SenderCPU: -1, ReceiverCPU: -1, Waits: waits})
				errc <- err
			}()
			deadline := time.Now().Add(5 * time.Second)
			child := 0
			for child == 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				parent, child = findChild(prog, before)
			}
			if child == 0 {
				t.Fatal("found no ipcbench receiver")
			}
			syscall.Kill(child, syscall.SIGKILL)
			select {
			case err := <-errc:
				if err == nil || !strings.Contains(err.Error(), "receiver") {
					t.Fatalf("err = %v, want the receiver's failure", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("ipcbench %d did not notice its receiver %d was killed", parent, child)
			}
		})
	}
}

// ourProgs lists the processes running prog that this test process
// started (another test binary running at the same time may run the same
// program). Run starts them from whichever thread runs its goroutine.
func ourProgs(prog string) map[int]bool {
	var b []byte
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	for _, t := range tasks {
		more, _ := os.ReadFile(t)
		b = append(append(b, ' '), more...)
	}
	pids := map[int]bool{}
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == prog {
			pids[pid] = true
		}
	}
	return pids
}

// findChild finds one of our processes running prog, other than those in
// skip, and its forked receiver.
func findChild(prog string, skip map[int]bool) (parent, child int) {
	for pid := range ourProgs(prog) {
		if skip[pid] {
			continue
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if f := strings.Fields(string(b)); len(f) > 0 {
			c, _ := strconv.Atoi(f[0])
			return pid, c
		}
	}
	return 0, 0
}

// TestRingAsGoSizesIt: ipcbench's rings have the bytes the Go side's
// have for the same message (shmchan.RingSizeFor), which the harness also
// checks case by case.
func TestRingAsGoSizesIt(t *testing.T) {
	prog := build(t)
	for _, size := range []int{64, shmchan.DefaultMaxMessage, shmchan.DefaultMaxMessage + 1, 1 << 20} {
		r, err := Run(context.Background(), prog, Args{Mechanism: "shm-spin", Mode: "throughput", Size: size, Count: 20, Warmup: 1, SenderCPU: -1, ReceiverCPU: -1})
		if err != nil {
			t.Fatal(err)
		}
		if want := shmchan.RingSizeFor(size); r.RingBytes != want {
			t.Errorf("%d-byte messages: ipcbench's ring is %d bytes, the Go side's %d", size, r.RingBytes, want)
		}
	}
}
