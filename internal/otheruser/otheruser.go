// Package otheruser is the tests' second user: the uid whose objects,
// connections and listeners an end must refuse, and the commands run as
// it. Switching to it needs root; without root the tests that need it
// skip.
package otheruser

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// UID is the other user's uid (and gid): nobody's on Debian and most
// distributions.
const UID = 65534

// Need skips tb unless this process can act as the other user.
func Need(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skipf("needs root: the other user is uid %d", UID)
	}
}

// Command is name run as the other user, in /, killed if this process
// dies. It skips tb without root, and when name is not found.
func Command(tb testing.TB, name string, args ...string) *exec.Cmd {
	tb.Helper()
	Need(tb)
	path, err := exec.LookPath(name)
	if err != nil {
		tb.Skipf("%s not found: it plays the other user", name)
	}
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: UID, Gid: UID}, Pdeathsig: syscall.SIGKILL}
	cmd.Dir = "/" // a directory the other user can enter
	return cmd
}

// Python starts program in /usr/bin/python3 (a path the other user can
// run) as the other user and returns the first line it prints; it fails
// tb if none comes within 20 s. The program is killed at the end of the
// test.
func Python(tb testing.TB, program string, args ...string) string {
	tb.Helper()
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		tb.Skip(py + " not found: it plays the other user")
	}
	cmd := Command(tb, py, append([]string{"-c", program}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		if l == "" {
			tb.Fatalf("the other user's program said nothing: %s", stderr.String())
		}
		return l
	case <-time.After(20 * time.Second):
		tb.Fatalf("the other user's program said nothing within 20 s: %s", stderr.String())
	}
	return ""
}
