package framing

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testmain.Main(m) }

// source is a stream in memory that hands out at most chunk() bytes a
// read, says stopAt's error once when a read would cross stopAt, and then
// io.EOF.
type source struct {
	data   []byte
	pos    int
	chunk  func() int
	stopAt int
	stop   error
	reads  []read // every read's destination and stream position
}

type read struct {
	dst unsafe.Pointer
	pos int
	n   int
}

func (s *source) Read(p []byte) (int, error) {
	if s.pos == len(s.data) {
		return 0, io.EOF
	}
	n := min(len(p), len(s.data)-s.pos, s.chunk())
	if s.stop != nil && s.pos <= s.stopAt && s.pos+n > s.stopAt {
		if n = s.stopAt - s.pos; n == 0 {
			err := s.stop
			s.stop = nil
			return 0, err
		}
	}
	copy(p, s.data[s.pos:s.pos+n])
	s.reads = append(s.reads, read{unsafe.Pointer(&p[0]), s.pos, n})
	s.pos += n
	return n, nil
}

func frame(msg []byte) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(msg))), msg...)
}

func message(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestFramesOverAnyChunking reads frames of every kind of size (empty,
// inside the read-ahead, larger than it), plain and padded alternately,
// however the stream cuts them (a padded header too).
func TestFramesOverAnyChunking(t *testing.T) {
	const readAhead = 8 << 10
	sizes := []int{0, 1, 3, 4, 60, 64, 4092, 4096, 4100, readAhead - 4, readAhead, 3 * readAhead, 7, 0, 100000}
	for _, maxChunk := range []int{1, 3, 5, 64, 4097, readAhead, 1 << 20} {
		rng := rand.New(rand.NewPCG(uint64(maxChunk), 9))
		var msgs [][]byte
		var stream []byte
		for range 3 {
			for i, n := range sizes {
				m := message(rng, n)
				msgs = append(msgs, m)
				stream = append(append(stream, PutHeader(make([]byte, PaddedLen), n, i%2 == 1)...), m...)
			}
		}
		src := &source{data: stream, chunk: func() int { return 1 + rng.IntN(maxChunk) }}
		r := NewReader("test", src.Read, readAhead)
		p := make([]byte, 200000)
		for i, want := range msgs {
			size, err := r.Header()
			if err != nil || int(size) != len(want) {
				t.Fatalf("chunks up to %d, message %d: header %d, %v; want %d", maxChunk, i, size, err, len(want))
			}
			n, err := r.Take(p)
			if err != nil || !bytes.Equal(p[:n], want) {
				t.Fatalf("chunks up to %d, message %d: %d bytes, %v; want the %d sent", maxChunk, i, n, err, len(want))
			}
		}
		if _, err := r.Header(); err != io.EOF {
			t.Fatalf("chunks up to %d: after the last frame: %v, want io.EOF", maxChunk, err)
		}
	}
}

// TestReadAheadKeepsPageOffsets checks the placement the package comment
// explains: the first message starts a 4 KiB page, and every read into
// the read-ahead puts each stream byte at the page offset it had before,
// through moves of left-over bytes, reads straight into the caller's
// buffer and discarded frames.
func TestReadAheadKeepsPageOffsets(t *testing.T) {
	const readAhead = 64 << 10
	rng := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	var starts []int // where each frame starts
	sizes := []int{4096, 32768, 64, 4096, 100000, 5, 70000, 4096, 1000, 2, 32768}
	for range 20 {
		for _, n := range sizes {
			starts = append(starts, len(stream))
			stream = append(stream, frame(message(rng, n))...)
		}
	}
	src := &source{data: stream}
	src.chunk = func() int {
		if rng.IntN(2) == 0 {
			return 1 + rng.IntN(40000)
		}
		// End inside or right before a header a few frames on: the left
		// over bytes move.
		for _, at := range starts {
			if at > src.pos+rng.IntN(20000) {
				return at + rng.IntN(HeaderLen) - src.pos
			}
		}
		return 1 << 20
	}
	r := NewReader("test", src.Read, readAhead)
	p := make([]byte, 100000)
	discardsPast, resumes := 0, 0
	for i := 0; ; i++ {
		size, err := r.Header()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch end := starts[i] + HeaderLen + int(size); {
		case size == 5 || size == 70000:
			// As a receiver does with a frame over its limit; the large
			// one often reaches past the read-ahead.
			if r.re-r.rs-HeaderLen < int(size) {
				discardsPast++
			}
			err = r.Discard()
		case size == 100000 && src.pos < end-500:
			// A deadline stops the read past the read-ahead; Resume
			// finishes it, and the next read-ahead must land right.
			src.stopAt, src.stop = end-500, ipclab.ErrTimeout
			if _, err = r.Take(p); !errors.Is(err, ipclab.ErrTimeout) {
				t.Fatalf("frame %d: Take across the deadline: %v, want ErrTimeout", i, err)
			}
			_, err = r.Resume(p)
			resumes++
		default:
			_, err = r.Take(p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if discardsPast < 5 || resumes < 5 {
		t.Fatalf("%d discards read past the read-ahead, %d messages resumed; the test checks too little", discardsPast, resumes)
	}
	base := uintptr(unsafe.Pointer(&r.buf[0]))
	into := 0
	for i, rd := range src.reads {
		a := uintptr(rd.dst)
		if a < base || a >= base+uintptr(len(r.buf)) {
			continue // into the caller's buffer, or io.Discard's
		}
		into++
		// The message of the first frame (stream byte 4) starts a page.
		if off := ((int(a%AliasSpan)-rd.pos+HeaderLen)%AliasSpan + AliasSpan) % AliasSpan; off != 0 {
			t.Fatalf("read %d (stream byte %d, %d bytes) went %d bytes off the first message's page offset", i, rd.pos, rd.n, off)
		}
	}
	if into < 20 {
		t.Fatalf("only %d reads went into the read-ahead; the test checks nothing", into)
	}
}

// TestDeadlineInsideAMessage: a deadline that stops a read inside a
// message keeps it; Resume finishes it and the stream goes on.
func TestDeadlineInsideAMessage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := message(rng, 20000), message(rng, 10)
	stream := append(frame(a), frame(b)...)
	src := &source{data: stream, chunk: func() int { return 3000 }, stopAt: 9000, stop: ipclab.ErrTimeout}
	r := NewReader("test", src.Read, 4096)
	p := make([]byte, 30000)
	if _, err := r.Header(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Take(p); !errors.Is(err, ipclab.ErrTimeout) {
		t.Fatalf("Take across the deadline: %v, want ErrTimeout", err)
	}
	if n, ok := r.Stopped(); !ok || n != len(a) {
		t.Fatalf("Stopped = %d, %v; want %d, true", n, ok, len(a))
	}
	var short *ipclab.ShortBufferError
	if _, err := r.Resume(p[:100]); !errors.As(err, &short) || !short.Kept {
		t.Fatalf("Resume into 100 bytes: %v, want a ShortBufferError that keeps the message", err)
	}
	if n, err := r.Resume(p); err != nil || !bytes.Equal(p[:n], a) {
		t.Fatalf("Resume: %d bytes, %v; want the %d sent", n, err, len(a))
	}
	if _, ok := r.Stopped(); ok {
		t.Fatal("still stopped after Resume")
	}
	if _, err := r.Header(); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Take(p); err != nil || !bytes.Equal(p[:n], b) {
		t.Fatalf("the next message: %d bytes, %v", n, err)
	}
}

// TestEndOfStream: the end between frames is io.EOF; inside a header or a
// message it is io.ErrUnexpectedEOF, and inside a message it breaks the
// stream for good.
func TestEndOfStream(t *testing.T) {
	msg := bytes.Repeat([]byte{7}, 9000)
	p := make([]byte, 10000)
	for _, tc := range []struct {
		name   string
		stream []byte
		broken bool
	}{
		{"in a header", frame(msg)[:2], false},
		{"in a buffered message", frame(msg)[:100], true},
		{"in a message read past the buffer", frame(msg)[:8000], true},
	} {
		src := &source{data: tc.stream, chunk: func() int { return 1 << 20 }}
		r := NewReader("test", src.Read, 4096)
		_, err := r.Header()
		if err == nil {
			_, err = r.Take(p)
		}
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("end %s: %v, want io.ErrUnexpectedEOF", tc.name, err)
		}
		if broken := r.Broken() != nil; broken != tc.broken {
			t.Fatalf("end %s: broken %v (%v), want %v", tc.name, broken, r.Broken(), tc.broken)
		}
		if tc.broken {
			if _, err := r.Header(); err != r.Broken() {
				t.Fatalf("end %s: Header after the break: %v, want %v", tc.name, err, r.Broken())
			}
		}
	}
	src := &source{data: append(frame(msg), frame(nil)...), chunk: func() int { return 5000 }}
	r := NewReader("test", src.Read, 4096)
	for range 2 {
		if _, err := r.Header(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Take(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Header(); err != io.EOF {
		t.Fatalf("end between frames: %v, want io.EOF", err)
	}
}

// TestSkipAndDiscard: a marker's header is dropped alone; a frame too
// large to deliver is skipped whole, read-ahead or not.
func TestSkipAndDiscard(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	big, small, last := message(rng, 50000), message(rng, 300), message(rng, 9)
	marker := binary.LittleEndian.AppendUint32(nil, 0xffffffff)
	stream := append(append(append(append(marker, frame(small)...), frame(big)...), frame(small)...), frame(last)...)
	src := &source{data: stream, chunk: func() int { return 7000 }}
	r := NewReader("test", src.Read, 4096)
	p := make([]byte, 1000)
	want := [][]byte{small, small, last}
	for len(want) > 0 {
		size, err := r.Header()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case size == 0xffffffff:
			r.Skip()
		case int(size) > len(p):
			if err := r.Discard(); err != nil {
				t.Fatal(err)
			}
		default:
			n, err := r.Take(p)
			if err != nil || !bytes.Equal(p[:n], want[0]) {
				t.Fatalf("%d bytes, %v; want the %d sent", n, err, len(want[0]))
			}
			want = want[1:]
		}
	}
	if src.pos != len(stream) {
		t.Fatalf("read %d of %d bytes", src.pos, len(stream))
	}
}

// TestDiscardErrorBreaks: a read that fails while discarding a frame
// leaves the stream inside it, so the reader is broken for good instead
// of taking the frame's rest for a header. A deadline too: a discarded
// frame keeps no partial state to resume. The end inside the frame is
// io.ErrUnexpectedEOF, as in Take: io.EOF would tell the owner the peer
// closed cleanly between frames.
func TestDiscardErrorBreaks(t *testing.T) {
	big := bytes.Repeat([]byte{0xff}, 50000) // a header of 0xffffffff, read mid-frame
	for _, tc := range []struct {
		name string
		src  *source
		want error
	}{
		{"end", &source{data: frame(big)[:20000], chunk: func() int { return 7000 }}, io.ErrUnexpectedEOF},
		{"deadline", &source{data: frame(big), chunk: func() int { return 7000 }, stopAt: 20000, stop: ipclab.ErrTimeout}, ipclab.ErrTimeout},
	} {
		r := NewReader("test", tc.src.Read, 4096)
		if _, err := r.Header(); err != nil {
			t.Fatal(err)
		}
		if err := r.Discard(); !errors.Is(err, tc.want) {
			t.Fatalf("%s while discarding: %v, want %v", tc.name, err, tc.want)
		}
		if r.Broken() == nil {
			t.Fatalf("%s while discarding: the reader is not broken", tc.name)
		}
		if size, err := r.Header(); err != r.Broken() {
			t.Fatalf("%s while discarding: the next Header: %d, %v; want %v", tc.name, size, err, r.Broken())
		}
	}
}

// BenchmarkKernelCopyPlacement reads one 32 KiB frame from a Unix stream
// socket into a buffer with the message 0-64 bytes into a page: the cost
// the placement above avoids (go test -bench KernelCopy ./internal/framing).
func BenchmarkKernelCopyPlacement(b *testing.B) {
	const size = 32 << 10
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	msg := frame(make([]byte, size))
	buf := make([]byte, 2*size+2*AliasSpan)
	base := AliasSpan - int(uintptr(unsafe.Pointer(&buf[0]))%AliasSpan) // a page boundary
	for _, at := range []int{0, 4, 16, 28, 32, 64} {
		b.Run(fmt.Sprintf("message=%d", at), func(b *testing.B) {
			dst := buf[base+at-HeaderLen : base+at+size]
			b.SetBytes(size)
			for b.Loop() {
				if _, err := unix.Write(fds[0], msg); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < len(dst); {
					n, err := unix.Read(fds[1], dst[got:])
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
			}
		})
	}
}

// A padded header is the length with its top bit set and 60 zero bytes;
// a word with the bit set and more than MaxFrame below it (a pipe's
// hello) is a plain header. Skip and Discard drop a padded frame whole,
// and a stream that ends inside a padded header ends unexpectedly.
func TestPaddedHeaders(t *testing.T) {
	hdr := PutHeader(make([]byte, PaddedLen), 70000, true)
	if len(hdr) != PaddedLen || binary.LittleEndian.Uint32(hdr) != 70000|1<<31 || !bytes.Equal(hdr[4:], make([]byte, PaddedLen-4)) {
		t.Fatalf("padded header % x", hdr)
	}
	if hdr := PutHeader(make([]byte, PaddedLen), 9, false); !bytes.Equal(hdr, []byte{9, 0, 0, 0}) {
		t.Fatalf("plain header % x", hdr)
	}

	var stream []byte
	stream = append(stream, PutHeader(make([]byte, PaddedLen), 0, true)...)                     // a padded marker: Skip
	stream = append(stream, 0xff, 0xff, 0xff, 0xff)                                             // a hello: plain, Skip
	stream = append(append(stream, PutHeader(make([]byte, PaddedLen), 5, true)...), "skip!"...) // Discard
	stream = append(append(stream, PutHeader(make([]byte, PaddedLen), 2, true)...), "ok"...)
	stream = append(stream, PutHeader(make([]byte, PaddedLen), 1, true)[:10]...) // cut inside the header
	src := &source{data: stream, chunk: func() int { return 7 }}
	r := NewReader("test", src.Read, 1<<10)
	p := make([]byte, 16)
	for i, want := range []uint32{0, 0xffffffff, 5} {
		size, err := r.Header()
		if err != nil || size != want {
			t.Fatalf("header %d: %#x, %v; want %#x", i, size, err, want)
		}
		if i < 2 {
			r.Skip()
		} else if err := r.Discard(); err != nil {
			t.Fatal(err)
		}
	}
	if size, err := r.Header(); err != nil || size != 2 {
		t.Fatalf("header after them: %d, %v; want 2", size, err)
	}
	if n, err := r.Take(p); err != nil || string(p[:n]) != "ok" {
		t.Fatalf("Take: %q, %v; want ok", p[:n], err)
	}
	if _, err := r.Header(); err != io.ErrUnexpectedEOF {
		t.Fatalf("a stream cut inside a padded header: %v, want io.ErrUnexpectedEOF", err)
	}
}

// PadHeader pads a large message whose page offset puts it 1-31 bytes
// behind the kernel's after a 4-byte header at a page's start.
func TestPadHeader(t *testing.T) {
	page := make([]byte, 4*AliasSpan) // room for base + 64 + 2 pages
	base := (AliasSpan - int(uintptr(unsafe.Pointer(&page[0]))%AliasSpan)) % AliasSpan
	for _, c := range []struct {
		off, n int
		want   bool
	}{
		{0, 2 * AliasSpan, true},              // 4 bytes behind
		{3, AliasSpan + 1, true},              // 1 byte behind
		{4, 2 * AliasSpan, false},             // level
		{64, 2 * AliasSpan, false},            // ahead
		{AliasSpan - 27, AliasSpan + 1, true}, // 31 behind
		{AliasSpan - 28, AliasSpan + 1, false},
		{0, AliasSpan, false}, // small: not worth 60 bytes
	} {
		p := page[base+c.off : base+c.off+c.n]
		if got := PadHeader(p); got != c.want {
			t.Errorf("PadHeader of %d bytes at page offset %d = %v, want %v", c.n, c.off, got, c.want)
		}
	}
}

// A deadline at any byte of a padded header stops Header with nothing
// lost; Header again (as after a ShortBufferError) returns the same
// length, and Take the message. The words around MaxFrame: bit 31 and
// exactly MaxFrame is padded, one more is a plain header.
func TestPaddedHeaderStops(t *testing.T) {
	var stream []byte
	stream = append(append(stream, PutHeader(make([]byte, PaddedLen), 5000, true)...), make([]byte, 5000)...)
	stream = append(append(stream, PutHeader(make([]byte, PaddedLen), 3, true)...), "abc"...)
	p := make([]byte, 6000)
	for stop := 1; stop < PaddedLen; stop++ {
		src := &source{data: stream, chunk: func() int { return 1 << 20 }, stopAt: stop, stop: ipclab.ErrTimeout}
		r := NewReader("test", src.Read, 4096)
		if _, err := r.Header(); !errors.Is(err, ipclab.ErrTimeout) {
			t.Fatalf("stop at %d: %v, want ErrTimeout", stop, err)
		}
		for range 2 {
			if size, err := r.Header(); err != nil || size != 5000 {
				t.Fatalf("stop at %d: header %d, %v; want 5000", stop, size, err)
			}
		}
		if n, err := r.Take(p); err != nil || n != 5000 {
			t.Fatalf("stop at %d: Take %d, %v", stop, n, err)
		}
		if size, err := r.Header(); err != nil || size != 3 {
			t.Fatalf("stop at %d: next header %d, %v; want 3", stop, size, err)
		}
		if n, err := r.Take(p); err != nil || string(p[:n]) != "abc" {
			t.Fatalf("stop at %d: next Take %q, %v", stop, p[:n], err)
		}
	}
	for _, c := range []struct {
		word uint32
		size uint32
		hlen int
	}{
		{0x80000000, 0, PaddedLen},
		{0xc0000000, MaxFrame, PaddedLen},
		{0xc0000001, 0xc0000001, HeaderLen},
	} {
		src := &source{data: append(binary.LittleEndian.AppendUint32(nil, c.word), make([]byte, 100)...), chunk: func() int { return 13 }}
		r := NewReader("test", src.Read, 4096)
		if size, err := r.Header(); err != nil || size != c.size || r.hlen != c.hlen {
			t.Fatalf("word %#x: %#x, %d-byte header, %v; want %#x, %d", c.word, size, r.hlen, err, c.size, c.hlen)
		}
	}
}
