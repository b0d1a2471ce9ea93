package shmchan

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// TestCorruptHeaderIsRefused scribbles on each header field of a real
// segment and checks that Attach refuses it with ErrCorrupt.
func TestCorruptHeaderIsRefused(t *testing.T) {
	le := binary.LittleEndian
	cases := map[string]func(seg []byte){
		"magic":        func(seg []byte) { le.PutUint64(seg[offMagic:], 0xdead) },
		"version":      func(seg []byte) { le.PutUint32(seg[offVersion:], 99) },
		"strategy":     func(seg []byte) { le.PutUint32(seg[offStrategy:], 7) },
		"ring size":    func(seg []byte) { le.PutUint64(seg[offRingSize:], 1<<40) },
		"odd ring":     func(seg []byte) { le.PutUint64(seg[offRingSize:], 5000) },
		"segment size": func(seg []byte) { le.PutUint64(seg[offSegSize:], 1<<30) },
		"alignment":    func(seg []byte) { le.PutUint64(seg[offAlign:], 12) },
		"max message":  func(seg []byte) { le.PutUint64(seg[offMaxMsg:], 1<<20) },
		"creator":      func(seg []byte) { le.PutUint32(seg[offCreatorPID:], 0) },
		"counters":     func(seg []byte) { le.PutUint64(seg[ctrlBase+lineSize:], 1<<20) },
		"misaligned":   func(seg []byte) { le.PutUint64(seg[ctrlBase+lineSize:], 3) },
	}
	for name, scribble := range cases {
		c, err := Create(Config{RingSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		scribble(c.seg)
		o, err := Attach(c.ID(), AttachOptions{})
		if !errors.Is(err, ErrCorrupt) {
			if o != nil {
				o.Close()
			}
			t.Errorf("%s: attach: %v, want ErrCorrupt", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
		c.Close()
	}
}

// TestCorruptCountersAndRecords: a peer that publishes impossible counters
// or records gets ErrCorrupt from the receiver, promptly.
func TestCorruptCountersAndRecords(t *testing.T) {
	cases := map[string]func(c *Chan){
		"tail beyond the ring": func(c *Chan) { atomic.StoreUint64(c.tx.tail, 4096+8) },
		"tail behind the head": func(c *Chan) { atomic.StoreUint64(c.tx.tail, ^uint64(7)) },
		"length past the end": func(c *Chan) {
			putRecHeader(c.tx.data, 4000, kindMsg)
			atomic.StoreUint64(c.tx.tail, 64)
		},
		"length past the maximum": func(c *Chan) {
			putRecHeader(c.tx.data, uint32(c.hdr.maxMsg+8), kindMsg)
			atomic.StoreUint64(c.tx.tail, 4096)
		},
		"unknown kind": func(c *Chan) {
			putRecHeader(c.tx.data, 8, 77)
			atomic.StoreUint64(c.tx.tail, 16)
		},
		"short padding": func(c *Chan) {
			putRecHeader(c.tx.data, 8, kindPad)
			atomic.StoreUint64(c.tx.tail, 16)
		},
	}
	for name, scribble := range cases {
		c, o := pair(t, Config{RingSize: 4096})
		scribble(c)
		o.SetReadDeadline(time.Now().Add(time.Second))
		_, err := o.Recv(make([]byte, 4096))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: recv: %v, want ErrCorrupt", name, err)
		}
	}
	// And the producer side: a consumer head that runs ahead of the tail.
	c, o := pair(t, Config{RingSize: 4096})
	atomic.StoreUint64(o.rx.head, 1<<20)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = c.Send(make([]byte, 1000))
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("send with a consumer head beyond the tail: %v, want ErrCorrupt", err)
	}
}

// alignedSegment returns a zeroed, 8-byte aligned byte slice.
func alignedSegment(n int) []byte {
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// FuzzAttach feeds arbitrary header bytes to the validation done on attach.
func FuzzAttach(f *testing.F) {
	good := alignedSegment(dataStart)
	(&header{strategy: Futex, segSize: segSizeFor(4096), ringSize: 4096, maxMsg: 100, align: 8, creator: 1}).put(good)
	f.Add(good[:ctrlBase], uint64(segSizeFor(4096)))
	f.Fuzz(func(t *testing.T, hdr []byte, kernelSize uint64) {
		seg := alignedSegment(dataStart)
		copy(seg, hdr)
		h, err := validateHeader(seg, kernelSize)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if h.segSize > kernelSize || h.maxMsg > maxMsgFor(h.ringSize, h.align) {
			t.Fatalf("accepted an inconsistent header %+v for %d bytes", h, kernelSize)
		}
	})
}

// FuzzConsume gives the consumer an arbitrary ring (counters and bytes) and
// checks that it never panics, never returns a message outside the ring or
// above the maximum, and stops: every step either consumes or errs.
func FuzzConsume(f *testing.F) {
	f.Add(uint64(0), uint64(16), []byte{8, 0, 0, 0, 1, 0, 0, 0, 'a', 'b'})
	f.Add(uint64(4080), uint64(4112), []byte{})
	f.Fuzz(func(t *testing.T, head, tail uint64, data []byte) {
		const size = 4096
		h := header{strategy: Spin, segSize: segSizeFor(size), ringSize: size, maxMsg: maxMsgFor(size, 8), align: 8, creator: 1}
		seg := alignedSegment(int(h.segSize))
		copy(seg[dataStart:], data)
		atomic.StoreUint64(u64(seg, ctrlBase), head)
		atomic.StoreUint64(u64(seg, ctrlBase+lineSize), tail)
		r := newRing(seg, ctrlBase, dataStart, h)
		if err := r.startConsumer(); err != nil {
			return
		}
		for step := 0; step < 2*size/8+2; step++ {
			msg, ok, err := r.peek()
			if err != nil || !ok {
				return
			}
			if uint64(len(msg)) > h.maxMsg || uint64(cap(msg)) > size {
				t.Fatalf("peek returned %d bytes (cap %d) from a %d-byte ring", len(msg), cap(msg), size)
			}
			r.release(len(msg), true)
		}
		t.Fatalf("the consumer did not finish a ring of %d published bytes", tail-head)
	})
}
