package pipe

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/reclaim"
)

// TestHeldSendUnderDeadline: a held Send under a write deadline that has
// not passed still makes its held attempt (the harness sets a deadline
// on every case, and a set deadline used to send every write through
// os.File, so the held rows held only the reads); past the deadline a
// Send fails with ErrTimeout and writes nothing, though the pipe has
// room.
func TestHeldSendUnderDeadline(t *testing.T) {
	c, files, err := Create(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, f := range files {
		defer f.Close()
	}
	if err := c.HoldWaits(true); err != nil {
		t.Skip(err)
	}
	c.SetWriteDeadline(time.Now().Add(time.Hour))
	if err := c.Send([]byte("held")); err != nil {
		t.Fatal(err)
	}
	if c.wheld.file == nil {
		t.Fatal("a held Send under a deadline an hour ahead went through os.File: its write was not held")
	}
	c.SetWriteDeadline(time.Now().Add(-time.Second))
	if err := c.Send([]byte("late")); !errors.Is(err, ipclab.ErrTimeout) {
		t.Fatalf("a held Send past its write deadline: %v, want ErrTimeout", err)
	}
	c.Close() // the child's read end then reads to end of file
	got, err := io.ReadAll(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(got, []byte("held")) || bytes.Contains(got, []byte("late")) {
		t.Fatalf("the pipe carried %q: want the one frame sent before the deadline", got)
	}
}

// TestClosedConnLetsGo: a write deadline far ahead does not keep a
// closed end reachable (the held attempt's deadline timer would, until
// it fires, and with it the end's buffers).
func TestClosedConnLetsGo(t *testing.T) {
	c, files, err := Create(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		defer f.Close()
	}
	c.SetDeadline(time.Now().Add(time.Hour))
	c.Close()
	gone := reclaim.Watch(c)
	c = nil
	gone(t, "a deadline's timer holds it")
}
