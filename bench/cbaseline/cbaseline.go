// Package cbaseline builds and runs ipcbench (c/ipcbench.c), the harness's
// ping-pong and streaming written in plain C over the same kernel
// mechanisms, so every Go figure can stand beside the mechanism's cost
// without Go's runtime. The source is embedded, so an installed ipclab
// can build it too; the program is cached by the hash of its source.
package cbaseline

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ipclab/ipclab/record"
)

//go:embed c/ipcbench.c
var source []byte

// ErrNoCompiler is returned by Build when gcc is not on PATH.
var ErrNoCompiler = errors.New("gcc not found, so there is no C baseline (install it: apt-get install gcc)")

// Build compiles ipcbench with gcc into a cache directory under dir (the
// user's cache when dir is empty) unless the same source was built there
// already, and returns the program's path and gcc's version line.
func Build(dir string) (prog, compiler string, err error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", "", ErrNoCompiler
	}
	v, err := exec.Command(gcc, "--version").Output()
	if err != nil {
		return "", "", fmt.Errorf("gcc --version: %w", err)
	}
	compiler, _, _ = strings.Cut(string(v), "\n")
	if dir == "" {
		if dir, err = os.UserCacheDir(); err != nil {
			dir = os.TempDir()
		}
	}
	h := sha256.New()
	h.Write(source)
	h.Write([]byte(compiler))
	dir = filepath.Join(dir, "ipclab", "cbaseline-"+hex.EncodeToString(h.Sum(nil))[:16])
	prog = filepath.Join(dir, "ipcbench")
	if _, err := os.Stat(prog); err == nil {
		return prog, compiler, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	src := filepath.Join(dir, "ipcbench.c")
	if err := os.WriteFile(src, source, 0o644); err != nil {
		return "", "", err
	}
	// Build under a temporary name and rename, so a concurrent or killed
	// build never leaves a half-written program in the cache.
	tmp := fmt.Sprintf("%s.%d", prog, os.Getpid())
	if out, err := exec.Command(gcc, "-O2", "-Wall", "-Werror", "-o", tmp, src, "-lrt", "-pthread").CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", "", fmt.Errorf("gcc ipcbench.c: %v\n%s", err, out)
	}
	return prog, compiler, os.Rename(tmp, prog)
}

// Result is ipcbench's report of one case.
type Result struct {
	Mechanism    string      `json:"mechanism"`
	Mode         string      `json:"mode"`
	Waits        Waits       `json:"waits"`
	Size         int         `json:"size"`
	Count        int         `json:"count"`
	Warmup       int         `json:"warmup"`
	RingBytes    int         `json:"ring_bytes"` // shared memory: each direction's ring (shmchan.RingSizeFor's rule)
	Sender       record.Cost `json:"sender"`     // its totals; one thread, one CPU (where it ran last)
	Receiver     record.Cost `json:"receiver"`
	FirstSendNs  int64       `json:"first_send_ns"` // CLOCK_MONOTONIC at the first measured send
	FirstNs      int64       `json:"first_ns"`      // ... the receiver's first measured message
	LastNs       int64       `json:"last_ns"`       // ... its last
	Bytes        uint64      `json:"bytes"`         // throughput: bytes the receiver summed
	Sum          uint64      `json:"sum"`           // ... and their checksum
	Confirmation string      `json:"confirmation"`  // what the sender got back through the channel
	RTTNs        []float64   `json:"rtt_ns"`
	OneWayNs     []float64   `json:"one_way_ns"`

	// EmptyTries are the sender's and the receiver's calls that found the
	// object not ready (poll waits; blocking, 0). Each was followed by a
	// wait; a wait (PollWaits) with none before it was asked first, as
	// the Go ends' pipe, fifo and posixmq receives do after a wait.
	EmptyTries [2]int64 `json:"empty_tries"`
}

// LimitError says a message size is beyond a kernel limit; ipcbench names
// it and how to raise it.
type LimitError struct{ Reason string }

func (e *LimitError) Error() string { return e.Reason }

// Args are one case: the mechanism (see transports.Caps.CMechanism), "latency" or
// "throughput", sizes and counts as the Go harness uses them, the
// CPUs to pin the sender and receiver to (-1: none), and how a call that
// would block waits.
type Args struct {
	Mechanism, Mode        string
	Size, Count, Warmup    int
	SenderCPU, ReceiverCPU int
	Waits                  Waits
}

// Waits is how ipcbench's calls that would block wait.
type Waits string

const (
	// Block makes the blocking call, as a plain C program does (the
	// zero Waits means Block).
	Block Waits = "block"
	// Poll waits in ppoll(2) on the object and an eventfd after a
	// non-blocking call found it not ready, as ipclab's Go ends wait so
	// that Close and deadlines can stop them. Only the mechanisms with a
	// descriptor (Polls) have it.
	Poll Waits = "poll"
)

// Polls says whether ipcbench's mechanism mech can wait with Poll: it
// waits on a descriptor (pipe, fifo, posixmq, the sockets, and the
// eventfds of posixshm-eventfd). The others (System V objects, futexes,
// semaphores, spinning) wait the same way in C and in Go.
func Polls(mech string) bool {
	switch mech {
	case "pipe", "fifo", "posixmq", "unix-stream", "unix-seqpacket", "unix-dgram", "tcp", "posixshm-eventfd":
		return true
	}
	return false
}

// Run runs one case of prog. Cancelling ctx sends SIGTERM, on which
// ipcbench removes its objects before it exits.
func Run(ctx context.Context, prog string, a Args) (*Result, error) {
	if a.Waits == "" {
		a.Waits = Block
	}
	if a.Waits == Poll && !Polls(a.Mechanism) {
		return nil, fmt.Errorf("ipcbench %s has no descriptor to wait for in ppoll", a.Mechanism)
	}
	cmd := exec.CommandContext(ctx, prog, a.Mechanism, a.Mode, strconv.Itoa(a.Size), strconv.Itoa(a.Count),
		strconv.Itoa(a.Warmup), strconv.Itoa(a.SenderCPU), strconv.Itoa(a.ReceiverCPU), string(a.Waits))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	// Its own process group, so a Ctrl-C at the terminal reaches only the
	// harness, which cancels ctx: the case is then stopped, not failed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	msg := strings.TrimSpace(stderr.String())
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		return nil, &LimitError{msg}
	case err != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, fmt.Errorf("ipcbench %s %s %d: %v: %s", a.Mechanism, a.Mode, a.Size, err, msg)
	}
	var r Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("ipcbench's report: %w", err)
	}
	if r.Mechanism != a.Mechanism || r.Mode != a.Mode || r.Size != a.Size || r.Count != a.Count || r.Waits != a.Waits {
		return nil, fmt.Errorf("ipcbench reported %s %s %d x %d, %s waits, for %s %s %d x %d, %s waits",
			r.Mechanism, r.Mode, r.Size, r.Count, r.Waits, a.Mechanism, a.Mode, a.Size, a.Count, a.Waits)
	}
	if a.Mode == record.Latency && len(r.RTTNs) != record.RTTSamples(a.Count) {
		return nil, fmt.Errorf("ipcbench reported %d round trips, want %d of %d (record.OneWayEvery and ipcbench's ONE_WAY_EVERY must agree)",
			len(r.RTTNs), record.RTTSamples(a.Count), a.Count)
	}
	return &r, nil
}
