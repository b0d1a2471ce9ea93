package shmchan

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"github.com/ipclab/ipclab/internal/cpuops"
)

// ring is one direction of the channel as seen by one side: a producer or
// a consumer of it, never both. Positions this side writes are kept
// locally (the shared copy is only ever published); positions the peer
// writes are loaded and checked against the layout before use.
type ring struct {
	head, tail *uint64 // shared counters
	dataWait   *uint32 // futex words
	spaceWait  *uint32
	// fastTail (the consumer's, beside dataWait) is 1 while the consumer
	// lets the producer publish its tail without a barrier, because it
	// issues a global membarrier before it sleeps; barrierReg (the
	// producer's, beside tail) is 1 if the producer's process is
	// registered for that barrier. See publishTail.
	fastTail   *uint32
	barrierReg *uint32
	data       []byte // ringSize bytes
	size       uint64
	mask       uint64
	align      uint64
	maxMsg     uint64

	// tailBarrier: the consumer may sleep on dataWait (Futex, EventFD), so
	// the tail's store must not pass the producer's look at it
	// (publishTail). Spin never sleeps, and the semaphore strategies
	// signal every publication by a V whose locked operation (the kernel's
	// semop, or the CAS of a POSIX post) already orders it.
	tailBarrier bool
	// semSignalled: the semaphore strategies; the consumer's head is
	// followed by a V(empty) too (flush).
	semSignalled bool

	pos          uint64 // producer: our tail; consumer: our head (padding skipped included)
	published    uint64 // consumer: the head we last published
	unfenced     bool   // consumer: published by a release store, no barrier yet
	peerSeen     uint64 // last validated value of the peer's counter
	prefetchedTo uint64 // consumer: the position its read-ahead asked for lines up to
}

func newRing(seg []byte, ctrlOff int, dataOff uint64, h header) *ring {
	return &ring{
		head:       u64(seg, ctrlOff),
		tail:       u64(seg, ctrlOff+lineSize),
		dataWait:   u32(seg, ctrlOff+2*lineSize),
		spaceWait:  u32(seg, ctrlOff+3*lineSize),
		fastTail:   u32(seg, ctrlOff+2*lineSize+4),
		barrierReg: u32(seg, ctrlOff+lineSize+8),
		data:       seg[dataOff : dataOff+h.ringSize : dataOff+h.ringSize],
		size:       h.ringSize,
		mask:       h.ringSize - 1,
		align:      h.align,
		maxMsg:     h.maxMsg,

		tailBarrier:  h.strategy == Futex || h.strategy == EventFD,
		semSignalled: h.strategy == SysVSem || h.strategy == PosixSem,
	}
}

// startProducer and startConsumer take the shared counters as they are at
// attach time, validated, as this side's starting point.
func (r *ring) startProducer() error {
	r.pos = atomic.LoadUint64(r.tail)
	r.peerSeen = atomic.LoadUint64(r.head)
	return r.checkSpan(r.peerSeen, r.pos)
}

func (r *ring) startConsumer() error {
	r.pos = atomic.LoadUint64(r.head)
	r.published = r.pos
	r.peerSeen = atomic.LoadUint64(r.tail)
	return r.checkSpan(r.pos, r.peerSeen)
}

// checkSpan checks that head <= tail <= head+size and that both are
// aligned: what any consistent pair of counters satisfies.
func (r *ring) checkSpan(head, tail uint64) error {
	if tail-head > r.size || (tail|head)&(r.align-1) != 0 {
		return corrupt("ring counters head %d, tail %d: not within one %d-byte ring", head, tail, r.size)
	}
	return nil
}

// recordSize is the bytes a message of n bytes takes in the ring.
func (r *ring) recordSize(n int) uint64 { return alignUp(recHeader+uint64(n), r.align) }

// ---- producer side ----

// need is how many free bytes a record of size rec needs at position pos:
// itself, plus padding if it does not fit before the ring's end.
func (r *ring) need(rec uint64) uint64 {
	if contig := r.size - r.pos&r.mask; rec > contig {
		return contig + rec
	}
	return rec
}

// free returns the free bytes, loading and checking the consumer's head.
func (r *ring) free() (uint64, error) {
	head := atomic.LoadUint64(r.head)
	if err := r.checkSpan(head, r.pos); err != nil {
		return 0, err
	}
	if head-r.peerSeen > r.size { // went backwards, or jumped: not a consumer's doing
		return 0, corrupt("consumer head moved from %d to %d", r.peerSeen, head)
	}
	r.peerSeen = head
	return r.size - (r.pos - head), nil
}

// reserve returns the n-byte payload space of the next record if the
// ring has room for it now (ok false otherwise), writing padding first
// when the record would not fit before the end. Nothing is visible to the
// consumer until publish.
func (r *ring) reserve(n int) (payload []byte, ok bool, err error) {
	rec := r.recordSize(n)
	need := r.need(rec)
	if r.size-(r.pos-r.peerSeen) < need { // cached head says full: look again
		free, err := r.free()
		if err != nil || free < need {
			return nil, false, err
		}
	}
	idx := r.pos & r.mask
	if contig := r.size - idx; rec > contig {
		putRecHeader(r.data[idx:], uint32(contig-recHeader), kindPad)
		r.pos += contig
		idx = 0
	}
	putRecHeader(r.data[idx:], uint32(n), kindMsg)
	return r.data[idx+recHeader : idx+recHeader+uint64(n)], true, nil
}

// commit makes the record reserved for n bytes visible to the consumer.
// Padding written by reserve is published with it.
func (r *ring) commit(n int) {
	r.pos += r.recordSize(n)
	r.publishTail()
}

// publishTail makes every record up to pos visible to the consumer, by a
// release store: a full barrier after it would wait until the tail's line
// comes back from a consumer that polls it, a cache-line round trip per
// message, which held a 64-byte futex stream whose consumer kept up with
// its producer at 10 M messages/s against 35 M without it.
//
// Where the consumer may sleep, the wake-up check that follows
// (signalData's load of dataWait) must not pass the store, or both sides
// could miss each other: the consumer announcing its sleep and finding
// the old tail, the producer finding no announcement. The barrier is
// skipped only while the consumer says (fastTail) that it makes one for
// us: a global membarrier between its announcement and its last look at
// the tail, which either drains our store first or makes our later load
// see the announcement. Read after our store, a fastTail that the
// consumer has just cleared is seen as 0 unless our store came before
// the barrier the consumer makes as it clears it (Chan.syncFastTail), so
// either way one side sees the other. A Spin consumer never sleeps, and
// a semaphore strategy's consumer waits on its semaphore, whose V comes
// after this store (tailBarrier).
func (r *ring) publishTail() {
	cpuops.StoreRelease64(r.tail, r.pos)
	if r.tailBarrier && atomic.LoadUint32(r.fastTail) == 0 {
		atomic.StoreUint64(r.tail, r.pos) // the barrier: XCHG, on a line we hold now
	}
	r.prefetch()
}

// prefetchAhead is how far past its tail the producer asks for the ring's
// next cache line: a few small messages ahead.
const prefetchAhead = 256

// prefetch asks for the line the producer will write a few messages from
// now, for writing. Each Send's lock-prefixed instructions (its mutex, the
// tail's store) wait for every store before them, and a store to a line
// the consumer last read waits for that line to come back from the
// consumer's CPU (a cache-line round trip, about 70 ns here): one such
// wait per message bounded a 64-byte stream at about 9 M messages/s.
// Fetched ahead, the line is ours by the time it is written. (Measured:
// BenchmarkStream sysvshm-spin/64B, 5 rounds interleaved, median 110 ->
// 42 ns a message.)
func (r *ring) prefetch() {
	cpuops.PrefetchForWrite(unsafe.Pointer(&r.data[(r.pos+prefetchAhead)&r.mask]))
}

// ---- consumer side ----

// available loads the producer's tail, checks it, and reports whether
// there is a record to read.
func (r *ring) available() (bool, error) {
	if r.peerSeen != r.pos {
		return true, nil
	}
	tail := atomic.LoadUint64(r.tail)
	if tail == r.pos {
		return false, nil
	}
	if err := r.checkSpan(r.pos, tail); err != nil {
		return false, err
	}
	r.peerSeen = tail
	return true, nil
}

// peek returns the payload of the next message without consuming it,
// skipping padding. ok is false when the ring is empty. The payload
// aliases shared memory the producer could still scribble on (it must not,
// but it is another process): copy it before trusting its contents.
func (r *ring) peek() (payload []byte, ok bool, err error) {
	for {
		if ok, err := r.available(); !ok || err != nil {
			return nil, false, err
		}
		idx := r.pos & r.mask
		// One 8-byte load: the peer cannot change the header between our
		// checks and our use of it.
		hdr := atomic.LoadUint64(u64(r.data, int(idx)))
		n, kind := uint64(uint32(hdr)), uint32(hdr>>32)
		avail := r.peerSeen - r.pos
		switch kind {
		case kindPad:
			if contig := r.size - idx; n != contig-recHeader || contig > avail {
				return nil, false, corrupt("padding record of %d bytes at offset %d of a %d-byte ring with %d bytes published",
					n, idx, r.size, avail)
			}
			r.pos += r.size - idx
			continue
		case kindMsg:
			rec := alignUp(recHeader+n, r.align)
			if n > r.maxMsg || rec > r.size-idx || rec > avail {
				return nil, false, corrupt("message record of %d bytes at offset %d: exceeds the maximum %d, the ring's end or the %d bytes published",
					n, idx, r.maxMsg, avail)
			}
			if n > readAheadMin && n <= readAheadMax {
				r.prefetchRead(r.pos + rec)
			}
			return r.data[idx+recHeader : idx+recHeader+n : idx+recHeader+n], true, nil
		}
		return nil, false, corrupt("record kind %d at offset %d", kind, idx)
	}
}

// readAhead is how far past the record it returns the consumer asks for
// the cache lines of published records, for messages of (readAheadMin,
// readAheadMax] bytes. Measured (split, 4 rounds interleaved, spin and
// futex streams): 1 KiB 7.7 -> 12.7 M messages/s, 2 KiB 4.4 -> 6.7 M,
// 512 B 1.1x; 256 B lost 5% to the calls. At 3 and 4 KiB streams were
// 1.00-1.09x faster without it (posixsem and futex; the C baseline's
// 4 KiB 1.14-1.25x), and from 8 KiB it changed nothing. Why it pays is
// not established (no hardware counters in this VM). A guess: the
// hardware's stream prefetcher stops at each 4 KiB page, and a copy from
// the producer's cache then waits on each line until it has learnt the
// stream again.
const (
	readAhead    = 2048
	readAheadMin = 256
	readAheadMax = 2048
)

// prefetchRead asks for the lines of the published records from next (the
// end of the record being taken) up to readAhead bytes further.
func (r *ring) prefetchRead(next uint64) {
	spans, k := r.readAheadSpans(next)
	for _, sp := range spans[:k] {
		cpuops.PrefetchRange(unsafe.Pointer(&r.data[sp.off]), uintptr(sp.n))
	}
}

// span is n bytes of the ring's data at offset off.
type span struct{ off, n uint64 }

// readAheadSpans returns the bytes the read-ahead asks for next, as at
// most two spans (split at the ring's end), and moves prefetchedTo past
// them: from next, or where the last read-ahead stopped, to the
// published tail (peerSeen, validated) or readAhead past next. The last
// line may also hold bytes the producer has yet to write; the copy of
// the last published record reads that line anyway.
func (r *ring) readAheadSpans(next uint64) (spans [2]span, k int) {
	end := min(r.peerSeen, next+readAhead)
	start := max(r.prefetchedTo, next)
	if end <= start {
		return spans, 0
	}
	r.prefetchedTo = end
	for start < end {
		off := start & r.mask
		n := min(end-start, r.size-off)
		spans[k] = span{off, n}
		k++
		start += n
	}
	return spans, k
}

// publishChunk bounds how far the consumer's published head may lag
// what it has taken: a producer waiting for room spins (Futex: for its
// budget, 50 µs) until the head moves, so the lag must be consumed well
// within the budget. 16 KiB is 228 records of 64 bytes, about 8 µs of a
// consumer here; an eighth of a 4 MiB ring took 250 µs, every spin for
// room ran out, and the producer slept on every full ring (posixshm-futex
// 64 B streams 10.6 M messages/s against spin's 27.9 M).
const publishChunk = 16 << 10

// lag is the most the published head trails the consumer's position
// (release's threshold): a link must not count on that room.
func (r *ring) lag() uint64 { return min(r.size/8, publishChunk) }

// release consumes the message peek returned, which was n bytes long. The
// new head is published (an atomic store, which moves a cache line to the
// producer) only if publish is set or lag bytes have been consumed since
// the last publication; flush publishes the rest. It returns the bytes
// published now, padding skipped before included.
//
// A publication for the lag alone is a release store (cpuops.StoreRelease64), not
// a full barrier: nothing follows it that must not pass it, because the
// producer's announcement that it sleeps for room is read by the next
// release or, before this side waits, after flush's barrier.
func (r *ring) release(n int, publish bool) uint64 {
	r.pos += r.recordSize(n)
	switch {
	case publish:
		return r.flush()
	case r.pos-r.published < r.lag():
		return 0
	}
	freed := r.pos - r.published
	r.published = r.pos
	r.unfenced = true
	cpuops.StoreRelease64(r.head, r.pos)
	return freed
}

// flush publishes the consumer's head, with a full barrier, if it moved or
// its last publication had none, and returns by how much it moved: after
// flush, a load of the producer's sleep announcement cannot have passed
// the head's store. The semaphore strategies (semSignalled) publish by a
// release store alone: their producer reads no announcement; it looks at
// the head after a P(empty) (or, PosixSem, after taking every token
// there), and a count posted by the V(empty) that follows this store
// carries it (release, then acquire, through the semaphore).
func (r *ring) flush() uint64 {
	freed := r.pos - r.published
	if freed != 0 || r.unfenced {
		r.published = r.pos
		r.unfenced = false
		if r.semSignalled {
			cpuops.StoreRelease64(r.head, r.pos) // the V(empty) after it is the barrier
		} else {
			atomic.StoreUint64(r.head, r.pos)
		}
	}
	return freed
}

// putRecHeader writes a record header. The consumer reads it only after
// the tail that covers it is published (an atomic store), so a plain
// store is enough here.
func putRecHeader(b []byte, n uint32, kind uint32) {
	binary.LittleEndian.PutUint64(b, uint64(n)|uint64(kind)<<32)
}
