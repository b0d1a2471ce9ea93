package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/internal/leakcheck"
)

const envMain = "IPCLAB_TEST_RUN_MAIN"

// TestMain lets the test binary play the ipclab command, so the tests run
// the real CLI, peers and all, under the leak check.
func TestMain(m *testing.M) {
	if os.Getenv(envMain) == "1" {
		main()
		os.Exit(0)
	}
	leakcheck.Main(m)
}

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), envMain+"=1")
	cmd.Stdin = strings.NewReader(stdin)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestBenchRunsEveryTransport(t *testing.T) {
	out, errOut, code := runCLI(t, "", "bench", "-n", "300", "-warmup", "20")
	if code != 0 {
		t.Fatalf("bench exit %d: %s", code, errOut)
	}
	for _, name := range []string{"pipe", "fifo", "sysvmsg", "posixmq", "sysvshm-futex", "sysvshm-sysvsem", "sysvshm-spin"} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 4 && f[0] == name && f[2] == "300" {
				found = true
			}
		}
		if !found {
			t.Errorf("no 300-round-trip row for %s in:\n%s", name, out)
		}
	}
}

func TestBenchReportsSizeBeyondLimit(t *testing.T) {
	out, _, code := runCLI(t, "", "bench", "-transports", "sysvmsg", "-size", "100000", "-n", "10")
	if code != 0 || !strings.Contains(out, "skipped") || !strings.Contains(out, "100000") {
		t.Fatalf("a size beyond kernel.msgmax: exit %d\n%s; want a skipped row naming the size", code, out)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frob"}, 2, `unknown command "frob"`},
		{nil, 2, "usage"},
		{[]string{"send", "bogus:x"}, 1, "unknown transport bogus"},
		{[]string{"send", "sysvmsg:key=zz"}, 1, "key must be"},
		{[]string{"send", "posixmq:/ipclab-nothing-here"}, 1, "no POSIX message queue"},
		{[]string{"send"}, 1, "want one address"},
		{[]string{"bench", "-n", "0"}, 1, "-n >= 1"},
		{[]string{"bench", "-nope"}, 1, "flag provided but not defined"},
	}
	for _, c := range cases {
		_, errOut, code := runCLI(t, "", c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("ipclab %q: exit %d, stderr %q; want exit %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestSendRecvTwoProcesses(t *testing.T) {
	exe, _ := os.Executable()
	addr := "posixmq:/ipclab-cli-test"
	recv := exec.Command(exe, "recv", addr)
	recv.Env = append(os.Environ(), envMain+"=1")
	var out strings.Builder
	recv.Stdout = &out
	errPipe, _ := recv.StderrPipe()
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 256)
	n, _ := errPipe.Read(line) // "waiting on ..." once the channel exists
	if !strings.Contains(string(line[:n]), "waiting on "+addr) {
		t.Fatalf("recv said %q", line[:n])
	}
	if _, errOut, code := runCLI(t, "uno\ndos\n", "send", addr); code != 0 {
		t.Fatalf("send: exit %d: %s", code, errOut)
	}
	recv.Process.Signal(os.Interrupt) // Ctrl-C: recv must remove its queues
	if err := recv.Wait(); err != nil {
		t.Fatalf("recv after Ctrl-C: %v", err)
	}
	if out.String() != "uno\ndos\n" {
		t.Fatalf("recv printed %q", out.String())
	}
}
