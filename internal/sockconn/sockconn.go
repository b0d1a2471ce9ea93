// Package sockconn is the ipclab Conn over one connected socket, shared by
// the socket transports (transports/unixsock, transports/tcp): the framing
// of a byte stream, the kind trailer after a packet, the waits, deadlines,
// Close, and the creator's wait for its one opener.
//
// A stream socket (unix SOCK_STREAM, TCP) carries frames: a 4-byte
// little-endian length, then the payload (the same frame as
// transports/pipe); with Config.PadFrames (TCP), a large message that
// framing.PadHeader picks goes after a padded 64-byte header instead. A
// packet socket (SOCK_SEQPACKET, SOCK_DGRAM) keeps the kernel's
// boundaries: each message is one packet whose last byte says what it is
// (data, the close marker, the opener's hello), so that an empty message
// is not end of file and a datagram peer's Close can be told apart from
// data.
//
// Blocking: a Recv that finds nothing, and a Send that finds the socket
// full, wait in ppoll(2) on their own thread, on the socket and on an
// eventfd of their direction that Close and a moved deadline write (the
// pipe's measured choice, see transports/pipe/read.go). The socket stays
// out of Go's poller: in its epoll set, every message that arrived woke
// the runtime's idle thread, two more context switches a message (on one
// CPU a 64-byte unixsock-stream round trip took 4 switches and 23.5 us,
// and 2 and 13 us without; unixsock-dgram 6 and 32.8 us, tcp 3 and 25.7).
// HoldWaits (held.go) makes the reads, the sends and the waits held.
package sockconn

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/framing"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// Kind is how the socket delimits messages.
type Kind int

const (
	// Stream is a byte stream: messages are framed by a length.
	Stream Kind = iota
	// SeqPacket keeps boundaries and order, and has end of file.
	SeqPacket
	// Datagram keeps boundaries but has no end of file: a peer's Close is
	// a marker, its death a pidfd watch (WatchPeer).
	Datagram
)

// Frame and packet headers.
const (
	frameHeader = framing.HeaderLen // stream: little-endian length
	// packetHeader is the packet's kind (below), one byte, which goes
	// after the message: a trailer, not a header. In front, it put a
	// message sent from a page-aligned buffer (Go's are, from 4 KiB) one
	// byte into the kernel's buffer, and a copy whose destination lies
	// 1-31 bytes further into its page than its source runs 20-28x slower
	// here (4K aliasing: 1.4 us for 4 KiB against 50-90 ns); behind, the
	// message keeps its source's placement.
	packetHeader = 1
	// longTrailer is a large data packet's trailer where the kind byte
	// alone would leave its pages 4K-aliased: the kind, its kindLong bit
	// set, after 63 zero bytes. The kernel holds a packet over about
	// 16 KiB as a head of len mod 4096 bytes (whole pages more, at most)
	// and whole pages, so the pages' bytes land len mod 4096 bytes into a
	// page-aligned receiver's pages (Go's buffers are, from 32 KiB): 1
	// byte in for a 64 KiB message and its kind, where recvmsg copied them
	// 5x slower (28.5 us against 5.3); 1-31 bytes short of a boundary slows
	// sendmsg alike. 63 bytes more moves them 32-94 bytes off it.
	longTrailer = 64
	kindLong    = 0x80
	// MaxFrame is the largest message a stream frame may carry (a padded
	// header's length must stay at or below framing.MaxFrame).
	MaxFrame = framing.MaxFrame

	pktData  = 0
	pktClose = 1 // the datagram peer closed its end
	pktHello = 2 // a datagram opener introduces itself to the creator

	readAhead = 64 << 10 // stream receive buffer
)

// HelloPacket is the whole packet a datagram opener sends the creator to
// introduce itself (transports/unixsock); Recv skips it.
const HelloPacket = pktHello

// Limit names what bounds a message's size, for TooLargeError.
type Limit struct {
	Max   int    // largest message in bytes
	Name  string // what sets it, e.g. "unixsock-dgram SO_SNDBUF"
	Raise string // how to raise it
}

// Config describes an end.
type Config struct {
	Kind  Kind
	Addr  ipclab.Addr
	Limit Limit
	// PeerName, for a datagram socket that several processes could send
	// to before it connected, is the peer's address as recvmsg reports
	// it: anything else is dropped.
	PeerName []byte
	// OnConnect runs once the end has its connected socket (a creator's
	// accept): remove the path nobody needs any more.
	OnConnect func()
	// OnClose runs in Close after the socket is closed (remove paths).
	OnClose func()
	// Drain: before closing, read what is unread, so that a TCP close
	// sends FIN rather than RST, and a Unix stream or seqpacket close
	// does not set ECONNRESET on the peer: either would discard what
	// the peer has not read yet.
	Drain bool
	// PadFrames: a stream end pads a large frame's header where the
	// kernel would otherwise put its message 4K-aliased (framing.PadHeader:
	// TCP, whose page fragment starts again at offset 0).
	PadFrames bool
}

var (
	_ ipclab.Conn        = (*Conn)(nil)
	_ ipclab.PeerWatcher = (*Conn)(nil)
	_ ipclab.WaitHolder  = (*Conn)(nil)
)

// Conn is one end of a socket channel.
type Conn struct {
	end chanend.End
	cfg Config

	mu        sync.Mutex
	f         *os.File        // the connected socket; nil until connected
	rc        syscall.RawConn // f's
	fd        int             // f's descriptor, for Recv and Send (under recvMu, sendMu)
	connected chan struct{}   // closed once f is set, connecting failed or Close began
	connDone  bool            // connected is closed
	connErr   error           // why there will be no connection
	// kick is closed, and replaced, when a deadline moves before the
	// connection: every call waiting for it must re-read its own deadline
	// (a token would wake one, perhaps a Recv for the Send's deadline).
	kick    chan struct{}
	closing chan struct{}

	lfd          int           // creator: the listening (or bound datagram) socket, -1 when none
	listenSndbuf int           // its SO_SNDBUF, for Buffer before the peer is in
	acceptDone   chan struct{} // closed when the accept goroutine has returned
	stopFD       int           // eventfd that stops the accept goroutine
	wakeFD       int           // eventfd that wakes a blocked read
	sendWakeFD   int           // eventfd that wakes a Send waiting for room
	// wakeClosed: Close has closed wakeFD and sendWakeFD, whose numbers
	// the process may reuse at once (for the next Conn's stopFD, say);
	// under wakeMu.
	wakeMu     sync.Mutex
	wakeClosed bool

	// hold: the message path's calls keep the thread (HoldWaits, held.go).
	hold sysipc.Holder

	sendMu  sync.Mutex
	sendHdr [max(framing.PaddedLen, longTrailer)]byte // a frame's header or a packet's trailer
	wbroken error
	// writev's arguments and results (send.go); under sendMu.
	wa, wb []byte
	wdone  int
	werr   error

	recvMu    sync.Mutex
	recvHdr   [packetHeader]byte // the last packet's kind
	recvTrail int                // and its trailer's length (packetHeader or longTrailer)
	frames    *framing.Reader    // Stream: the socket's frames (readStream)
	held      []byte             // Packet: a message a short buffer could not take
	hasHeld   bool
	spare     []byte // Packet: room for the tail of a message longer than p
	name      unix.RawSockaddrUnix
	riov      [2]unix.Iovec
	rmsg      unix.Msghdr
	readTrunc bool

	// Datagram: what a Send took from the socket's queue before sending
	// (see takeQueued), which Recv delivers first.
	early earlyQueue

	// read's buffer, for recvmsg's set-up (packet.go, early.go); under
	// recvMu.
	readBuf []byte
}

func newConn(cfg Config) (*Conn, error) {
	c := &Conn{cfg: cfg, connected: make(chan struct{}), kick: make(chan struct{}),
		closing: make(chan struct{}), lfd: -1, stopFD: -1, fd: -1}
	c.early.emptyAt.Store(math.MinInt64 / 2) // never seen empty
	c.end.Addr = cfg.Addr
	var err error
	if c.wakeFD, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	if c.sendWakeFD, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		unix.Close(c.wakeFD)
		return nil, os.NewSyscallError("eventfd", err)
	}
	if cfg.Kind == Stream {
		c.frames = framing.NewReader("sockconn", c.readStream, readAhead)
	}
	return c, nil
}

// New returns an end over fd, a connected socket this Conn now owns.
func New(fd int, cfg Config) (*Conn, error) {
	c, err := newConn(cfg)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := c.install(fd); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// install makes fd the end's connected socket.
func (c *Conn) install(fd int) error {
	// Out of Go's poller (see the package comment), non-blocking.
	f := sysipc.UnpolledFile(fd, "socket")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.end.Closed() || c.f != nil {
		f.Close()
		return ipclab.ErrClosed
	}
	c.f, c.rc, c.fd = f, rc, fd
	c.doneConnecting(nil)
	return nil
}

// doneConnecting releases the calls waiting for the connection, with err
// if there will be none. mu held.
func (c *Conn) doneConnecting(err error) {
	if !c.connDone {
		c.connDone, c.connErr = true, err
		close(c.connected)
	}
}

// Addr is the address the other process opens.
func (c *Conn) Addr() ipclab.Addr { return c.cfg.Addr }

// MaxMessageSize is the configured limit (Config.Limit).
func (c *Conn) MaxMessageSize() int { return c.cfg.Limit.Max }

func (c *Conn) tooLarge(n int) error {
	return chanend.TooLarge(n, c.cfg.Limit.Max, c.cfg.Limit.Name, c.cfg.Limit.Raise)
}

// WatchPeer turns the death of process pid into ErrPeerGone. A datagram
// socket needs it (a dead datagram peer wakes nobody); on a stream or
// sequenced-packet socket the kernel says it (end of file) and the watch
// only adds a second way.
func (c *Conn) WatchPeer(pid int) error {
	if c.cfg.Kind != Datagram {
		return nil
	}
	// Both directions: a Send waiting for room is woken by the kernel
	// only when the peer's socket goes, which may outlive its process (a
	// child that inherited it).
	return c.end.WatchPeer(pid, func() { c.wake(); c.wakeSend(); c.poke() })
}

// socket waits for the connected socket (a creator's end has none until
// its opener arrives), within the deadline dl.
func (c *Conn) socket(dl func() time.Time) (*os.File, error) {
	for {
		select {
		case <-c.connected:
			return c.connectedSocket()
		default:
		}
		if c.end.PeerGone() {
			// A datagram peer that died before its hello (WatchPeer).
			return nil, fmt.Errorf("%w: it died before it connected", ipclab.ErrPeerGone)
		}
		if err := c.awaitConnect(dl); err != nil {
			return nil, err
		}
	}
}

// connectedSocket is socket once connected. Its own function, so that its
// deferred unlock is not a defer inside socket's loop, which allocates a
// defer record on every call: two per round trip.
func (c *Conn) connectedSocket() (*os.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		if c.connErr != nil {
			return nil, c.connErr
		}
		return nil, ipclab.ErrClosed
	}
	return c.f, nil
}

// awaitConnect waits, up to the deadline dl gives, for the connection or
// for a reason to look again.
func (c *Conn) awaitConnect(dl func() time.Time) error {
	// The kick before the deadline: a deadline set after this read
	// closes this kick.
	c.mu.Lock()
	kick := c.kick
	c.mu.Unlock()
	var timeout <-chan time.Time
	if t := dl(); !t.IsZero() {
		d := time.Until(t)
		if d <= 0 {
			return fmt.Errorf("%w: no process has connected yet", ipclab.ErrTimeout)
		}
		tm := time.NewTimer(d)
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case <-c.connected:
	case <-c.closing:
		return ipclab.ErrClosed
	case <-timeout:
	case <-kick:
	}
	return nil
}

func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline of Recv; a Recv blocked now re-reads it.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.end.Rdl.Set(t)
	c.wake()
	c.poke()
	return nil
}

// SetWriteDeadline sets the deadline of Send; a Send waiting for room now
// re-reads it.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.end.Wdl.Set(t)
	c.wakeSend()
	c.poke()
	return nil
}

// poke wakes the calls waiting for the connection to re-read their
// deadlines. Once connected (or failed, or closing) nobody waits there,
// and a moved deadline costs no allocation.
func (c *Conn) poke() {
	c.mu.Lock()
	if !c.connDone {
		close(c.kick)
		c.kick = make(chan struct{})
	}
	c.mu.Unlock()
}

// wake makes a blocked read re-check its deadline and the end's state.
// It may run after Close (a peer watch that fired as Close stopped it,
// SetReadDeadline on a closed end): then it writes nothing, since the
// number may be another file's by now, and 8 bytes there could stop
// another end's accept loop or reach another socket's peer.
func (c *Conn) wake() { c.wakeOne(c.wakeFD) }

// wakeSend makes a Send waiting for room re-check its deadline and the
// end's state; after Close it writes nothing, as wake.
func (c *Conn) wakeSend() { c.wakeOne(c.sendWakeFD) }

func (c *Conn) wakeOne(fd int) {
	one := [8]byte{1}
	c.wakeMu.Lock()
	if !c.wakeClosed {
		unix.Write(fd, one[:])
	}
	c.wakeMu.Unlock()
}

// mapErr turns what the socket says into the contract's errors: end of
// file, a reset or refused connection and EPIPE mean the peer is gone.
func (c *Conn) mapErr(err error) error {
	if err == nil || c.end.Closed() {
		return c.end.MapErr(err)
	}
	switch {
	case errors.Is(err, errEOF), err == io.EOF: // a packet's, a stream's (framing)
		c.end.SetPeerGone()
		return ipclab.PeerEOF
	case errors.Is(err, io.ErrUnexpectedEOF): // inside a frame (framing)
		c.end.SetPeerGone()
		return fmt.Errorf("%w: it closed in the middle of a frame", ipclab.ErrPeerGone)
	case errors.Is(err, unix.EPIPE), errors.Is(err, unix.ECONNRESET), errors.Is(err, unix.ECONNREFUSED),
		errors.Is(err, unix.ENOTCONN):
		c.end.SetPeerGone()
		return fmt.Errorf("%w: %w", ipclab.ErrPeerGone, err)
	}
	return c.end.MapErr(err)
}

// Close closes the socket: the peer reads what was sent, then end of file
// (a datagram peer: the close marker). Blocked calls return ErrClosed. A
// datagram end first waits, up to a second without progress, for the peer
// to take what it was sent (see linger).
func (c *Conn) Close() error {
	return c.end.Close(func() error {
		close(c.closing)
		if c.stopFD >= 0 {
			one := [8]byte{1}
			unix.Write(c.stopFD, one[:])
			<-c.acceptDone
			unix.Close(c.stopFD)
		}
		c.mu.Lock()
		f := c.f
		c.doneConnecting(nil) // waiters see ErrClosed
		c.mu.Unlock()
		if c.lfd >= 0 {
			unix.Close(c.lfd)
		}
		// A blocked Recv or Send wakes, finds closed set, returns ErrClosed
		// and releases its mutex (one that finds room or a message as it
		// wakes may still send or take it first).
		c.wake()
		c.wakeSend()
		if f != nil {
			c.sayGoodbye()
		}
		// The socket is out of Go's poller, so f.Close does not wait for a
		// call in progress, and neither would the eventfds' close: the
		// mutexes do. Then no call is left, nor can one start. sendMu
		// comes before the close marker, so that no Send's packet follows
		// it: the peer takes the marker as end of file.
		c.sendMu.Lock()
		if f != nil && c.cfg.Kind == Datagram {
			c.sendCloseMarker()
		}
		c.recvMu.Lock()
		if f != nil {
			f.Close()
		}
		c.wakeMu.Lock()
		c.wakeClosed = true
		unix.Close(c.wakeFD)
		unix.Close(c.sendWakeFD)
		c.wakeMu.Unlock()
		c.recvMu.Unlock()
		c.sendMu.Unlock()
		if c.cfg.OnClose != nil {
			c.cfg.OnClose()
		}
		return nil
	})
}
