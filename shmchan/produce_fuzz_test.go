package shmchan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/testmain"
)

// fuzzRing lays out one ring of 4, 8 or 16 KiB with records aligned to
// 8 to 64 bytes, both chosen by the fuzzer, in a zeroed segment.
func fuzzRing(ringSel, alignSel uint8) (seg []byte, h header) {
	size := uint64(minRing) << (ringSel % 3)
	align := uint64(8) << (alignSel % 4)
	h = header{strategy: Spin, segSize: segSizeFor(size), ringSize: size, maxMsg: maxMsgFor(size, align), align: align, creator: 1}
	return alignedSegment(int(h.segSize)), h
}

// fuzzMessage is message number seq of n bytes: contents that differ from
// one message to the next, so a record overwritten or misplaced shows.
func fuzzMessage(b []byte, seq int) {
	for i := range b {
		b[i] = byte(i*31 + seq*7 + 1)
	}
}

// FuzzProduce drives the producer side (free space, need, reserve with
// its padding, commit) against an honest consumer, from any starting
// position (counters near 2^64 included) and in any interleaving of
// sends and receives chosen by the fuzzer. It checks that every message
// comes out whole and in order, that the producer never overruns the
// consumer's head, that a message is refused only when the ring really
// lacks the room, and that any message up to the maximum fits an empty
// ring, as maxMsgFor promises.
//
// ops is read as a program: an even byte followed by two bytes is a send
// of that many bytes (modulo the maximum + 1); an odd byte is a receive,
// which publishes the head at once if bit 1 is set.
func FuzzProduce(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint64(0), []byte{0, 100, 0, 1, 0, 0, 200, 16, 3, 0, 0xff, 0xff, 0, 0xff, 0xff})
	f.Add(uint8(0), uint8(3), uint64(4096-64), []byte{0, 8, 0, 0, 40, 0, 3, 0, 0, 8, 1, 3})
	f.Add(uint8(1), uint8(1), ^uint64(0)-255, []byte{0, 1, 1, 0, 2, 2, 0, 3, 3, 3, 3, 0, 4, 4})
	f.Fuzz(func(t *testing.T, ringSel, alignSel uint8, start uint64, ops []byte) {
		seg, h := fuzzRing(ringSel, alignSel)
		start &^= h.align - 1
		atomic.StoreUint64(u64(seg, ctrlBase), start)
		atomic.StoreUint64(u64(seg, ctrlBase+lineSize), start)
		prod, cons := newRing(seg, ctrlBase, dataStart, h), newRing(seg, ctrlBase, dataStart, h)
		if err := prod.startProducer(); err != nil {
			t.Fatalf("producer refused an empty ring at %d: %v", start, err)
		}
		if err := cons.startConsumer(); err != nil {
			t.Fatalf("consumer refused an empty ring at %d: %v", start, err)
		}
		var inFlight [][]byte // sent, not yet received, oldest first
		seq := 0
		send := func(n int) bool {
			need := prod.need(prod.recordSize(n))
			head := atomic.LoadUint64(prod.head)
			payload, ok, err := prod.reserve(n)
			if err != nil {
				t.Fatalf("reserve %d bytes: %v", n, err)
			}
			if !ok {
				if free := h.ringSize - (prod.pos - head); free >= need {
					t.Fatalf("a %d-byte message was refused with %d bytes free and %d needed", n, free, need)
				}
				return false
			}
			if len(payload) != n {
				t.Fatalf("reserve(%d) gave %d bytes", n, len(payload))
			}
			fuzzMessage(payload, seq)
			prod.commit(n)
			if used := prod.pos - head; used > h.ringSize {
				t.Fatalf("the producer is %d bytes ahead of the consumer's head in a %d-byte ring", used, h.ringSize)
			}
			inFlight = append(inFlight, bytes.Clone(payload))
			seq++
			return true
		}
		recv := func(publish bool) {
			msg, ok, err := cons.peek()
			if err != nil {
				t.Fatalf("the consumer found the producer's records corrupt: %v", err)
			}
			if ok != (len(inFlight) > 0) {
				t.Fatalf("peek says a message is there: %v, with %d in flight", ok, len(inFlight))
			}
			if !ok {
				return
			}
			if !bytes.Equal(msg, inFlight[0]) {
				t.Fatalf("received %d bytes %x..., want the %d-byte message sent next", len(msg), msg[:min(len(msg), 8)], len(inFlight[0]))
			}
			inFlight = inFlight[1:]
			cons.release(len(msg), publish)
			// What a producer waiting for room may not see yet: less than
			// the lag (none if asked to publish), or its spin would outlast
			// the consumer's progress.
			if behind := cons.pos - atomic.LoadUint64(cons.head); behind >= cons.lag() || publish && behind != 0 {
				t.Fatalf("the published head trails the consumer by %d bytes (lag %d, publish %v)", behind, cons.lag(), publish)
			}
		}
		drain := func() {
			for len(inFlight) > 0 {
				recv(false)
			}
			cons.flush()
		}
		for i := 0; i < len(ops); {
			op := ops[i]
			if op&1 == 1 {
				recv(op&2 != 0)
				i++
				continue
			}
			if i+2 >= len(ops) {
				break
			}
			n := int(binary.LittleEndian.Uint16(ops[i+1:])) % int(h.maxMsg+1)
			i += 3
			if !send(n) {
				drain()
				if !send(n) {
					t.Fatalf("a %d-byte message (maximum %d) does not fit an empty %d-byte ring at offset %d",
						n, h.maxMsg, h.ringSize, prod.pos&prod.mask)
				}
			}
		}
		drain()
		if _, err := prod.free(); err != nil {
			t.Fatalf("free after draining: %v", err)
		}
	})
}

// FuzzProduceHostileConsumer gives the producer a consumer that writes
// whatever it likes into the shared head, from arbitrary starting
// counters. The producer must refuse inconsistent counters with
// ErrCorrupt, never panic, and never reserve space beyond the last head
// it validated: what the consumer has not yet read stays intact.
//
// ops: op%4 == 0, then two bytes: reserve and commit that many bytes;
// 1, then eight bytes: the consumer stores them as its head; 2, then one
// byte: the consumer advances its head by that many records' alignment;
// 3: free.
func FuzzProduceHostileConsumer(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint64(0), uint64(0), []byte{0, 200, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 1, 3})
	f.Add(uint8(0), uint8(0), uint64(64), uint64(32), []byte{3})
	f.Add(uint8(1), uint8(2), uint64(4096), uint64(8192), []byte{2, 4, 0, 16, 0, 1, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 3})
	f.Fuzz(func(t *testing.T, ringSel, alignSel uint8, head, tail uint64, ops []byte) {
		seg, h := fuzzRing(ringSel, alignSel)
		atomic.StoreUint64(u64(seg, ctrlBase), head)
		atomic.StoreUint64(u64(seg, ctrlBase+lineSize), tail)
		prod := newRing(seg, ctrlBase, dataStart, h)
		consistent := tail-head <= h.ringSize && (head|tail)&(h.align-1) == 0
		if err := prod.startProducer(); (err == nil) != consistent {
			t.Fatalf("head %d, tail %d of a %d-byte ring aligned to %d: start: %v", head, tail, h.ringSize, h.align, err)
		} else if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("start: %v does not match ErrCorrupt", err)
			}
			return
		}
		corruptOrFatal := func(what string, err error) {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: %v does not match ErrCorrupt", what, err)
			}
		}
		for i := 0; i < len(ops); {
			switch op := ops[i] % 4; {
			case op == 0 && i+2 < len(ops):
				n := int(binary.LittleEndian.Uint16(ops[i+1:])) % int(h.maxMsg+1)
				i += 3
				payload, ok, err := prod.reserve(n)
				if err != nil {
					corruptOrFatal("reserve", err)
					return
				}
				if !ok {
					continue
				}
				if len(payload) != n {
					t.Fatalf("reserve(%d) gave %d bytes", n, len(payload))
				}
				fuzzMessage(payload, i)
				prod.commit(n)
				if used := prod.pos - prod.peerSeen; used > h.ringSize {
					t.Fatalf("reserved up to %d, %d bytes past the validated head %d of a %d-byte ring", prod.pos, used, prod.peerSeen, h.ringSize)
				}
			case op == 1 && i+8 < len(ops):
				atomic.StoreUint64(prod.head, binary.LittleEndian.Uint64(ops[i+1:]))
				i += 9
			case op == 2 && i+1 < len(ops):
				atomic.AddUint64(prod.head, uint64(ops[i+1])*h.align)
				i += 2
			case op == 3:
				i++
				before, head := prod.peerSeen, atomic.LoadUint64(prod.head)
				// What a consumer can do: move forward, aligned, never past
				// the producer. Anything else is refused.
				valid := prod.pos-head <= h.ringSize && head&(h.align-1) == 0 && head-before <= h.ringSize
				free, err := prod.free()
				if (err == nil) != valid {
					t.Fatalf("head %d after %d, producer at %d, %d-byte ring aligned to %d: free: %v", head, before, prod.pos, h.ringSize, h.align, err)
				}
				if err != nil {
					corruptOrFatal("free", err)
					if prod.peerSeen != before {
						t.Fatalf("a refused head %d was taken as the consumer's position", head)
					}
					return
				}
				if free > h.ringSize || free != h.ringSize-(prod.pos-prod.peerSeen) {
					t.Fatalf("free %d bytes of a %d-byte ring, producer at %d, head %d", free, h.ringSize, prod.pos, prod.peerSeen)
				}
			default:
				i = len(ops) // an incomplete last operation
			}
		}
	})
}

// TestHeadLagIsSmallInABigRing: in a 4 MiB ring (the default before
// 256 KiB; RingSizeFor's for 1 MiB messages is 8 MiB) the consumer
// publishes its head at least every publishChunk bytes, not every eighth
// of the ring (512 KiB, 7,000 small messages, longer than a producer
// spins for room before it gives up and sleeps), and HeadLag says so.
func TestHeadLagIsSmallInABigRing(t *testing.T) {
	c, o := pair(t, Config{Strategy: Futex, RingSize: 4 << 20})
	if got, want := c.HeadLag(), publishChunk; got != want {
		t.Fatalf("HeadLag of a %d-byte ring: %d, want %d", c.RingSize(), got, want)
	}
	msg, buf := make([]byte, 64), make([]byte, 64)
	moved := 0
	for i := range 2 * publishChunk / 64 {
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
		before := atomic.LoadUint64(o.rx.head)
		if _, err := o.Recv(buf); err != nil {
			t.Fatal(err)
		}
		if atomic.LoadUint64(o.rx.head) != before {
			moved++
		}
		if behind := o.rx.pos - atomic.LoadUint64(o.rx.head); behind >= publishChunk {
			t.Fatalf("message %d: the head trails the consumer by %d bytes", i, behind)
		}
	}
	if moved < 2 {
		t.Errorf("the head moved %d times in %d bytes consumed", moved, 2*publishChunk)
	}
	s, _ := pair(t, Config{Strategy: SysVSem})
	if got := s.HeadLag(); got != 0 {
		t.Errorf("HeadLag under SysVSem: %d, want 0 (every message's room is published)", got)
	}
}

// TestHeadLagMissedBySleepingProducer: release publishes the lazy head
// after its look at spaceWait, so a producer can announce its sleep for
// room in between and read the head from before the store: it sleeps on
// room it has. The consumer's flush before it waits for data is then the
// last look that can wake it, and must look even when that flush moves
// the head no further (the last release published it all). Otherwise the
// producer sleeps out its bound (peerCheckInterval), counted as a late
// wake.
func TestHeadLagMissedBySleepingProducer(t *testing.T) {
	testmain.Watchdog(t, time.Minute)
	c, o := pair(t, Config{Strategy: Futex, RingSize: minRing, SpinBudget: -1})
	msg, buf := make([]byte, 64), make([]byte, 64)
	rec := o.rx.recordSize(len(msg))
	perPublication := (o.rx.lag() + rec - 1) / rec
	full := int(uint64(c.RingSize()) / rec / perPublication * perPublication)
	for range full {
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	if c.tx.size-(c.tx.pos-atomic.LoadUint64(c.tx.head)) >= c.tx.need(rec) {
		t.Fatalf("%d messages of %d bytes leave room for one more in a %d-byte ring", full, len(msg), c.RingSize())
	}
	sent := make(chan error, 1)
	go func() { sent <- c.Send(msg) }() // no room, no spin: it sleeps
	for atomic.LoadUint32(c.tx.spaceWait) == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // past its look at the head: asleep
	// The consumer takes every message as Release does when its look at
	// spaceWait came before the announcement: lazily, the last release
	// publishing the head by a release store.
	o.recvMu.Lock()
	var err error
	for i := 0; i < full && err == nil; i++ {
		p, ok, perr := o.rx.peek()
		switch {
		case perr != nil:
			err = perr
		case !ok:
			err = fmt.Errorf("message %d of %d is not there", i, full)
		default:
			o.rx.release(len(p), false)
		}
	}
	lazy := atomic.LoadUint64(o.rx.head) == o.rx.pos && o.rx.unfenced
	o.recvMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if !lazy {
		t.Fatal("the last release did not publish the head by itself: the case is not set up")
	}
	if _, err := o.Recv(buf); err != nil { // waits: the producer's message comes once it is woken
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if _, send := c.WaitStats(); send.LateWakes != 0 {
		t.Errorf("the producer slept out its %v bound on room it had: the consumer did not wake it before it waited itself", peerCheckInterval)
	}
}
