package sockconn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipclab/ipclab"
)

// streamReader is the receive state of a framed byte stream.
type streamReader struct {
	buf    []byte
	rs, re int // buffered bytes are buf[rs:re]
	broken error
	// partial is a message whose read a deadline stopped: its length and
	// its bytes so far, so the next Recv resumes it instead of the stream
	// being lost (a link layer reads with short deadlines).
	partial struct {
		size int
		got  []byte
	}
}

// rawReader reads the socket for io.ReadFull and io.CopyN.
type rawReader struct{ c *Conn }

func (r rawReader) Read(p []byte) (int, error) {
	n, err := r.c.read(p)
	if err == errEOF {
		err = io.EOF
	}
	return n, err
}

// recvFrame reads one frame. recvMu held.
func (c *Conn) recvFrame(p []byte) (int, error) {
	s := &c.stream
	if s.broken != nil {
		return 0, s.broken
	}
	if s.partial.size > 0 {
		return c.resume(p)
	}
	if err := c.fill(frameHeader); err != nil {
		return 0, err
	}
	n := int(binary.LittleEndian.Uint32(s.buf[s.rs:]))
	if n > c.cfg.Limit.Max {
		s.rs += frameHeader
		if err := c.discard(n); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("%w (the message was discarded)", c.tooLarge(n))
	}
	if n > len(p) {
		// The header stays buffered: the next Recv gets the message.
		return 0, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true}
	}
	s.rs += frameHeader
	k := copy(p[:n], s.buf[s.rs:s.re])
	s.rs += k
	if k < n {
		if m, err := io.ReadFull(rawReader{c}, p[k:n]); err != nil {
			return 0, c.stopped(p[:k+m], n, err)
		}
	}
	return n, nil
}

// fill reads until at least n bytes are buffered.
func (c *Conn) fill(n int) error {
	s := &c.stream
	for s.re-s.rs < n {
		if s.rs > 0 {
			s.re = copy(s.buf, s.buf[s.rs:s.re])
			s.rs = 0
		}
		m, err := c.read(s.buf[s.re:])
		s.re += m
		if err == errEOF && s.re-s.rs > 0 {
			return errEOFInFrame
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// discard skips the n-byte payload of a frame too large to deliver.
func (c *Conn) discard(n int) error {
	s := &c.stream
	k := min(n, s.re-s.rs)
	s.rs += k
	if _, err := io.CopyN(io.Discard, rawReader{c}, int64(n-k)); err != nil {
		s.broken = fmt.Errorf("sockconn: the stream is broken while discarding a %d-byte frame (%v)", n, err)
		return err
	}
	return nil
}

// stopped files a read that stopped inside an n-byte message after got: a
// deadline keeps it for the next Recv; anything else breaks the stream.
func (c *Conn) stopped(got []byte, n int, err error) error {
	s := &c.stream
	if errors.Is(err, ipclab.ErrTimeout) {
		s.partial.got = append(s.partial.got[:0], got...)
		s.partial.size = n
		return err
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = errEOFInFrame
	}
	s.partial.size = 0
	s.broken = fmt.Errorf("sockconn: the stream is broken: a read stopped inside a %d-byte message (%w)", n, err)
	return err
}

// resume goes on reading the message a deadline stopped; the read buffer
// holds none of it (the stop happened reading past it).
func (c *Conn) resume(p []byte) (int, error) {
	s := &c.stream
	n := s.partial.size
	if n > len(p) {
		return 0, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true}
	}
	k := copy(p, s.partial.got)
	if m, err := io.ReadFull(rawReader{c}, p[k:n]); err != nil {
		return 0, c.stopped(p[:k+m], n, err)
	}
	s.partial.size = 0
	s.partial.got = s.partial.got[:0]
	return n, nil
}
