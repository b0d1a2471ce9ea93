package sockconn

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// epollTargets returns the descriptors registered in every epoll instance
// of this process (/proc/self/fdinfo of each anon_inode:[eventpoll]):
// Go's poller's among them.
func epollTargets(t *testing.T) map[int]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[int]bool{}
	for _, e := range ents {
		if link, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err != nil || link != "anon_inode:[eventpoll]" {
			continue
		}
		f, err := os.Open(filepath.Join("/proc/self/fdinfo", e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "tfd:"); ok {
				if n, err := strconv.Atoi(strings.Fields(rest)[0]); err == nil {
					targets[n] = true
				}
			}
		}
		f.Close()
	}
	return targets
}

// TestSocketStaysOutOfGoPoller: an end's socket is not in Go's poller
// (nor any epoll set), with messages sent both ways and a Send that had
// to wait for room. In the poller's epoll set, every message that arrived
// woke the runtime's idle thread: two more context switches a message.
func TestSocketStaysOutOfGoPoller(t *testing.T) {
	// Something in Go's poller, so that its epoll instance exists and a
	// registered socket would show.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if !epollTargets(t)[int(r.Fd())] && !epollTargets(t)[int(w.Fd())] {
		r.SetReadDeadline(time.Now().Add(time.Hour)) // registers it, where Fd() did not
	}

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	sndbuf, err := unix.GetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 2*sndbuf) // more than the socket takes at once
	cfg := Config{Kind: Stream, Limit: Limit{Max: len(big), Name: "test"}}
	a, err := New(fds[0], cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(fds[1], cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	outOfEpoll(t, "once made", a, b)
	a.SetDeadline(time.Now().Add(time.Minute))
	b.SetDeadline(time.Now().Add(time.Minute))

	// Fill a's send side, so that a Send waits for room (made sure of:
	// nobody reads until it does), then drain it.
	sent := make(chan error, 1)
	go func() { sent <- a.Send(big) }()
	waitParked(t, "[syscall", "sockconn.(*Conn).writeWait")
	buf := make([]byte, len(big))
	if n, err := b.Recv(buf); err != nil || n != len(big) {
		t.Fatalf("recv: %d, %v", n, err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := b.Send([]byte("back")); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Recv(buf); err != nil || string(buf[:n]) != "back" {
		t.Fatalf("recv: %q, %v", buf[:n], err)
	}

	outOfEpoll(t, "after the exchange", a, b)
}

// outOfEpoll fails the test if the socket of any of ends is in an epoll set.
func outOfEpoll(t *testing.T, when string, ends ...*Conn) {
	t.Helper()
	targets := epollTargets(t)
	if len(targets) == 0 {
		t.Fatal("no epoll instance lists any descriptor: the check below would prove nothing")
	}
	for _, c := range ends {
		if targets[c.fd] {
			t.Errorf("%s, socket %d is in an epoll set (Go's poller): every message it gets wakes a runtime thread", when, c.fd)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}
