// The FIFO hand-shake: create, accept, the hellos, one opener only.

package pipe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// CreateFIFO makes the FIFOs path.1 (creator to opener) and path.2 and
// returns the creator's end at once. Send waits (within its deadline) for
// an opener; Recv simply waits for data. Once the opener is connected the
// paths are unlinked, so nothing is left behind whatever happens next.
func CreateFIFO(path string, opt Options) (*Conn, error) {
	a := Addr{Path: path}
	for i, p := range []string{a.toOpener(), a.toCreator()} {
		if err := unix.Mkfifo(p, chanend.Perm(opt.Mode)); err != nil {
			if i == 1 {
				removeFIFO(a.toOpener())
			}
			if errors.Is(err, unix.EEXIST) {
				err = chanend.Exists(err, p, "rm "+p, "path")
			}
			return nil, chanend.OpError("create", a, &os.PathError{Op: "mkfifo", Path: p, Err: err})
		}
	}
	unlink := func() { removeFIFO(a.toOpener()); removeFIFO(a.toCreator()) }
	if opt.Register {
		for _, p := range []string{a.toOpener(), a.toCreator()} {
			registry.Add(registry.Entry{Kind: ipcobj.FIFO, Name: absPath(p)})
		}
	}
	r, err := openFIFO(a.toCreator(), unix.O_RDONLY, opt.creatorCheck())
	if err != nil {
		unlink()
		return nil, chanend.OpError("create", a, err)
	}
	dummy, err := openFIFO(a.toCreator(), unix.O_WRONLY, opt.creatorCheck())
	if err != nil {
		r.Close()
		unlink()
		return nil, chanend.OpError("create", a, err)
	}
	c, err := newConn(a, r, nil, opt)
	if err != nil {
		r.Close()
		dummy.Close()
		unlink()
		return nil, chanend.OpError("create", a, err)
	}
	c.dummy, c.paths, c.fifoOwner, c.opt = dummy, []string{a.toOpener(), a.toCreator()}, true, opt
	go c.accept(opt)
	return c, nil
}

// accept waits for an opener so that Send can start before the first
// Recv: opening path.1 for writing without blocking fails with ENXIO until
// somebody has it open for reading, and the FIFO API offers no event for
// that, so this polls, with back-off, only while connecting; the data path
// never polls. A Recv that reads the opener's hello connects too.
func (c *Conn) accept(opt Options) {
	backoff := 100 * time.Microsecond
	for {
		w, err := openFIFO(c.addr.toOpener(), unix.O_WRONLY, opt.creatorCheck())
		if err == nil {
			c.connect(w, opt)
			return
		}
		if !errors.Is(err, unix.ENXIO) {
			return // the path went away: Close, or somebody removed it
		}
		select {
		case <-c.closing:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Millisecond)
	}
}

// connect installs the write side once (the poll in accept and the
// opener's hello in recv may both get there) and greets the opener.
func (c *Conn) connect(w *os.File, opt Options) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.end.Closed() || c.w != nil || c.openerGone {
		w.Close()
		return
	}
	var hello [headerLen]byte
	binary.LittleEndian.PutUint32(hello[:], helloFrame)
	w.Write(hello[:]) // 4 bytes into an empty pipe: cannot block
	if opt.PipeSize > 0 {
		setPipeSize(w, opt.PipeSize)
	}
	c.w = w
	c.wready.Store(w)
	close(c.connected)
}

// openerHello runs when the FIFO creator reads the opener's hello, which
// the opener writes after all its opens: its writer on path.2 exists, so
// EOF can now only mean it is gone (drop our placeholder), and nobody
// needs the paths any more (unlink them). If the poll had not connected
// us yet, connect now; ENXIO means the opener already died.
func (c *Conn) openerHello() {
	c.mu.Lock()
	if c.dummy != nil {
		c.dummy.Close()
		c.dummy = nil
	}
	paths := c.paths
	connected := c.w != nil
	c.mu.Unlock()
	if !connected && len(paths) > 0 {
		if w, err := openFIFO(paths[0], unix.O_WRONLY, c.opt.creatorCheck()); err == nil {
			c.connect(w, c.opt)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.paths {
		removeFIFO(p)
	}
	c.paths = nil
	if c.w == nil && !c.openerGone && !c.end.Closed() {
		c.openerGone = true
		close(c.connected)
	}
}

// removeFIFO unlinks a FIFO and drops its registry entry.
func removeFIFO(p string) {
	os.Remove(p)
	registry.Forget(registry.Entry{Kind: ipcobj.FIFO, Name: absPath(p)})
}

// removeFIFOIfSame removes the FIFO at p only if it is the one f has
// open (same device and inode), never following a link.
func removeFIFOIfSame(p string, f *os.File) {
	var have, there unix.Stat_t
	if unix.Fstat(int(f.Fd()), &have) != nil || unix.Lstat(p, &there) != nil {
		return
	}
	if there.Mode&unix.S_IFMT == unix.S_IFIFO && there.Dev == have.Dev && there.Ino == have.Ino {
		removeFIFO(p)
	}
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// ownerCheck is what openFIFO asks of who owns a FIFO and who may reach
// it: any (trust other users), or the permission bits beyond 0600 that
// are allowed (the creator's own Mode; none for an opener).
type ownerCheck struct {
	any   bool
	allow uint32
}

// creatorCheck: the creator's FIFOs must be its own, at the mode it made
// them with (a FIFO swapped in after mkfifo is refused).
func (o Options) creatorCheck() ownerCheck {
	return ownerCheck{any: o.TrustOtherUsers, allow: chanend.Perm(o.Mode)}
}

// openFIFO opens path without blocking, checks that what it opened is a
// FIFO of ours that no other user can reach (unless check says any), and
// returns it as a non-blocking file, out of Go's poller.
// The check is on the descriptor: a look-up by name could see another
// file than the one opened.
func openFIFO(path string, mode int, check ownerCheck) (*os.File, error) {
	fd, err := unix.Open(path, mode|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		unix.Close(fd)
		if err == nil {
			err = fmt.Errorf("%s exists but is not a FIFO", path)
		}
		return nil, err
	}
	if !check.any {
		if err := chanend.Private("FIFO "+path, st.Uid, st.Uid, st.Mode, check.allow); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	return sysipc.UnpolledFile(fd, path), nil // reads and writes wait in ppoll: see Create
}

// openFIFOEnd opens the opener's end of the FIFO channel at a.
func openFIFOEnd(a Addr, opt Options) (*Conn, error) {
	// path.2 first: the creator's reader is there, so this cannot fail with
	// ENXIO unless the creator is gone, and it must exist before the
	// creator sees us on path.1 and drops its placeholder on path.2.
	check := ownerCheck{any: a.AnyOwner || opt.TrustOtherUsers}
	w, err := openFIFO(a.toCreator(), unix.O_WRONLY, check)
	if err != nil {
		switch {
		case errors.Is(err, unix.ENXIO):
			err = fmt.Errorf("%w: nobody has the FIFO open for reading; its creator is gone", err)
		case errors.Is(err, unix.ENOENT):
			err = fmt.Errorf("%w (no FIFO channel there: it was never created, its creator is gone, or its opener has connected and removed the paths)", err)
		}
		return nil, chanend.OpError("open", a, err)
	}
	// One opener only: the first takes an exclusive lock on path.2 and
	// holds it for as long as it is connected; a second one gives up
	// before it has read or written a byte, so the first pair is intact.
	if err := lockOpener(w); err != nil {
		w.Close()
		return nil, chanend.OpError("open", a, fmt.Errorf("%w: %s already has an opener; a FIFO channel joins exactly two processes", err, a.Path))
	}
	r, err := openFIFO(a.toOpener(), unix.O_RDONLY, check)
	if err != nil {
		w.Close()
		return nil, chanend.OpError("open", a, err)
	}
	// Until the creator's hello arrives, nobody writes path.1 and a read
	// would see EOF: hold a placeholder writer until then.
	dummy, err := openFIFO(a.toOpener(), unix.O_WRONLY, check)
	if err != nil {
		w.Close()
		r.Close()
		return nil, chanend.OpError("open", a, err)
	}
	c, err := newConn(a, r, w, opt)
	if err != nil {
		w.Close()
		r.Close()
		dummy.Close()
		return nil, chanend.OpError("open", a, err)
	}
	c.dummy = dummy
	// Tell the creator all our opens are done (see openerHello).
	var hello [headerLen]byte
	binary.LittleEndian.PutUint32(hello[:], helloFrame)
	if _, err := w.Write(hello[:]); err != nil {
		c.Close()
		return nil, chanend.OpError("open", a, c.mapErr(err))
	}
	return c, nil
}

// lockOpener takes flock(LOCK_EX) on the opener's write end of path.2
// without waiting; the lock lives as long as the descriptor.
func lockOpener(w *os.File) error {
	rc, err := w.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if lerr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB); lerr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if lerr == unix.EWOULDBLOCK {
		return unix.EBUSY
	}
	return lerr
}

// writer returns the write side, waiting for a FIFO opener if need be.
func (c *Conn) writer() (*os.File, error) {
	if w := c.wready.Load(); w != nil {
		return w, nil
	}
	select {
	case <-c.connected:
		return c.connectedWriter()
	default:
	}
	for {
		c.mu.Lock()
		dl, moved := c.wdl, c.wdlMoved
		c.mu.Unlock()
		var timeout <-chan time.Time
		stop := func() bool { return false }
		if !dl.IsZero() {
			t := time.NewTimer(time.Until(dl))
			timeout, stop = t.C, t.Stop
		}
		select {
		case <-c.connected:
			stop()
			return c.connectedWriter()
		case <-c.closing:
			stop()
			return nil, ipclab.ErrClosed
		case <-timeout:
			return nil, fmt.Errorf("%w: no process opened the FIFO", ipclab.ErrTimeout)
		case <-moved:
			stop() // SetWriteDeadline: wait again under the new deadline
		}
	}
}

func (c *Conn) connectedWriter() (*os.File, error) {
	select {
	case <-c.connected:
		// No lock: c.w is written (under mu) before connected is closed and
		// never again, so the closed channel orders this read after it. A
		// mutex here was a lock and an unlock on every Send.
		if c.w == nil {
			return nil, fmt.Errorf("%w: the FIFO's opener left before this end could connect", ipclab.ErrPeerGone)
		}
		return c.w, nil
	default:
		return nil, errors.New("pipe: no opener has connected to the FIFO yet")
	}
}
