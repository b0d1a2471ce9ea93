package pipe

import (
	"os"
	"syscall"

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

// heldWrite is a write attempt made held, on w's descriptor.
type heldWrite struct {
	file *os.File // the writer rc belongs to
	rc   syscall.RawConn
	fn   func(fd uintptr) // bound once: a write allocates nothing
	buf  []byte
	n    int
	err  error
}

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
		h.file, h.rc = w, rc
		h.fn = func(fd uintptr) { h.n, h.err = sysipc.Calls{Held: true}.Write(int(fd), h.buf) }
	}
	h.buf = p
	cerr := h.rc.Control(h.fn)
	n, err := h.n, h.err
	h.buf, h.err = nil, nil
	switch {
	case cerr != nil:
		return 0, cerr
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
