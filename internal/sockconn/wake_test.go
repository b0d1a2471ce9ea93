package sockconn

import (
	"errors"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testmain.Main(m) }

var testCfg = Config{Kind: Datagram, Limit: Limit{Max: 1024, Name: "test"}}

// closedEnd returns the number of the wake eventfd of an end that has
// been closed: a number the process may hand out again at once.
func closedEnd(t *testing.T) (*Conn, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fds[1])
	c, err := New(fds[0], testCfg)
	if err != nil {
		t.Fatal(err)
	}
	w := c.wakeFD
	c.Close()
	return c, w
}

// TestWakeAfterCloseWritesNothing: a wake-up of a closed end (its peer
// watch fired as Close stopped it, or SetReadDeadline after Close) must
// not write to the number its wake eventfd had, which the next eventfd
// or socket the process makes takes over.
func TestWakeAfterCloseWritesNothing(t *testing.T) {
	c, w := closedEnd(t)
	// The lowest free number goes first: make eventfds until one is w.
	var made []int
	defer func() {
		for _, fd := range made {
			unix.Close(fd)
		}
	}()
	reused := -1
	for range 1000 {
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, fd)
		if fd == w {
			reused = fd
			break
		}
	}
	if reused < 0 {
		t.Fatalf("descriptor %d was not handed out again within 1000 eventfds", w)
	}
	c.SetReadDeadline(time.Now()) // a wake-up of the closed end
	c.wake()                      // as its peer watch's callback makes
	var b [8]byte
	if n, err := unix.Read(reused, b[:]); err != unix.EAGAIN {
		t.Fatalf("the closed end wrote to descriptor %d, which it had released and another eventfd now holds: read %d bytes %v, %v; want EAGAIN (nothing written)", w, n, b[:n], err)
	}
}

// TestStaleWakeLeavesAnotherAcceptLoop: the failure the stale write made
// (unixsock-dgram under go test -race in CI): the closed end's wake
// number had become the next creator's stopFD, so the write stopped that
// creator's accept loop; its opener's hello went unanswered, and Send
// and Recv waited for a connection that never came. Here the reuse is
// forced with dup3 (the number names the new end's stop eventfd, as
// when the allocation handed it out), then the creator must still take
// its opener and deliver its message.
func TestStaleWakeLeavesAnotherAcceptLoop(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	// The accept of a socketpair: the hello says the opener is there.
	accept := func(lfd int) (Peer, error) {
		var b [1]byte
		if n, err := unix.Read(lfd, b[:]); err != nil {
			return Peer{}, err
		} else if n != 1 || b[0] != pktHello {
			return Peer{}, ErrNotThisOne
		}
		return Peer{FD: lfd}, nil
	}
	c, err := Listen(fds[0], testCfg, accept)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old, w := closedEnd(t) // after Listen, which would take w itself
	if err := unix.Dup3(c.stopFD, w, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(w)
	old.SetReadDeadline(time.Now()) // the stale wake-up
	if _, err := unix.Write(fds[1], []byte{pktHello}); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fds[1], []byte{'x', pktData}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a backstop
	buf := make([]byte, 8)
	n, err := c.Recv(buf)
	if errors.Is(err, ipclab.ErrTimeout) {
		t.Fatal("the creator never took its opener: a closed end's wake-up stopped its accept loop")
	}
	if err != nil || string(buf[:n]) != "x" {
		t.Fatalf("recv: %q, %v; want \"x\"", buf[:n], err)
	}
}
