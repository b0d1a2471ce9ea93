package ipclab

import "time"

// Conn is one end of a message channel between two processes.
//
// Message boundaries are preserved: each successful Send is delivered as
// exactly one Recv on the other end, never split, merged or truncated, also
// over byte-stream mechanisms (those frame each message). A zero-length
// message is a message.
//
// Concurrency: one goroutine may Send while another Recvs. Concurrent Sends
// are serialised, as are concurrent Recvs; each message still arrives whole.
// Close and the Set*Deadline methods may be called from any goroutine at any
// time, including while Send or Recv is blocked.
type Conn interface {
	// Send sends p as one message. It blocks while the channel is full, until
	// the write deadline. A message longer than MaxMessageSize fails with a
	// *TooLargeError and nothing is sent. Send does not retain p.
	Send(p []byte) error

	// Recv blocks until a message arrives (or the read deadline passes) and
	// copies it into p, returning its length. If the message is longer than
	// p, Recv returns a *ShortBufferError that gives the message's size; on
	// every transport whose ShortBufferError has Kept set, the message stays
	// queued and the next Recv with a large enough buffer returns it. Recv
	// does not retain p, and may use all of it as scratch space during the
	// call, as io.Reader may.
	//
	// Messages sent before the peer went away are still delivered; after
	// them Recv returns an error matching ErrPeerGone.
	Recv(p []byte) (n int, err error)

	// Close releases this end. Blocked Send and Recv calls return ErrClosed
	// promptly. The peer, whose process may run on, receives what this end
	// sent and then ErrPeerGone. The end that created the kernel objects
	// removes them (an opener whose creator died does it instead); where
	// removing the object destroys what it still holds (a System V queue),
	// the creator's Close first waits a bounded time (see the transport)
	// for the peer to take it, and what the peer has not taken by then is
	// lost. Close is idempotent and safe to call concurrently; calls after
	// the first return nil.
	Close() error

	// SetDeadline sets both the read and write deadlines. A blocked or
	// future call whose deadline has passed returns an error matching
	// ErrTimeout (and os.ErrDeadlineExceeded). The zero time means no
	// deadline. Setting a deadline affects calls already blocked.
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error

	// Addr is the address the other process opens to reach this channel.
	Addr() Addr

	// MaxMessageSize is the largest message Send accepts on this channel,
	// as the kernel limits and the channel's configuration allow it now.
	MaxMessageSize() int
}

// Addr names a channel in a form another process can parse and open.
type Addr interface {
	// Transport is the scheme before the colon: "pipe", "fifo", "sysvmsg", ...
	Transport() string
	// String is the full parseable form, e.g. "sysvmsg:key=0x4d2".
	String() string
}

// PriorityConn is implemented by transports whose kernel object orders
// queued messages by priority (POSIX message queues). Higher priorities are
// received first; messages of equal priority stay in FIFO order.
type PriorityConn interface {
	Conn
	SendPriority(p []byte, prio uint) error
	RecvPriority(p []byte) (n int, prio uint, err error)
}

// PipeSizer is implemented by transports backed by kernel pipes, whose
// buffer size (F_GETPIPE_SZ) bounds how much a writer can run ahead.
type PipeSizer interface {
	// PipeSize returns the capacity in bytes of the pipe this end writes to.
	PipeSize() (int, error)
	// SetPipeSize asks the kernel for at least n bytes (F_SETPIPE_SZ); the
	// kernel rounds up to a power-of-two number of pages and caps it at
	// fs.pipe-max-size for unprivileged callers.
	SetPipeSize(n int) (int, error)
}

// PeerWatcher is implemented by transports whose kernel objects cannot tell
// that the other process died (message queues, shared memory): once told the
// peer's pid, the end turns the peer's exit into ErrPeerGone, for blocked and
// later calls alike, instead of waiting for ever. Byte-stream transports
// learn it from the kernel (EOF, EPIPE) and need no pid.
type PeerWatcher interface {
	WatchPeer(pid int) error
}

// WaitHolder is implemented by transports whose Send and Recv can make
// their system calls held: with RawSyscall, keeping the goroutine's thread
// and its P for the whole call, waits included, as a C program's thread
// does. Go's scheduler otherwise steps in around every call, and hands off
// the P of a call that blocks longer than a sysmon tick; on one CPU that
// made the p99 of a 64-byte pipe round trip 49 us against C's 10
// (internal/sysipc.Calls has the figures). Held, the P runs nothing else
// while the call waits: other goroutines need another P (GOMAXPROCS >= 2),
// or wait until the call returns or sysmon preempts it (10 ms). A garbage
// collection in the process reaches a held wait only by signals, sent
// every fraction of a millisecond until the goroutine comes back from the
// call: a program that holds its waits should keep collections out of its
// latency-critical stretches (the harness collects before each case). It
// is the tuning a latency-critical Go program would make; the harness
// measures it beside the default (ipclab bench -held). Call it before the
// end's first Send or Recv. It fails where nothing would be held (a
// spinning channel), and under GODEBUG=asyncpreemptoff=1, where no signal
// would stop a held wait, not even the garbage collector's stop-the-world.
type WaitHolder interface {
	HoldWaits(on bool) error
}

// FanIn is implemented by transports whose channel one creator may share
// with several openers (message queues). The creator's end reports
// ErrPeerGone once every opener that has opened so far has closed, as a
// FIFO reader sees EOF once every writer has: an opener that finishes
// before another has opened would end the channel. Told how many openers
// to expect, the end waits for that many closes instead.
type FanIn interface {
	ExpectOpeners(n int)
}

// ZeroCopySender is implemented by transports that can hand out the space
// of the next message (shared memory): Reserve(n) returns n bytes to write
// the message into, Commit sends it, with no copy by the transport. Call
// Commit from the goroutine that called Reserve, before any other Send.
type ZeroCopySender interface {
	Reserve(n int) ([]byte, error)
	Commit() error
}

// BatchSender is implemented by transports that can send several messages
// in one call, each still one message to the receiver, for less per
// message: a shared-memory ring publishes and wakes once per batch rather
// than once per message. SendBatch returns how many of msgs were sent
// before an error.
type BatchSender interface {
	SendBatch(msgs [][]byte) (int, error)
}

// ZeroCopyReceiver is the receiving half: RecvInPlace returns the next
// message where it lies, valid until Release. Its bytes may be in memory
// the peer process can write; copy what must not change.
type ZeroCopyReceiver interface {
	RecvInPlace() ([]byte, error)
	Release() error
}

// Buffered is implemented by transports that can say how much the channel
// holds between the two ends. A link layer needs it to know, before it
// sends, that the send will not block inside the transport: the only way
// to keep acknowledgements from ever waiting behind data.
type Buffered interface {
	// Buffer describes the buffer this end's Sends fill. Bytes may be 0
	// while it cannot be known yet (a FIFO whose opener has not
	// connected); ask again later.
	Buffer() Buffer
}

// Buffer is how much one direction of a channel holds, as the kernel (or
// the ring) counts it.
type Buffer struct {
	// Messages is the most messages it holds (POSIX queue depth; a SysV
	// queue's msg_qbytes also bounds its message count); 0: no limit by
	// count.
	Messages int
	// Bytes is the most it holds, in the units Cost counts; 0: unknown yet.
	Bytes int
	// Grow is what Bytes can be raised to on request (a pipe, up to
	// fs.pipe-max-size, with PipeSizer); 0: fixed.
	Grow int
	// Shared: both directions fill this one buffer (a SysV queue), so the
	// peer's messages take from the same Messages and Bytes.
	Shared bool
	// Contiguous: a message is never split at the buffer's end, so up to
	// one message's Cost can be lost to padding (a ring).
	Contiguous bool
	// Cost is what a message of n bytes takes out of Bytes at worst:
	// framing, page granularity, record headers and alignment.
	Cost func(n int) int
}
