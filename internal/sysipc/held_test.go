package sysipc

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestCanHold: without asynchronous preemption nothing stops a held wait,
// so holding is refused; otherwise it is allowed.
func TestCanHold(t *testing.T) {
	for _, c := range []struct {
		godebug string
		ok      bool
	}{{"", true}, {"asyncpreemptoff=0", true}, {"asyncpreemptoff=1", false}, {"gctrace=1, asyncpreemptoff=1", false}, {"asyncpreemptoff=1,asyncpreemptoff=0", true}} {
		t.Setenv("GODEBUG", c.godebug)
		if err := CanHold(); (err == nil) != c.ok {
			t.Errorf("GODEBUG=%q: CanHold() = %v, want ok %v", c.godebug, err, c.ok)
		}
	}
}

// TestSendmsgRecvmsg: the socket calls, held and not, pass their message
// header through: two iovecs go out as one packet, a receive too small
// for it reports its whole length and MSG_TRUNC, and an empty socket
// says EAGAIN rather than waiting.
func TestSendmsgRecvmsg(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	iovec := func(b []byte) unix.Iovec {
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		return v
	}
	for _, c := range []Calls{{}, {Held: true}} {
		out := [2]unix.Iovec{iovec([]byte("head")), iovec([]byte("payload"))}
		msg := unix.Msghdr{Iov: &out[0]}
		msg.SetIovlen(2)
		if n, err := c.Sendmsg(fds[0], &msg, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL); n != 11 || err != nil {
			t.Fatalf("held %v: Sendmsg = %d, %v; want 11 bytes", c.Held, n, err)
		}
		buf := make([]byte, 6)
		in := iovec(buf)
		msg = unix.Msghdr{Iov: &in}
		msg.SetIovlen(1)
		n, err := c.Recvmsg(fds[1], &msg, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		if n != 11 || err != nil || msg.Flags&unix.MSG_TRUNC == 0 || string(buf) != "headpa" {
			t.Fatalf("held %v: Recvmsg = %d, %v, flags %#x, %q; want 11, MSG_TRUNC, \"headpa\"", c.Held, n, err, msg.Flags, buf)
		}
		if _, err := c.Recvmsg(fds[1], &msg, unix.MSG_DONTWAIT); err != unix.EAGAIN {
			t.Fatalf("held %v: Recvmsg on an empty socket: %v, want EAGAIN", c.Held, err)
		}
	}
}
