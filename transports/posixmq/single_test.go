package posixmq

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// TestSingleQueue: posixmq:/NAME,single is the queue /NAME itself, one
// way (openers send, the creator receives), holding nothing but the
// messages: a raw mq_receive on it sees exactly what was sent.
func TestSingleQueue(t *testing.T) {
	name := NewName()
	c, err := CreateSingle(name, Options{Depth: 4, MsgSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Addr().String(); got != "posixmq:"+name+",single" {
		t.Fatalf("Addr %s", got)
	}
	o, err := Open(c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, m := range []struct {
		text string
		prio uint
	}{{"baja", 1}, {"alta", 9}} {
		if err := o.SendPriority([]byte(m.text), m.prio); err != nil {
			t.Fatal(err)
		}
	}
	// The queue is /NAME, and holds the two messages and nothing else
	// (no open marker).
	fd, err := sysipc.MqOpen(name, unix.O_RDONLY|unix.O_NONBLOCK, 0, nil)
	if err != nil {
		t.Fatalf("mq_open(%s): %v", name, err)
	}
	attr, _ := sysipc.MqGetsetattr(fd, nil)
	unix.Close(fd)
	if attr.Curmsgs != 2 {
		t.Fatalf("%s holds %d messages, want the 2 sent", name, attr.Curmsgs)
	}
	buf := make([]byte, 64)
	n, prio, err := c.RecvPriority(buf)
	if err != nil || prio != 9 || string(buf[:n]) != "alta" {
		t.Fatalf("first: %q prio %d, %v; want alta at 9", buf[:n], prio, err)
	}
	if err := c.Send([]byte("x")); err == nil || !strings.Contains(err.Error(), "one way") {
		t.Fatalf("creator's Send: %v; want the one-way error", err)
	}
	if _, err := o.Recv(buf); err == nil || !strings.Contains(err.Error(), "one way") {
		t.Fatalf("opener's Recv: %v; want the one-way error", err)
	}
	c.Close()
	if _, err := sysipc.MqOpen(name, unix.O_RDONLY, 0, nil); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("after the creator's Close, mq_open(%s): %v; want ENOENT", name, err)
	}
}
