package ipclab

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrClosed is returned by calls on a Conn after Close, including calls that
// were blocked when Close was called.
var ErrClosed = errors.New("ipclab: use of closed connection")

// ErrPeerGone reports that the other end closed the channel or died. Messages
// it sent before that are delivered first.
var ErrPeerGone = errors.New("ipclab: peer gone")

// ErrTimeout is returned when a deadline passes. It implements
// Timeout() bool and matches os.ErrDeadlineExceeded.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string        { return "ipclab: deadline exceeded" }
func (timeoutError) Timeout() bool        { return true }
func (timeoutError) Is(target error) bool { return target == os.ErrDeadlineExceeded }

// PeerEOF is the error of a byte-stream transport whose peer closed its end:
// it matches both ErrPeerGone and io.EOF.
var PeerEOF = fmt.Errorf("%w: %w", ErrPeerGone, io.EOF)

// TooLargeError reports a message longer than a limit: the kernel's, the
// channel's configuration, or the framing's. Nothing was sent.
type TooLargeError struct {
	Size  int    // length of the message, in bytes
	Limit int    // the largest length allowed
	Name  string // what sets the limit, e.g. "kernel.msgmax" or "posixmq mq_msgsize"
	Raise string // how to raise it, e.g. "sysctl -w kernel.msgmax=N"
}

func (e *TooLargeError) Error() string {
	s := fmt.Sprintf("ipclab: message of %d bytes exceeds %s=%d", e.Size, e.Name, e.Limit)
	if e.Raise != "" {
		s += " (" + e.Raise + ")"
	}
	return s
}

// ShortBufferError reports a Recv buffer smaller than the message waiting.
type ShortBufferError struct {
	Size   int  // length of the message, in bytes
	Buffer int  // length of the buffer passed to Recv
	Kept   bool // the message is still queued; a Recv with Size bytes gets it
}

func (e *ShortBufferError) Error() string {
	s := fmt.Sprintf("ipclab: message of %d bytes does not fit a %d-byte buffer", e.Size, e.Buffer)
	if e.Kept {
		return s + "; it is kept for the next Recv"
	}
	return s + "; it was lost"
}

// Is makes errors.Is(err, io.ErrShortBuffer) true.
func (e *ShortBufferError) Is(target error) bool { return target == io.ErrShortBuffer }

// AddrError reports an address that cannot be parsed or names nothing usable.
type AddrError struct {
	Addr   string
	Reason string
}

func (e *AddrError) Error() string {
	return fmt.Sprintf("ipclab: bad address %q: %s", e.Addr, e.Reason)
}

// LimitError reports a configuration beyond a kernel limit, naming the limit
// and how to raise it.
type LimitError struct {
	What  string // what was asked for, e.g. "queue depth 64"
	Name  string // the limit, e.g. "fs.mqueue.msg_max"
	Limit int
	Raise string
}

func (e *LimitError) Error() string {
	s := fmt.Sprintf("ipclab: %s exceeds %s=%d", e.What, e.Name, e.Limit)
	if e.Raise != "" {
		s += " (" + e.Raise + ")"
	}
	return s
}

// OpError is the error type transports return: the operation, the transport,
// the address and the underlying error, which Unwrap exposes so that
// errors.Is(err, unix.EAGAIN) and errors.Is(err, ErrPeerGone) work.
type OpError struct {
	Op        string // "send", "recv", "open", "create", "close", ...
	Transport string
	Addr      string
	Err       error
}

func (e *OpError) Error() string {
	s := e.Transport + " " + e.Op
	if e.Addr != "" {
		s += " " + e.Addr
	}
	return s + ": " + e.Err.Error()
}

func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the error is a deadline expiry.
func (e *OpError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}
