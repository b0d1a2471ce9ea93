package cbaseline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/internal/ctest"
	"github.com/ipclab/ipclab/internal/testmain"
)

// straight.c is the independent program scripts/check-cbaseline.sh holds
// ipcbench against; these tests check that it works and cleans up, not
// how fast anything is.

var straightMechs = []string{"pipe", "pipe-malloc", "sysvmsg", "posixmq", "shm-sysvsem", "shm-posixsem", "shm-spin"}

// straightReport is straight's JSON line; pointers tell a missing field
// from a zero.
type straightReport struct {
	Program     string   `json:"program"`
	Mechanism   string   `json:"mechanism"`
	Mode        string   `json:"mode"`
	Size        int      `json:"size"`
	Count       int      `json:"count"`
	Warmup      *int     `json:"warmup"`
	SenderCPU   *int     `json:"sender_cpu"`
	ReceiverCPU *int     `json:"receiver_cpu"`
	RTTMin      *float64 `json:"rtt_min_ns"`
	RTTP50      *float64 `json:"rtt_p50_ns"`
	RTTP99      *float64 `json:"rtt_p99_ns"`
	RTTMax      *float64 `json:"rtt_max_ns"`
	FirstNs     *int64   `json:"first_ns"`
	LastNs      *int64   `json:"last_ns"`
	ElapsedNs   *int64   `json:"elapsed_ns"`
	Bytes       *uint64  `json:"bytes"`
	Sum         *uint64  `json:"sum"`
	MsgsPerSec  *float64 `json:"msgs_per_sec"`
	MBPerSec    *float64 `json:"mb_per_sec"`
}

// runStraight runs prog with args and returns its stdout, stderr, exit
// status and pid; a run that outlives limit is sent SIGTERM, which is a
// failure here.
func runStraight(t *testing.T, prog string, limit time.Duration, args ...string) (stdout, stderr string, status, pid int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("straight %v still running after %v; stderr: %s", args, limit, errb.String())
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		status = exit.ExitCode()
	case err != nil:
		t.Fatalf("straight %v: %v", args, err)
	}
	checkNoShm(t, cmd.Process.Pid)
	return out.String(), errb.String(), status, cmd.Process.Pid
}

// checkNoShm fails if the run of pid left its POSIX shared memory object
// (the leak check covers SysV objects and POSIX queues, not /dev/shm).
func checkNoShm(t *testing.T, pid int) {
	t.Helper()
	name := fmt.Sprintf("/dev/shm/straight-%d", pid)
	if _, err := os.Stat(name); err == nil {
		os.Remove(name)
		t.Errorf("%s left behind", name)
	}
}

// messageSum is the checksum of one of straight's (and ipcbench's)
// messages: byte i is i*7+1; little-endian 64-bit words, then the tail
// bytes, summed.
func messageSum(size int) uint64 {
	var sum uint64
	for i := range size {
		b := uint64(byte(i*7 + 1))
		if i < size/8*8 {
			b <<= 8 * (i % 8)
		}
		sum += b
	}
	return sum
}

// Every mechanism carries both modes end to end: the figures are there
// and positive, the receiver saw every byte it should (its checksum), and
// nothing is left behind (checkNoShm here, TestMain's leak check for the
// rest).
func TestStraightEveryMechanism(t *testing.T) {
	prog := ctest.Build(t, "c/straight.c", "-lrt")
	for _, mech := range straightMechs {
		// 13 bytes: messages that straddle words and pipe reads.
		for _, size := range []int{13, 64, 4096} {
			for _, mode := range []string{"latency", "throughput"} {
				t.Run(fmt.Sprintf("%s/%d/%s", mech, size, mode), func(t *testing.T) {
					testmain.Watchdog(t, 2*time.Minute)
					count := 300
					if mode == "throughput" {
						// More than two pipe buffers (64 KiB each) measured,
						// so a pipe reader cannot get them all in one read.
						count = max(300, 3*65536/size)
					}
					stdout, stderr, status, _ := runStraight(t, prog, time.Minute,
						mech, mode, strconv.Itoa(size), strconv.Itoa(count), "-1", "-1")
					if status != 0 {
						t.Fatalf("exit status %d: %s", status, stderr)
					}
					checkReport(t, stdout, mech, mode, size, count, -1, -1)
				})
			}
		}
	}
}

func checkReport(t *testing.T, stdout, mech, mode string, size, count, txCPU, rxCPU int) {
	t.Helper()
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("want one JSON line, got %q", stdout)
	}
	var r straightReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("report %q: %v", stdout, err)
	}
	if r.Program != "straight" || r.Mechanism != mech || r.Mode != mode || r.Size != size || r.Count != count {
		t.Fatalf("report says %s %s %s %d x %d, want straight %s %s %d x %d",
			r.Program, r.Mechanism, r.Mode, r.Size, r.Count, mech, mode, size, count)
	}
	if r.Warmup == nil || *r.Warmup != count/10 || r.SenderCPU == nil || *r.SenderCPU != txCPU || r.ReceiverCPU == nil || *r.ReceiverCPU != rxCPU {
		t.Fatalf("warmup %v, CPUs %v %v: want %d, %d, %d", r.Warmup, r.SenderCPU, r.ReceiverCPU, count/10, txCPU, rxCPU)
	}
	if mode == "latency" {
		if r.RTTMin == nil || r.RTTP50 == nil || r.RTTP99 == nil || r.RTTMax == nil {
			t.Fatalf("latency report without its figures: %s", stdout)
		}
		if !(0 < *r.RTTMin && *r.RTTMin <= *r.RTTP50 && *r.RTTP50 <= *r.RTTP99 && *r.RTTP99 <= *r.RTTMax) {
			t.Fatalf("want 0 < min <= p50 <= p99 <= max: %v %v %v %v", *r.RTTMin, *r.RTTP50, *r.RTTP99, *r.RTTMax)
		}
		if r.Bytes != nil || r.MsgsPerSec != nil {
			t.Fatalf("latency report with throughput fields: %s", stdout)
		}
		return
	}
	if r.FirstNs == nil || r.LastNs == nil || r.ElapsedNs == nil || r.Bytes == nil || r.Sum == nil || r.MsgsPerSec == nil || r.MBPerSec == nil {
		t.Fatalf("throughput report without its figures: %s", stdout)
	}
	if *r.LastNs <= *r.FirstNs || *r.ElapsedNs != *r.LastNs-*r.FirstNs {
		t.Fatalf("first %d, last %d, elapsed %d", *r.FirstNs, *r.LastNs, *r.ElapsedNs)
	}
	if want := uint64(count * size); *r.Bytes != want {
		t.Fatalf("receiver counted %d bytes, want %d", *r.Bytes, want)
	}
	if want := uint64(count) * messageSum(size); *r.Sum != want {
		t.Fatalf("receiver's checksum %d, want %d", *r.Sum, want)
	}
	if !(*r.MsgsPerSec > 0 && *r.MBPerSec > 0) {
		t.Fatalf("msgs/s %v, MB/s %v: want both positive", *r.MsgsPerSec, *r.MBPerSec)
	}
	// MB/s and msgs/s describe the same bytes: MB/s = msgs/s * size / 1e6,
	// to the rounding of the printed figures.
	if got, want := *r.MBPerSec, *r.MsgsPerSec*float64(size)/1e6; got < want*0.999-0.001 || got > want*1.001+0.001 {
		t.Fatalf("MB/s %v does not match msgs/s %v at %d bytes", got, *r.MsgsPerSec, size)
	}
}

// Pinned runs (as check-cbaseline.sh's split and same placements) work
// and say where they were pinned. Not shm-spin on one CPU: a spinner
// waits out a scheduler tick there.
func TestStraightPinned(t *testing.T) {
	prog := ctest.Build(t, "c/straight.c", "-lrt")
	cpus, err := cpupin.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	first, last := cpus[0], cpus[len(cpus)-1]
	for _, mech := range []string{"pipe", "sysvmsg", "shm-posixsem"} {
		for _, mode := range []string{"latency", "throughput"} {
			for _, place := range [][2]int{{first, last}, {first, first}} {
				t.Run(fmt.Sprintf("%s/%s/%d-%d", mech, mode, place[0], place[1]), func(t *testing.T) {
					testmain.Watchdog(t, time.Minute)
					count := 300
					if mode == "throughput" {
						count = 4000 // 256 KB at 64 B: more than one pipe read
					}
					stdout, stderr, status, _ := runStraight(t, prog, 30*time.Second, mech, mode, "64",
						strconv.Itoa(count), strconv.Itoa(place[0]), strconv.Itoa(place[1]))
					if status != 0 {
						t.Fatalf("exit status %d: %s", status, stderr)
					}
					checkReport(t, stdout, mech, mode, 64, count, place[0], place[1])
				})
			}
		}
	}
}

// Bad arguments and sizes beyond a kernel limit end with a message naming
// the problem and a distinct status, before any object exists.
func TestStraightRefusesBadInput(t *testing.T) {
	prog := ctest.Build(t, "c/straight.c", "-lrt")
	type refusal struct {
		args   []string
		status int    // exit status
		say    string // in stderr
	}
	cases := []refusal{
		{[]string{"carrier-pigeon", "latency", "64", "10", "-1", "-1"}, 2, "unknown mechanism"},
		{[]string{"pipe", "sideways", "64", "10", "-1", "-1"}, 2, "unknown mode"},
		{[]string{"pipe", "latency", "0", "10", "-1", "-1"}, 2, "SIZE"},
		{[]string{"pipe", "latency", "64", "1", "-1", "-1"}, 2, "COUNT"},
		{[]string{"pipe", "latency", "64x", "10", "-1", "-1"}, 2, "SIZE"},
		{[]string{"pipe", "latency", "64", "10", "-2", "-1"}, 2, "CPUs"},
		{[]string{"pipe", "latency", "64", "10", "-1"}, 2, "usage"},
	}
	if cpus, err := cpupin.Allowed(); err == nil && cpus[len(cpus)-1] < 1023 {
		cases = append(cases, refusal{[]string{"pipe", "latency", "64", "10", "-1", strconv.Itoa(cpus[len(cpus)-1] + 1)}, 2, "not one this process may run on"})
	}
	if b, err := os.ReadFile("/proc/sys/kernel/msgmax"); err == nil {
		msgmax, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if msgmax < 1<<20 {
			cases = append(cases, refusal{[]string{"sysvmsg", "latency", strconv.Itoa(msgmax + 1), "10", "-1", "-1"}, 3, "kernel.msgmax"})
		}
	}
	if b, err := os.ReadFile("/proc/sys/fs/mqueue/msgsize_max"); err == nil {
		max, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if max < 1<<20 {
			cases = append(cases, refusal{[]string{"posixmq", "throughput", strconv.Itoa(max + 1), "10", "-1", "-1"}, 3, "fs.mqueue.msgsize_max"})
		}
	}
	for _, c := range cases {
		stdout, stderr, status, _ := runStraight(t, prog, 30*time.Second, c.args...)
		if status != c.status || !strings.Contains(stderr, c.say) || stdout != "" {
			t.Errorf("straight %v: status %d, stderr %q, stdout %q; want status %d naming %q and no report",
				c.args, status, stderr, stdout, c.status, c.say)
		}
	}
}

// SIGTERM, and the death of the other process, end a run promptly and
// leave nothing behind (TestMain's leak check, checkNoShm).
func TestStraightInterrupted(t *testing.T) {
	prog := ctest.Build(t, "c/straight.c", "-lrt")
	for _, mech := range straightMechs {
		t.Run(mech+"/sigterm", func(t *testing.T) {
			testmain.Watchdog(t, time.Minute)
			cmd := exec.Command(prog, mech, "latency", "64", "100000000", "-1", "-1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitForChild(t, cmd.Process.Pid)
			cmd.Process.Signal(syscall.SIGTERM)
			err := cmd.Wait()
			checkNoShm(t, cmd.Process.Pid)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
				t.Fatalf("err = %v (%s), want death by SIGTERM", err, stderr.String())
			}
		})
		t.Run(mech+"/child-killed", func(t *testing.T) {
			testmain.Watchdog(t, time.Minute)
			cmd := exec.Command(prog, mech, "throughput", "64", "100000000", "-1", "-1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			syscall.Kill(waitForChild(t, cmd.Process.Pid), syscall.SIGKILL)
			err := cmd.Wait()
			checkNoShm(t, cmd.Process.Pid)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "the other process") {
				t.Fatalf("err = %v, stderr %q: want status 1 blaming the other process", err, stderr.String())
			}
		})
	}
}

// waitForChild returns the pid of pid's child once it has one that has
// been running a little while (so it is past its setup).
func waitForChild(t *testing.T, pid int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if f := strings.Fields(string(b)); len(f) > 0 {
			child, _ := strconv.Atoi(f[0])
			time.Sleep(200 * time.Millisecond)
			return child
		}
		time.Sleep(10 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("straight %d started no child in 10 s", pid)
	return 0
}
