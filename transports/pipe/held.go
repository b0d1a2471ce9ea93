package pipe

import (
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// HoldWaits makes Recv's reads and waits, and Send's writes, keep their
// thread and P (ipclab.WaitHolder). A write that finds the pipe full, or
// comes after the write deadline, goes on through os.File and Go's
// poller: only calls that return on a signal may block held
// (sysipc.Calls), and the poller is what fails a write past its deadline.
// So do frames too large for one write (header and payload beyond the 64
// KiB write buffer): they are never held.
func (c *Conn) HoldWaits(on bool) error { return c.hold.Set(on) }

func (c *Conn) calls() sysipc.Calls { return c.hold.Calls() }

// heldWrite is the descriptor a held write uses: w's, taken once.
type heldWrite struct {
	file *os.File
	fd   int
}

// fdGate keeps a descriptor open while held writes use it, in place of
// RawConn.Control's reference, which with its closure cost a 64-byte
// stream on one CPU about a tenth of its time (scripts/pipestream,
// ipclab-held/c). Each write enters and leaves with one atomic add; Close
// shuts the gate and waits for the write inside, which cannot block (the
// descriptor is non-blocking), before it closes the file.
type fdGate struct{ n atomic.Int64 }

const gateShut = 1 << 62

func (g *fdGate) enter() bool {
	if g.n.Add(1)&gateShut != 0 {
		g.n.Add(-1)
		return false
	}
	return true
}

func (g *fdGate) leave() { g.n.Add(-1) }

// shut turns every later enter away and returns once no write is inside.
func (g *fdGate) shut() {
	g.n.Or(gateShut)
	for i := 0; g.n.Load() != gateShut; i++ {
		if i < 64 {
			runtime.Gosched()
		} else {
			// The writer's thread may be descheduled mid-call: sleep
			// rather than spin on a CPU it may need.
			time.Sleep(10 * time.Microsecond)
		}
	}
}

// testHookHeldWrite, when set by a test, runs inside the gate right
// before a held write.
var testHookHeldWrite func()

// write writes p to w: held, one attempt first when HoldWaits is on, then
// whatever is left through os.File.
func (c *Conn) write(w *os.File, p []byte) (int, error) {
	// The end's copy of the write deadline (os.File has the other):
	// Expired, not Passed, so no clock read per message; Go's poller, which
	// fails the write otherwise, is as late (its deadline is a timer too).
	if !c.hold.On() || c.end.Wdl.Expired() {
		return w.Write(p)
	}
	h := &c.wheld
	if h.file != w {
		rc, err := w.SyscallConn()
		if err != nil {
			return w.Write(p)
		}
		fd := -1
		if rc.Control(func(d uintptr) { fd = int(d) }) != nil {
			return w.Write(p)
		}
		h.file, h.fd = w, fd
	}
	if !c.wgate.enter() {
		return w.Write(p) // Close has begun: os.File says so
	}
	if testHookHeldWrite != nil {
		testHookHeldWrite()
	}
	n, err := sysipc.Calls{Held: true}.Write(h.fd, p)
	c.wgate.leave()
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		n = 0
	case err != nil:
		return 0, os.NewSyscallError("write", err)
	}
	if n == len(p) {
		return n, nil
	}
	m, err := w.Write(p[n:])
	return n + m, err
}
