// Package pipe is the ipclab transport over kernel pipes: anonymous pipes
// that a child process inherits, and named FIFOs that unrelated processes
// open by path. Two pipes make the duplex pair.
//
// A pipe is a byte stream, so every message is framed: a 4-byte
// little-endian length, then the payload. Writes of a frame up to PIPE_BUF
// (4096 bytes) are atomic; larger frames are written by one writer at a
// time under the Conn's send lock. The receiver reads ahead into a 64 KiB
// buffer, so a stream of small messages costs far fewer read calls than
// messages.
//
// Blocking is done by Go's poller: deadlines and Close wake blocked calls.
// A peer that closes or dies shows as EOF (Recv returns ipclab.PeerEOF
// after the buffered messages) or EPIPE (Send returns ErrPeerGone).
//
// A FIFO channel joins exactly two processes: the opener holds an
// exclusive flock on path.2, so a second opener is refused (EBUSY) before
// it reads or writes anything.
//
// A deadline that expires in the middle of a message larger than the pipe
// leaves the stream between two frames' bytes; the direction is then broken
// and later calls say so, rather than deliver garbage.
package pipe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/internal/registry"
	"golang.org/x/sys/unix"
)

const (
	// DefaultMaxMessage is the largest message unless Options say otherwise.
	DefaultMaxMessage = 1 << 20
	// MaxFrame is the largest MaxMessage the framing allows.
	MaxFrame = 1 << 30

	headerLen = 4
	// helloFrame is a length no message can have: the FIFO creator sends
	// it once connected, so the opener knows EOF from then on means gone.
	helloFrame = 0xffffffff
	bufSize    = 64 << 10
)

// Options configure either end.
type Options struct {
	// MaxMessage is the largest message; 0 means DefaultMaxMessage. Both
	// ends should agree: a receiver discards, and reports, longer frames.
	MaxMessage int
	// PipeSize, if > 0, asks the kernel for this pipe capacity in bytes
	// (F_SETPIPE_SZ) on the pipe this end writes to.
	PipeSize int
	// Mode is the permission of created FIFOs; 0 means 0600.
	Mode uint32
	// Register records created FIFOs in the registry (internal/registry)
	// so that `ipclab ls` and `ipclab clean` find them; the CLI and the
	// harness set it, a library user need not.
	Register bool
}

func (o Options) max() (int, error) {
	switch {
	case o.MaxMessage == 0:
		return DefaultMaxMessage, nil
	case o.MaxMessage < 0 || o.MaxMessage > MaxFrame:
		return 0, fmt.Errorf("pipe: MaxMessage %d: must be 1..%d", o.MaxMessage, MaxFrame)
	}
	return o.MaxMessage, nil
}

var (
	_ ipclab.Conn      = (*Conn)(nil)
	_ ipclab.PipeSizer = (*Conn)(nil)
)

// Conn is one end of a pipe channel.
type Conn struct {
	end  chanend.End // closed, peer gone (EOF or EPIPE seen), read deadline, errors
	addr Addr
	max  int

	// w is set once: at creation, or for a FIFO creator when the opener
	// arrives (then connected is closed). mu orders that with deadlines.
	mu         sync.Mutex
	w          *os.File
	wdl        time.Time
	connected  chan struct{}
	openerGone bool     // FIFO creator: the opener died before we could connect
	dummy      *os.File // FIFO: placeholder writer that holds off EOF until the peer is there
	paths      []string // FIFO creator: paths to unlink once the opener is in, or on Close
	fifoOwner  bool     // FIFO creator
	opt        Options

	r      *os.File
	rc     syscall.RawConn // r's descriptor, read without Go's poller (read.go)
	wakeFD int             // eventfd that wakes a blocked read (read.go)
	// read's arguments and results, for readFunc (read.go); under recvMu.
	readFunc func(fd uintptr)
	readBuf  []byte
	readN    int
	readErr  error

	sendMu  sync.Mutex
	wbuf    []byte
	wbroken error

	recvMu  sync.Mutex
	rbuf    []byte
	rs, re  int // buffered bytes are rbuf[rs:re]
	rbroken error
	partial partialFrame // a message a deadline stopped inside (partial.go)

	closing chan struct{}
}

func newConn(a Addr, r, w *os.File, opt Options) (*Conn, error) {
	max, err := opt.max()
	if err != nil {
		return nil, err
	}
	c := &Conn{addr: a, max: max, r: r, w: w, opt: opt, connected: make(chan struct{}), closing: make(chan struct{}),
		rbuf: make([]byte, bufSize), wbuf: make([]byte, bufSize)}
	c.end.Addr = a
	if c.rc, err = r.SyscallConn(); err != nil {
		return nil, err
	}
	if c.wakeFD, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	c.readFunc = func(fd uintptr) { c.readN, c.readErr = c.readFD(int(fd), c.readBuf) }
	if w != nil {
		close(c.connected)
		if opt.PipeSize > 0 {
			if _, err := c.SetPipeSize(opt.PipeSize); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// Create makes two anonymous pipes and returns this process's end and the
// two files to hand to the child as its descriptors 3 and 4 (the first
// ExtraFiles of os/exec), matching the address "pipe:rfd=3,wfd=4". Close
// the returned files once the child has started, or EOF never comes.
func Create(opt Options) (*Conn, []*os.File, error) {
	toChildR, toChildW, err := os.Pipe()
	if err != nil {
		return nil, nil, chanend.OpError("create", Addr{}, err)
	}
	fromChildR, fromChildW, err := os.Pipe()
	if err != nil {
		toChildR.Close()
		toChildW.Close()
		return nil, nil, chanend.OpError("create", Addr{}, err)
	}
	a := Addr{RFD: 3, WFD: 4}
	c, err := newConn(a, fromChildR, toChildW, opt)
	if err != nil {
		for _, f := range []*os.File{toChildR, toChildW, fromChildR, fromChildW} {
			f.Close()
		}
		return nil, nil, chanend.OpError("create", a, err)
	}
	return c, []*os.File{toChildR, fromChildW}, nil
}

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
	r, err := openFIFO(a.toCreator(), unix.O_RDONLY)
	if err != nil {
		unlink()
		return nil, chanend.OpError("create", a, err)
	}
	dummy, err := openFIFO(a.toCreator(), unix.O_WRONLY)
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
		w, err := openFIFO(c.addr.toOpener(), unix.O_WRONLY)
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
	w.SetWriteDeadline(c.wdl)
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
		if w, err := openFIFO(paths[0], unix.O_WRONLY); err == nil {
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

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// openFIFO opens path without blocking, checks that it is a FIFO, and
// returns a file Go's poller watches.
func openFIFO(path string, mode int) (*os.File, error) {
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
	return os.NewFile(uintptr(fd), path), nil
}

// Open opens the other end from its address: "pipe:rfd=3,wfd=4" in a
// child that inherited the descriptors, or "fifo:PATH".
func Open(addr string, opt Options) (*Conn, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if a.Path == "" {
		r, w := inherited(a.RFD), inherited(a.WFD)
		if r == nil || w == nil {
			return nil, chanend.OpError("open", a, fmt.Errorf("descriptors %d and %d must be open pipes", a.RFD, a.WFD))
		}
		c, err := newConn(a, r, w, opt)
		if err != nil {
			return nil, chanend.OpError("open", a, err)
		}
		return c, nil
	}
	// path.2 first: the creator's reader is there, so this cannot fail with
	// ENXIO unless the creator is gone, and it must exist before the
	// creator sees us on path.1 and drops its placeholder on path.2.
	w, err := openFIFO(a.toCreator(), unix.O_WRONLY)
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
	r, err := openFIFO(a.toOpener(), unix.O_RDONLY)
	if err != nil {
		w.Close()
		return nil, chanend.OpError("open", a, err)
	}
	// Until the creator's hello arrives, nobody writes path.1 and a read
	// would see EOF: hold a placeholder writer until then.
	dummy, err := openFIFO(a.toOpener(), unix.O_WRONLY)
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

// inherited returns descriptor fd as a pollable file if it is a pipe.
func inherited(fd int) *os.File {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	unix.SetNonblock(fd, true)
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), fmt.Sprintf("pipe-fd%d", fd))
}

func (c *Conn) Addr() ipclab.Addr { return c.addr }

// MaxMessageSize is Options.MaxMessage: the framing's limit, not the
// kernel's (a pipe carries any length).
func (c *Conn) MaxMessageSize() int { return c.max }

func (c *Conn) tooLarge(n int) error {
	return chanend.TooLarge(n, c.max, "pipe Options.MaxMessage",
		fmt.Sprintf("create both ends with a larger pipe.Options.MaxMessage, up to %d", MaxFrame))
}

// Send writes one frame.
func (c *Conn) Send(p []byte) error {
	if len(p) > c.max {
		return c.end.Err("send", c.tooLarge(len(p)))
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.end.Closed() {
		return c.end.Err("send", ipclab.ErrClosed)
	}
	if c.wbroken != nil {
		return c.end.Err("send", c.wbroken)
	}
	w, err := c.writer()
	if err != nil {
		return c.end.Err("send", err)
	}
	var n, total int
	if headerLen+len(p) <= len(c.wbuf) {
		// One write: atomic up to PIPE_BUF, one system call always.
		binary.LittleEndian.PutUint32(c.wbuf, uint32(len(p)))
		copy(c.wbuf[headerLen:], p)
		total = headerLen + len(p)
		n, err = w.Write(c.wbuf[:total])
	} else {
		var hdr [headerLen]byte
		binary.LittleEndian.PutUint32(hdr[:], uint32(len(p)))
		total = headerLen + len(p)
		if n, err = w.Write(hdr[:]); err == nil {
			var m int
			m, err = w.Write(p)
			n += m
		}
	}
	if err != nil {
		if n > 0 && n < total {
			c.wbroken = fmt.Errorf("pipe: the stream is broken: a write stopped after %d of %d bytes of a frame (%v)", n, total, err)
		}
		return c.end.Err("send", c.mapErr(err))
	}
	return nil
}

// writer returns the write side, waiting for a FIFO opener if need be.
func (c *Conn) writer() (*os.File, error) {
	select {
	case <-c.connected:
		return c.connectedWriter()
	default:
	}
	c.mu.Lock()
	dl := c.wdl
	c.mu.Unlock()
	var timeout <-chan time.Time
	if !dl.IsZero() {
		t := time.NewTimer(time.Until(dl))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-c.connected:
		return c.connectedWriter()
	case <-c.closing:
		return nil, ipclab.ErrClosed
	case <-timeout:
		return nil, fmt.Errorf("%w: no process opened the FIFO", ipclab.ErrTimeout)
	}
}

// Recv reads one frame.
func (c *Conn) Recv(p []byte) (int, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.end.Closed() {
		return 0, c.end.Err("recv", ipclab.ErrClosed)
	}
	if c.rbroken != nil {
		return 0, c.end.Err("recv", c.rbroken)
	}
	n, err := c.recv(p)
	if err != nil {
		return 0, c.end.Err("recv", c.mapErr(err))
	}
	return n, nil
}

func (c *Conn) recv(p []byte) (int, error) {
	if c.partial.size > 0 {
		return c.resume(p)
	}
	for {
		if err := c.fill(headerLen); err != nil {
			return 0, err
		}
		size := binary.LittleEndian.Uint32(c.rbuf[c.rs:])
		if size == helloFrame {
			c.rs += headerLen
			if c.fifoOwner {
				c.openerHello()
				continue
			}
			// The creator is connected: EOF from now on means it is gone.
			c.mu.Lock()
			if c.dummy != nil {
				c.dummy.Close()
				c.dummy = nil
			}
			c.mu.Unlock()
			continue
		}
		n := int(size)
		if n > c.max {
			c.rs += headerLen
			if err := c.discard(n); err != nil {
				return 0, err
			}
			return 0, fmt.Errorf("%w (the message was discarded)", c.tooLarge(n))
		}
		if n > len(p) {
			// Leave the header in the buffer: the next Recv gets the message.
			return 0, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true}
		}
		c.rs += headerLen
		k := copy(p[:n], c.rbuf[c.rs:c.re])
		c.rs += k
		if k < n {
			if m, err := io.ReadFull(rawReader{c}, p[k:n]); err != nil {
				return 0, c.stopped(p[:k+m], n, err)
			}
		}
		return n, nil
	}
}

// fill reads until at least n bytes are buffered.
func (c *Conn) fill(n int) error {
	for c.re-c.rs < n {
		if c.rs > 0 {
			c.re = copy(c.rbuf, c.rbuf[c.rs:c.re])
			c.rs = 0
		}
		m, err := c.read(c.rbuf[c.re:])
		c.re += m
		if err == io.EOF && c.re-c.rs > 0 {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// discard skips the n-byte payload of a frame too large to deliver.
func (c *Conn) discard(n int) error {
	k := min(n, c.re-c.rs)
	c.rs += k
	if _, err := io.CopyN(io.Discard, rawReader{c}, int64(n-k)); err != nil {
		c.rbroken = fmt.Errorf("pipe: the stream is broken while discarding a %d-byte frame (%v)", n, err)
		return err
	}
	return nil
}

// mapErr is the core's mapping, plus the byte stream's ways of saying the
// peer is gone: EOF, EOF inside a frame, EPIPE.
func (c *Conn) mapErr(err error) error {
	if err == nil || c.end.Closed() {
		return c.end.MapErr(err)
	}
	switch {
	case err == io.EOF:
		c.end.SetPeerGone()
		return ipclab.PeerEOF
	case err == io.ErrUnexpectedEOF:
		c.end.SetPeerGone()
		return fmt.Errorf("%w: it closed in the middle of a frame (%w)", ipclab.ErrPeerGone, err)
	case errors.Is(err, syscall.EPIPE):
		c.end.SetPeerGone()
		return fmt.Errorf("%w: %w", ipclab.ErrPeerGone, err)
	}
	return c.end.MapErr(err)
}

// Close closes both pipes. A FIFO creator unlinks the paths if they are
// still there; so does an opener whose creator went away.
func (c *Conn) Close() error {
	return c.end.Close(func() error {
		close(c.closing)
		c.mu.Lock()
		if c.w != nil {
			c.w.Close()
		}
		if c.dummy != nil {
			c.dummy.Close()
		}
		for _, p := range c.paths {
			removeFIFO(p)
		}
		c.paths = nil
		if !c.fifoOwner && c.addr.Path != "" && c.end.PeerGone() {
			// The creator died, maybe before it could unlink the paths;
			// nobody else will.
			removeFIFO(c.addr.toOpener())
			removeFIFO(c.addr.toCreator())
		}
		c.mu.Unlock()
		c.wake()    // before r.Close, which waits for a blocked read
		c.r.Close() // no read is left, nor can one start: the eventfd can go
		unix.Close(c.wakeFD)
		return nil
	})
}

func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wdl = t
	if c.w != nil {
		return c.w.SetWriteDeadline(t)
	}
	return nil
}

// PipeSize returns the capacity of the pipe this end writes to.
func (c *Conn) PipeSize() (int, error) {
	w, err := c.connectedWriter()
	if err != nil {
		return 0, err
	}
	var size int
	rc, err := w.SyscallConn()
	if err != nil {
		return 0, err
	}
	cerr := rc.Control(func(fd uintptr) { size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
	return size, errors.Join(cerr, err)
}

// SetPipeSize asks for an n-byte pipe and returns what the kernel granted.
func (c *Conn) SetPipeSize(n int) (int, error) {
	w, err := c.connectedWriter()
	if err != nil {
		return 0, err
	}
	return setPipeSize(w, n)
}

func (c *Conn) connectedWriter() (*os.File, error) {
	select {
	case <-c.connected:
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.w == nil {
			return nil, fmt.Errorf("%w: the FIFO's opener left before this end could connect", ipclab.ErrPeerGone)
		}
		return c.w, nil
	default:
		return nil, errors.New("pipe: no opener has connected to the FIFO yet")
	}
}

func setPipeSize(w *os.File, n int) (int, error) {
	rc, err := w.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	cerr := rc.Control(func(fd uintptr) { got, err = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, n) })
	if err == nil {
		err = cerr
	}
	if errors.Is(err, unix.EPERM) {
		max, _ := kernlimits.Int("fs.pipe-max-size")
		return 0, &ipclab.LimitError{What: fmt.Sprintf("pipe size %d", n), Name: "fs.pipe-max-size", Limit: max,
			Raise: kernlimits.Raise("fs.pipe-max-size")}
	}
	return got, err
}
