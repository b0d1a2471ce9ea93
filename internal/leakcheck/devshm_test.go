package leakcheck

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// envDevShmLeak makes TestLeaveDevShmFile leave a file in the private
// /dev/shm, which the leak check must report.
const envDevShmLeak = "IPCLAB_LEAKCHECK_TEST_DEVSHM"

func TestLeaveDevShmFile(t *testing.T) {
	if os.Getenv(envDevShmLeak) != "1" {
		t.Skip("run by TestDevShmLeakFailsTheRun in a child")
	}
	if !devShmPrivate {
		t.Fatal("no private /dev/shm in the child")
	}
	if err := os.WriteFile("/dev/shm/ipclab-leaked-object", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDevShmLeakFailsTheRun: a test binary with a private /dev/shm fails
// when a test leaves a file there, and names it; the same binary whose
// tests leave nothing passes.
func TestDevShmLeakFailsTheRun(t *testing.T) {
	if os.Getenv(envPrivate) != "1" {
		t.Skip("needs the private namespaces (root) that give a test binary its own /dev/shm")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := func(test string) (string, int) {
		// A fresh run: not private yet, so it makes its own namespaces
		// and mount, as go test would.
		cmd := exec.Command(exe, "-test.run", "^"+test+"$")
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, envPrivate+"=") && !strings.HasPrefix(kv, envTmp+"=") && !strings.HasPrefix(kv, envMqDir+"=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, envDevShmLeak+"=1")
		out := runWithWatchdog(t, cmd, time.Minute)
		return out, cmd.ProcessState.ExitCode()
	}
	out, code := run("TestLeaveDevShmFile")
	if code != 1 || !strings.Contains(out, "posixshm /ipclab-leaked-object") {
		t.Fatalf("a test that left /dev/shm/ipclab-leaked-object: exit %d, want 1 and the file named:\n%s", code, out)
	}
	if out, code := run("TestNothing"); code != 0 {
		t.Fatalf("a test that left nothing in /dev/shm: exit %d, want 0:\n%s", code, out)
	}
	if _, err := os.Stat("/dev/shm/ipclab-leaked-object"); err == nil {
		t.Fatal("the child's file is in this process's /dev/shm: its mount was not private")
	}
}
