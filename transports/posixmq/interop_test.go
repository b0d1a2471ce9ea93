package posixmq

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/ctest"
	"github.com/ipclab/ipclab/internal/kernlimits"
)

// TestCInterop: a C process opens the queues Go created and the two
// exchange a message each way, with priorities.
func TestCInterop(t *testing.T) {
	prog := ctest.Build(t, "testdata/cmq.c", "-lrt")
	c, err := Create(NewName(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendPriority([]byte("hello from Go"), 7); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(prog, c.addr.Name).CombinedOutput()
	if err != nil {
		t.Fatalf("C peer: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "got 13 bytes at priority 7: hello from Go") {
		t.Fatalf("C peer printed %q", out)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, prio, err := c.RecvPriority(buf)
	if err != nil || string(buf[:n]) != "hello from C" || prio != 3 {
		t.Fatalf("reply from C: %q at priority %d, %v", buf[:n], prio, err)
	}
}

func TestPriorityOrder(t *testing.T) {
	c, err := Create(NewName(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Our own queue to ourselves: open the opener's end in this process;
	// order is a property of the kernel queue, not of the processes.
	o, err := Open(c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, p := range []uint{1, 9, 5, 9} {
		if err := c.SendPriority([]byte{byte(p)}, p); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 8)
	for _, want := range []uint{9, 9, 5, 1} {
		n, p, err := o.RecvPriority(buf)
		if err != nil || n != 1 || p != want {
			t.Fatalf("got priority %d (%d bytes, %v), want %d", p, n, err, want)
		}
	}
}

func TestLimitsAreNamed(t *testing.T) {
	max, err := kernlimits.Int("fs.mqueue.msg_max")
	if err != nil {
		t.Skip(err)
	}
	_, err = Create(NewName(), Options{Depth: max + 1})
	var le *ipclab.LimitError
	if !errors.As(err, &le) || le.Name != "fs.mqueue.msg_max" || le.Limit != max || !strings.Contains(err.Error(), "sysctl -w fs.mqueue.msg_max") {
		t.Fatalf("depth %d: %v; want a LimitError naming fs.mqueue.msg_max=%d and how to raise it", max+1, err, max)
	}
	size, _ := kernlimits.Int("fs.mqueue.msgsize_max")
	_, err = Create(NewName(), Options{MsgSize: size + 1})
	if !errors.As(err, &le) || le.Name != "fs.mqueue.msgsize_max" {
		t.Fatalf("message size %d: %v; want a LimitError naming fs.mqueue.msgsize_max", size+1, err)
	}
}
