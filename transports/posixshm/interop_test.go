package posixshm

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/ctest"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/shmchan"
)

// devShmEmpty fails the test if anything is left in /dev/shm (the test
// binary's own: TestMain mounts it).
func devShmEmpty(t *testing.T, when string) {
	t.Helper()
	left, _ := filepath.Glob("/dev/shm/*")
	if len(left) > 0 {
		t.Errorf("%s: /dev/shm still holds %v", when, left)
	}
}

func cProgram(t *testing.T) string {
	return ctest.Build(t, "testdata/cshm.c", "-pthread", "-lrt")
}

// TestCOpener: Go creates a posixsem channel in a 4 KiB ring, a C program
// using shm_open, sem_wait and sem_post attaches and echoes every message;
// messages of every length up to 1000 bytes wrap the ring and make both
// sides wait for room and for data.
func TestCOpener(t *testing.T) {
	testmain.Watchdog(t, 2*time.Minute)
	prog := cProgram(t)
	const n = 3000
	c, err := Create(NewName(), shmchan.Config{Strategy: shmchan.PosixSem, RingSize: 4096, MaxMessage: 1500})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := exec.Command(prog, "open", c.Addr().(Addr).Name, fmt.Sprint(n))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	msg := func(i int) string { return fmt.Sprintf("%d:%s", i, strings.Repeat("x", i%1000)) }
	sent := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if err := c.Send([]byte(msg(i))); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	// cOut is what the C program said, once it has stopped: out is written
	// by os/exec's copying goroutine until Wait returns.
	cOut := func() string {
		cmd.Process.Kill()
		cmd.Wait()
		return out.String()
	}
	buf := make([]byte, 2048)
	for i := 0; i < n; i++ {
		k, err := c.Recv(buf)
		if err != nil {
			t.Fatalf("reply %d: %v (C: %s)", i, err, cOut())
		}
		if want := "echo: " + msg(i); string(buf[:k]) != want {
			t.Fatalf("reply %d is %.40q..., want %.40q...", i, buf[:k], want)
		}
		if i == 1 {
			// This Recv began after the first reply, so after the opener
			// attached: the creator has seen it, and every name is gone
			// while the channel works on.
			devShmEmpty(t, "after the second reply")
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), fmt.Sprintf("echoed %d", n)) {
		t.Fatalf("C opener: %v: %s", err, out.String())
	}
	if _, err := c.Recv(buf); !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("Recv after the C side set its closed flag: %v, want ErrPeerGone", err)
	}
}

// TestCCreator: a C program creates the object and its semaphores with
// shm_open and sem_open; Go opens them by name and answers every message.
func TestCCreator(t *testing.T) {
	testmain.Watchdog(t, 2*time.Minute)
	prog := cProgram(t)
	const n = 1500
	name := NewName()
	cmd := exec.Command(prog, "create", name, fmt.Sprint(n))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// cErr is what the C program said on stderr, once it has stopped:
	// os/exec's copying goroutine writes stderr until Wait returns.
	cErr := func() string {
		cmd.Process.Kill()
		cmd.Wait()
		return stderr.String()
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("C creator said %q: %s", lines.Text(), cErr())
	}
	st, err := os.Stat("/dev/shm/sem." + name[1:] + "-f0")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("C's semaphore: %v, %v", st, err)
	}
	o, err := Open(Scheme+":name="+name+",wait=posixsem", shmchan.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	o.SetDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 4096)
	for i := 0; i < n; i++ {
		k, err := o.Recv(buf)
		if err != nil {
			t.Fatalf("message %d: %v (C: %s)", i, err, cErr())
		}
		if want := fmt.Sprintf("hello %d", i); string(buf[:k]) != want {
			t.Fatalf("message %d is %q, want %q", i, buf[:k], want)
		}
		if err := o.Send(append([]byte("echo: "), buf[:k]...)); err != nil {
			t.Fatal(err)
		}
	}
	if !lines.Scan() || lines.Text() != fmt.Sprintf("checked %d", n) {
		t.Fatalf("C creator ended with %q: %s", lines.Text(), cErr())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("C creator: %v: %s", err, stderr.String())
	}
	if _, err := o.Recv(buf); !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("Recv after the C creator closed: %v, want ErrPeerGone", err)
	}
	devShmEmpty(t, "after the C creator unlinked its names")
}
