package testmain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envWatchdogChild makes TestWatchdogFires and TestCmdWatchdogKills the
// hanging test itself, in a child: the watchdog's panic ends the binary.
const envWatchdogChild = "TESTMAIN_WATCHDOG_CHILD"

// runChild runs this test binary's test named test as the hanging child and
// returns its combined output; the child must fail.
func runChild(t *testing.T, test string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Not a timing assertion: only a bound on a child that should end in
	// milliseconds, so a watchdog that never fires fails here, not in CI's
	// -timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run", "^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), envWatchdogChild+"=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the child's watchdog never fired; output:\n%s", out)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v, want a failed exit; output:\n%s", err, out)
	}
	return string(out)
}

// parked blocks until ch is closed: a goroutine other than the test's and
// the watchdog's, which the dump must show.
func parked(ch chan struct{}) { <-ch }

// TestWatchdogFires: a test still running past its limit ends the binary,
// and the output names the test and the limit and holds every goroutine's
// stack (the parked helper's too, not only the panicking timer's).
func TestWatchdogFires(t *testing.T) {
	if os.Getenv(envWatchdogChild) != "" {
		ch := make(chan struct{})
		go parked(ch)
		Watchdog(t, 50*time.Millisecond)
		<-ch // never closed: the hang
		return
	}
	out := runChild(t, "TestWatchdogFires")
	for _, want := range []string{"watchdog: TestWatchdogFires still running after 50ms", "goroutine ", "testmain.parked("} {
		if !strings.Contains(out, want) {
			t.Errorf("child's output lacks %q:\n%s", want, out)
		}
	}
}

// TestCmdWatchdogKills: a test still waiting on a command past its limit
// kills the command and ends the binary, naming the test, the command
// and the limit with every goroutine's stack.
func TestCmdWatchdogKills(t *testing.T) {
	if os.Getenv(envWatchdogChild) != "" {
		cmd := exec.Command("sleep", "300")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("sleep pid %d\n", cmd.Process.Pid)
		CmdWatchdog(t, cmd, 50*time.Millisecond)
		cmd.Wait()
		select {} // as a test that waits on more than the command
	}
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep command")
	}
	out := runChild(t, "TestCmdWatchdogKills")
	for _, want := range []string{"watchdog: TestCmdWatchdogKills: sleep 300 (pid ", "killed) still running after 50ms", "goroutine "} {
		if !strings.Contains(out, want) {
			t.Errorf("child's output lacks %q:\n%s", want, out)
		}
	}
	m := regexp.MustCompile(`sleep pid (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("child did not say its sleep's pid:\n%s", out)
	}
	pid, _ := strconv.Atoi(m[1])
	// Killed, it is gone or a zombie left for init to reap; alive, it
	// would sleep five minutes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscallKill(pid)
			t.Fatalf("the child's sleep %d is still running: the watchdog did not kill it", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWatchdogStoppedAtEnd: a test that ends in time stops its
// watchdog, which would otherwise end this binary while it sleeps here.
func TestWatchdogStoppedAtEnd(t *testing.T) {
	t.Run("quick", func(t *testing.T) {
		Watchdog(t, 20*time.Millisecond)
		c := exec.Command("true")
		if err := c.Start(); err != nil {
			t.Skip("no true command")
		}
		CmdWatchdog(t, c, 20*time.Millisecond)
		c.Wait()
	})
	time.Sleep(100 * time.Millisecond)
}

func syscallKill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}
