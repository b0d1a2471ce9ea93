// Package framing reads the frames of ipclab's byte streams (pipes, FIFOs,
// stream sockets): a 4-byte little-endian length, then the message; or,
// padded, the length with its top bit set and 60 zero bytes, then the
// message (PadHeader says when a writer pads).
//
// A Reader keeps a read-ahead buffer, so that a stream of small messages
// costs one read(2) for many of them, and reads the rest of a message the
// buffer does not hold straight into the caller's buffer.
//
// Where the read-ahead buffer receives bytes matters. The kernel copies a
// stream's bytes out with rep movsb, which here runs 4-5x slower when its
// destination is 1-31 bytes further into a 4 KiB page than its source (4K
// aliasing: a load waits for an unrelated earlier store with the same low
// 12 address bits). The source of a large message is page-aligned: a
// stream socket keeps it in page fragments, and a pipe puts a write's
// whole pages in fresh pages after merging its sub-page rest, here the
// 4-byte header, into the last one. A read-ahead that starts at offset 0
// of a page puts the message 4 bytes further in: a 32 KiB unixsock-stream
// message took 13.4 us to read that way, 2.8 us with the message at the
// start of a page. So a Reader places the first message it reads at the
// start of a page, and then keeps each stream byte at the page offset it
// had: a message then lands 4 bytes further on than the one before, which
// meets the slow range for 7 messages in 1,024.
package framing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/ipclab/ipclab"
)

// HeaderLen is the length of a frame's header.
const HeaderLen = 4

// PaddedLen is the length of a padded frame's header, and padFlag the
// length word's bit that marks one. MaxFrame bounds a frame's length, so
// a word with the bit set and more than MaxFrame below it (a pipe's hello,
// 0xffffffff) is a plain header.
const (
	PaddedLen = 64
	padFlag   = 1 << 31
	MaxFrame  = 1 << 30
)

// PadHeader reports whether a frame of message p should have a padded
// header, for a writer whose kernel puts the header at the start of a
// page and the message right after it (a TCP socket: its page fragment
// starts again at offset 0 once the pages of earlier messages are free).
// The copy into the kernel runs slow where the kernel's page offset is
// 1-31 bytes past the sender's (4K aliasing): 4 bytes past, for a
// page-aligned message after a 4-byte header. Padded, it is 64 bytes
// past. Small messages are not worth the 60 bytes.
func PadHeader(p []byte) bool {
	if len(p) <= AliasSpan {
		return false
	}
	return SlowOffset(HeaderLen - int(uintptr(unsafe.Pointer(&p[0]))%AliasSpan))
}

// PutHeader writes the header of a frame of n bytes into hdr (at least
// PaddedLen bytes when padded) and returns it.
func PutHeader(hdr []byte, n int, padded bool) []byte {
	if !padded {
		binary.LittleEndian.PutUint32(hdr, uint32(n))
		return hdr[:HeaderLen]
	}
	clear(hdr[:PaddedLen])
	binary.LittleEndian.PutUint32(hdr, uint32(n)|padFlag)
	return hdr[:PaddedLen]
}

// AliasSpan is the address range within which the CPU compares a load
// with earlier stores: the low 12 bits.
const AliasSpan = 4096

// SlowOffset reports whether a copy whose destination lies d bytes
// further into its page than its source (d modulo AliasSpan) runs in the
// slow range, 1-31 bytes: the one rule PadHeader and sockconn's packet
// trailer place their bytes by.
func SlowOffset(d int) bool {
	d = (d%AliasSpan + AliasSpan) % AliasSpan
	return d >= 1 && d < 32
}

// A Reader reads frames from a byte stream. It is not safe for concurrent
// use: its owner holds its receive lock around every call.
type Reader struct {
	name string // the owner, for messages: "pipe", "sockconn"
	// read is one read of the stream: it waits for bytes and returns
	// n > 0, or an error; io.EOF when the writer is gone.
	read   func(p []byte) (int, error)
	buf    []byte
	rs, re int // buffered bytes are buf[rs:re]
	// n and hlen are the length and the header's length of the frame
	// whose header Header returned.
	n, hlen int
	broken  error
	// partial is a message whose read a deadline stopped: its length and
	// its bytes so far, so that the next read resumes it instead of the
	// stream being lost (a link layer reads with short deadlines and must
	// not break a large message the peer is still writing).
	partial struct {
		size int
		got  []byte
	}
}

// NewReader returns a Reader of the stream read reads, with a read-ahead
// of readAhead bytes. name prefixes its errors.
func NewReader(name string, read func(p []byte) (int, error), readAhead int) *Reader {
	r := &Reader{name: name, read: read, buf: make([]byte, readAhead+AliasSpan)}
	// The first header goes just before a 4 KiB boundary, so that the
	// first message starts on it.
	addr := int(uintptr(unsafe.Pointer(&r.buf[0])) % AliasSpan)
	r.rs = (2*AliasSpan - HeaderLen - addr) % AliasSpan
	r.re = r.rs
	return r
}

// Broken is why the stream can no longer be read: a read failed inside a
// frame, or while discarding one. Nil while it can.
func (r *Reader) Broken() error { return r.broken }

// Stopped says whether a deadline stopped a read inside a message, and
// its length: the next call must be Resume.
func (r *Reader) Stopped() (size int, ok bool) { return r.partial.size, r.partial.size > 0 }

// Header returns the length in the next frame's header, reading until the
// header is buffered; it stays buffered. io.ErrUnexpectedEOF: the stream
// ended inside a header.
func (r *Reader) Header() (uint32, error) {
	if r.broken != nil {
		return 0, r.broken
	}
	if err := r.fill(HeaderLen); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(r.buf[r.rs:])
	r.n, r.hlen = int(v), HeaderLen
	if v&padFlag != 0 && v&^padFlag <= MaxFrame {
		if err := r.fill(PaddedLen); err != nil {
			return 0, err
		}
		v &^= padFlag
		r.n, r.hlen = int(v), PaddedLen
	}
	return v, nil
}

// Skip drops the header Header returned, of a frame without a payload (a
// marker of the owner's).
func (r *Reader) Skip() { r.rs += r.hlen }

// Take reads the frame whose header Header returned into p, which must
// hold it (the caller checks len(p) against the length first). On an
// error Stopped or Broken says what became of the stream.
func (r *Reader) Take(p []byte) (int, error) {
	n := r.n
	r.rs += r.hlen
	k := copy(p[:n], r.buf[r.rs:r.re])
	r.rs += k
	if k == n {
		return n, nil
	}
	m, err := io.ReadFull(readFunc(r.read), p[k:n])
	// The buffer is empty; the next read goes where the stream's next
	// byte would have been.
	r.advance(m)
	if err != nil {
		return 0, r.stopped(p[:k+m], n, err)
	}
	return n, nil
}

// Discard skips the frame whose header Header returned (one too large to
// deliver). An error breaks the stream; the stream's end is
// io.ErrUnexpectedEOF.
func (r *Reader) Discard() error {
	n := r.n
	r.rs += r.hlen
	k := min(n, r.re-r.rs)
	r.rs += k
	if k == n {
		return nil
	}
	m, err := io.CopyN(io.Discard, readFunc(r.read), int64(n-k))
	r.advance(int(m))
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // inside the frame, as in Take
	}
	if err != nil {
		r.broken = fmt.Errorf("%s: the stream is broken while discarding a %d-byte frame (%v)", r.name, n, err)
		return err
	}
	return nil
}

// Resume goes on reading the message a deadline stopped (Stopped) into
// p, which must hold it. The read-ahead holds none of it: the stop
// happened reading past it.
func (r *Reader) Resume(p []byte) (int, error) {
	n := r.partial.size
	if n > len(p) {
		return 0, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true}
	}
	k := copy(p, r.partial.got)
	m, err := io.ReadFull(readFunc(r.read), p[k:n])
	r.advance(m)
	if err != nil {
		return 0, r.stopped(p[:k+m], n, err)
	}
	r.partial.size = 0
	r.partial.got = r.partial.got[:0]
	return n, nil
}

// fill reads until at least n bytes are buffered. Left-over bytes move to
// the buffer's first 4 KiB at the page offset they had.
func (r *Reader) fill(n int) error {
	for r.re-r.rs < n {
		if r.rs >= AliasSpan {
			t := r.rs % AliasSpan
			r.re = t + copy(r.buf[t:], r.buf[r.rs:r.re])
			r.rs = t
		}
		m, err := r.read(r.buf[r.re:])
		r.re += m
		if err == io.EOF && r.re > r.rs {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// advance moves the position of the buffer, which is empty, on by the m
// stream bytes read past it.
func (r *Reader) advance(m int) {
	r.rs = (r.re + m) % AliasSpan
	r.re = r.rs
}

// stopped files a read that stopped inside an n-byte message after got: a
// deadline keeps it for Resume; anything else breaks the stream.
func (r *Reader) stopped(got []byte, n int, err error) error {
	if errors.Is(err, ipclab.ErrTimeout) {
		r.partial.got = append(r.partial.got[:0], got...)
		r.partial.size = n
		return err
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	r.partial.size = 0
	r.broken = fmt.Errorf("%s: the stream is broken: a read stopped inside a %d-byte message (%w)", r.name, n, err)
	return err
}

// readFunc makes a read function an io.Reader.
type readFunc func(p []byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }
