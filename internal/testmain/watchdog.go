package testmain

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Watchdog ends the test binary with a panic that names tb and d and holds
// every goroutine's stack if tb is still running after d; the end of tb
// stops it. A hang is then a failure that shows where each goroutine
// waited, not a CI job stuck until go test's -timeout (which names no
// test until then). It panics rather than calling tb.Fatal because the
// goroutine that hangs is the test's own, which nothing else can unblock.
func Watchdog(tb testing.TB, d time.Duration) {
	name := tb.Name()
	timer := time.AfterFunc(d, func() {
		panic(fmt.Sprintf("watchdog: %s still running after %v; goroutines:\n%s", name, d, allStacks()))
	})
	tb.Cleanup(func() { timer.Stop() })
}

// CmdWatchdog is Watchdog for a test that waits on cmd, which must have
// been started: after d it kills cmd's process first, so no orphan outlives
// the panic, and names cmd's arguments too. Stop the returned timer once
// cmd has ended; the end of tb stops it as well.
func CmdWatchdog(tb testing.TB, cmd *exec.Cmd, d time.Duration) *time.Timer {
	name := tb.Name()
	timer := time.AfterFunc(d, func() {
		cmd.Process.Kill()
		panic(fmt.Sprintf("watchdog: %s: %s (pid %d, killed) still running after %v; goroutines:\n%s",
			name, strings.Join(cmd.Args, " "), cmd.Process.Pid, d, allStacks()))
	})
	tb.Cleanup(func() { timer.Stop() })
	return timer
}

// allStacks is every goroutine's stack, in a buffer grown until it fits
// (up to 64 MiB, then cut).
func allStacks() []byte {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 64<<20 {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}
