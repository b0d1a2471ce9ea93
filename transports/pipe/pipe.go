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
// Reads that find the pipe empty, and writes that find it full, wait in
// ppoll on their own thread, out of Go's poller: deadlines and Close wake
// both.
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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/framing"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

const (
	// DefaultMaxMessage is the largest message unless Options say otherwise.
	DefaultMaxMessage = 1 << 20
	// MaxFrame is the largest MaxMessage the framing allows.
	MaxFrame = framing.MaxFrame

	headerLen = framing.HeaderLen
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
	// TrustOtherUsers lets an end use FIFOs another user owns, or whose
	// mode gives other users more than Mode (an opener: any access), as
	// ,owner=any in the address does. Off by default: their owner, or
	// anybody the mode lets in, could read our messages or feed us theirs.
	TrustOtherUsers bool
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
	_ ipclab.Conn       = (*Conn)(nil)
	_ ipclab.PipeSizer  = (*Conn)(nil)
	_ ipclab.WaitHolder = (*Conn)(nil)
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
	wdlMoved   chan struct{} // closed and replaced by SetWriteDeadline: a Send waiting for a FIFO opener (writer) re-reads wdl
	connected  chan struct{}
	openerGone bool     // FIFO creator: the opener died before we could connect
	dummy      *os.File // FIFO: placeholder writer that holds off EOF until the peer is there
	paths      []string // FIFO creator: paths to unlink once the opener is in, or on Close
	fifoOwner  bool     // FIFO creator
	opt        Options

	r *os.File
	// rfd is r's descriptor, read without Go's poller (read.go) and
	// without RawConn.Control's reference per read: reads run under
	// recvMu, which Close takes before it closes r.
	rfd    int
	wakeFD int // eventfd that wakes a blocked read (read.go)
	// wakeClosed: Close has closed wakeFD and sendWakeFD, whose numbers
	// the process may reuse at once; under mu.
	wakeClosed bool
	// readStreak: whether a read polls first (read.go); under recvMu.
	readStreak sysipc.WaitStreak

	sendMu  sync.Mutex
	wbuf    []byte
	wbroken error

	// hold: the message path's calls keep the thread (HoldWaits, write.go).
	hold sysipc.Holder
	// wfile and wfd: w and its descriptor, which writes use directly
	// (write.go); under sendMu.
	wfile *os.File
	wfd   int
	// sendWakeFD is the eventfd that wakes a Send waiting for room
	// (write.go); closed with wakeFD.
	sendWakeFD int
	// wready is w once connected (the Send path's check, an atomic load
	// where a select on connected cost a channel receive per message).
	wready atomic.Pointer[os.File]

	recvMu sync.Mutex
	frames *framing.Reader // the receiving pipe's frames (c.read), under recvMu

	closing chan struct{}
}

func newConn(a Addr, r, w *os.File, opt Options) (*Conn, error) {
	max, err := opt.max()
	if err != nil {
		return nil, err
	}
	c := &Conn{addr: a, max: max, r: r, w: w, opt: opt, connected: make(chan struct{}), closing: make(chan struct{}),
		wdlMoved: make(chan struct{}), wbuf: make([]byte, bufSize)}
	c.frames = framing.NewReader("pipe", c.read, bufSize)
	c.end.Addr = a
	rc, err := r.SyscallConn()
	if err != nil {
		return nil, err
	}
	c.rfd = -1
	if err := rc.Control(func(fd uintptr) { c.rfd = int(fd) }); err != nil {
		return nil, err
	}
	if c.wakeFD, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	if c.sendWakeFD, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		unix.Close(c.wakeFD)
		return nil, os.NewSyscallError("eventfd", err)
	}
	if w != nil {
		c.wready.Store(w)
		close(c.connected)
		if opt.PipeSize > 0 {
			if _, err := c.SetPipeSize(opt.PipeSize); err != nil {
				unix.Close(c.wakeFD)
				unix.Close(c.sendWakeFD)
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
	// Our ends stay out of Go's poller: reads and writes wait in ppoll
	// (read.go, write.go), and a descriptor in its epoll set would wake an
	// idle runtime thread for every message (a read end), or every time a
	// full pipe gets room (a write end).
	var to, from [2]int
	if err := unix.Pipe2(to[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, chanend.OpError("create", Addr{}, os.NewSyscallError("pipe2", err))
	}
	toChildR, toChildW := os.NewFile(uintptr(to[0]), "pipe-to-child"), sysipc.UnpolledFile(to[1], "pipe-to-child-w")
	if err := unix.Pipe2(from[:], unix.O_CLOEXEC); err != nil {
		toChildR.Close()
		toChildW.Close()
		return nil, nil, chanend.OpError("create", Addr{}, os.NewSyscallError("pipe2", err))
	}
	fromChildR, fromChildW := sysipc.UnpolledFile(from[0], "pipe-from-child"), os.NewFile(uintptr(from[1]), "pipe-from-child-w")
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
	return openFIFOEnd(a, opt)
}

// inherited returns descriptor fd as a non-blocking file, out of Go's
// poller (see Create), if it is a pipe.
func inherited(fd int) *os.File {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	unix.CloseOnExec(fd)
	return sysipc.UnpolledFile(fd, fmt.Sprintf("pipe-fd%d", fd))
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
		n, err = c.write(w, c.wbuf[:total])
	} else {
		var hdr [headerLen]byte
		binary.LittleEndian.PutUint32(hdr[:], uint32(len(p)))
		total = headerLen + len(p)
		if n, err = c.write(w, hdr[:]); err == nil {
			var m int
			m, err = c.write(w, p)
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
		// A Send waiting for room returns ErrClosed; one writing finishes.
		// Then none is left, nor can one start (closed is set), and w can
		// close: writes use its descriptor number directly (write.go).
		c.wakeSend()
		c.sendMu.Lock()
		c.mu.Lock()
		if !c.fifoOwner && c.addr.Path != "" && c.end.PeerGone() && c.w != nil {
			// The creator may have died before it could unlink the paths;
			// nobody else will. Only the FIFOs this end has open go: a
			// creator that closed normally unlinked them long ago, and
			// whatever stands at those names now (a later channel's FIFO,
			// a file) is not ours.
			removeFIFOIfSame(c.addr.toOpener(), c.r)
			removeFIFOIfSame(c.addr.toCreator(), c.w)
		}
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
		c.mu.Unlock()
		c.sendMu.Unlock()
		c.wake() // a blocked read returns ErrClosed and releases recvMu
		// r is out of Go's poller, so r.Close does not wait for a read in
		// progress: recvMu does. Then no read is left, nor can one start
		// (closed is set), and the eventfd can go.
		c.recvMu.Lock()
		c.r.Close()
		c.mu.Lock()
		c.wakeClosed = true
		unix.Close(c.wakeFD)
		unix.Close(c.sendWakeFD)
		c.mu.Unlock()
		c.recvMu.Unlock()
		return nil
	})
}

func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t // for a FIFO creator's wait for its opener (writer)
	close(c.wdlMoved)
	c.wdlMoved = make(chan struct{})
	c.mu.Unlock()
	c.end.Wdl.Set(t) // for writes (write.go)
	c.wakeSend()
	return nil
}
