package shmchan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The segment, as both processes see it:
//
//	0     segment header (fixed fields below), written by the creator
//	512   ring 0 control: creator -> opener
//	1024  ring 1 control: opener -> creator
//	4096  ring 0 data, ringSize bytes
//	...   ring 1 data, ringSize bytes
//
// A ring control block is four 128-byte lines (two cache lines each, since
// the adjacent-line prefetcher moves pairs), so the producer's and the
// consumer's words never share a line:
//
//	+0    head: bytes consumed so far (consumer writes, producer reads)
//	+128  tail: bytes produced so far (producer writes, consumer reads)
//	+136  barrierReg: 1 if the producer's process is registered for the
//	      global membarrier (producer writes, at attach)
//	+256  dataWait: futex word, 1 while the consumer sleeps for data
//	+260  fastTail: 1 while the consumer makes the producer's tail barrier
//	      (consumer writes; 0 at attach; see ring.publishTail)
//	+384  spaceWait: futex word, 1 while the producer sleeps for room
//
// head and tail only grow; a position's offset in the ring is pos mod
// ringSize. Everything here is written by another process and is checked
// before use: see validateHeader and ring.
const (
	magic   = 0x4853_4241_4c43_5049 // "IPCLABSH" little-endian
	version = 1

	offMagic      = 0
	offVersion    = 8
	offStrategy   = 12
	offSegSize    = 16
	offRingSize   = 24
	offMaxMsg     = 32
	offAlign      = 40
	offSemID      = 48
	offCreatorPID = 56
	offOpenerPID  = 60
	// Close flags: each side sets its own when it closes, then wakes the
	// other, which answers ErrPeerGone once the ring is drained.
	offCreatorClosed = 64
	offOpenerClosed  = 68

	ctrlBase  = 512
	ctrlSize  = 512
	lineSize  = 128
	dataStart = 4096

	maxAlign  = 4096 // the largest record alignment (SysVSem's, in its largest rings)
	recHeader = 8    // record header: length u32, kind u32
	kindMsg   = 1
	kindPad   = 2 // fills the ring's end; the next record starts at offset 0
)

// ErrCorrupt is matched by every error about a segment whose contents break
// the layout: a bad header, a counter out of range, a length past the end.
// The channel is unusable after one.
var ErrCorrupt = errors.New("shmchan: corrupt shared memory")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// header is the decoded, validated segment header.
type header struct {
	strategy Strategy
	segSize  uint64
	ringSize uint64
	maxMsg   uint64
	align    uint64
	semID    int32
	creator  int32
}

func (h *header) put(seg []byte) {
	le := binary.LittleEndian
	le.PutUint32(seg[offVersion:], version)
	le.PutUint32(seg[offStrategy:], uint32(h.strategy))
	le.PutUint64(seg[offSegSize:], h.segSize)
	le.PutUint64(seg[offRingSize:], h.ringSize)
	le.PutUint64(seg[offMaxMsg:], h.maxMsg)
	le.PutUint64(seg[offAlign:], h.align)
	le.PutUint32(seg[offSemID:], uint32(h.semID))
	le.PutUint32(seg[offCreatorPID:], uint32(h.creator))
	le.PutUint32(seg[offCreatorClosed:], 0) // a reused segment's old flags
	le.PutUint32(seg[offOpenerClosed:], 0)
	// The magic last: an opener that sees it sees a complete header.
	atomic.StoreUint64(u64(seg, offMagic), magic)
}

// segSizeFor is the segment size for rings of ringSize bytes.
func segSizeFor(ringSize uint64) uint64 { return dataStart + 2*ringSize }

// validateHeader decodes the header of a segment of kernelSize bytes (the
// size the kernel reports, which the peer cannot lie about) and checks that
// every field is consistent with it and with the layout.
func validateHeader(seg []byte, kernelSize uint64) (header, error) {
	var h header
	if uint64(len(seg)) < dataStart || kernelSize < dataStart || uint64(len(seg)) < kernelSize {
		return h, corrupt("segment of %d bytes is smaller than the %d-byte header", len(seg), dataStart)
	}
	le := binary.LittleEndian
	if m := atomic.LoadUint64(u64(seg, offMagic)); m != magic {
		return h, corrupt("bad magic %#x: not an ipclab shared-memory channel, or not initialised yet", m)
	}
	if v := le.Uint32(seg[offVersion:]); v != version {
		return h, corrupt("layout version %d, this build reads version %d", v, version)
	}
	h.strategy = Strategy(le.Uint32(seg[offStrategy:]))
	h.segSize = le.Uint64(seg[offSegSize:])
	h.ringSize = le.Uint64(seg[offRingSize:])
	h.maxMsg = le.Uint64(seg[offMaxMsg:])
	h.align = le.Uint64(seg[offAlign:])
	h.semID = int32(le.Uint32(seg[offSemID:]))
	h.creator = int32(le.Uint32(seg[offCreatorPID:]))
	switch {
	case h.strategy >= numStrategies:
		return h, corrupt("unknown wait strategy %d", h.strategy)
	case h.ringSize < minRing || h.ringSize > maxRing || h.ringSize&(h.ringSize-1) != 0:
		return h, corrupt("ring size %d is not a power of two in [%d, %d]", h.ringSize, minRing, maxRing)
	case h.segSize != segSizeFor(h.ringSize) || h.segSize > kernelSize:
		return h, corrupt("header says %d bytes, rings need %d, the kernel says the segment has %d",
			h.segSize, segSizeFor(h.ringSize), kernelSize)
	case h.align < 8 || h.align > maxAlign || h.align&(h.align-1) != 0:
		return h, corrupt("record alignment %d is not a power of two in [8, %d]", h.align, maxAlign)
	case h.maxMsg == 0 || h.maxMsg > maxMsgFor(h.ringSize, h.align):
		return h, corrupt("maximum message %d does not fit a %d-byte ring", h.maxMsg, h.ringSize)
	case h.creator <= 0:
		return h, corrupt("creator pid %d", h.creator)
	case h.strategy == SysVSem && h.semID < 0:
		return h, corrupt("semaphore set id %d", h.semID)
	}
	return h, nil
}

// maxMsgFor is the largest message a ring can always take: a record of
// size r may need r-align bytes of padding before it when it does not fit
// the ring's end, so 2r - align <= ringSize.
func maxMsgFor(ringSize, align uint64) uint64 {
	return ((ringSize+align)/2)&^(align-1) - recHeader
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// u64 and u32 point into the segment at 8- and 4-byte aligned offsets.
func u64(seg []byte, off int) *uint64 { return (*uint64)(unsafe.Pointer(&seg[off])) }
func u32(seg []byte, off int) *uint32 { return (*uint32)(unsafe.Pointer(&seg[off])) }

// Identify reports whether System V segment id is an ipclab channel, by
// attaching it read-only and reading its header, and if so which process
// created it. `ipclab ls` uses it to find segments no registry entry names.
func Identify(id int) (creatorPID int, ok bool) {
	seg, err := unix.SysvShmAttach(id, 0, unix.SHM_RDONLY)
	if err != nil {
		return 0, false
	}
	defer unix.SysvShmDetach(seg)
	if len(seg) < dataStart || atomic.LoadUint64(u64(seg, offMagic)) != magic {
		return 0, false
	}
	return int(int32(binary.LittleEndian.Uint32(seg[offCreatorPID:]))), true
}

// IdentifyFile reports whether the file at path (a POSIX shared-memory
// object) is an ipclab channel, by reading its header without mapping or
// following a link, and if so which process created it. `ipclab ls` and
// `ipclab clean` use it: a /dev/shm name is never judged by its name alone.
func IdentifyFile(path string) (creatorPID int, ok bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size < dataStart {
		return 0, false
	}
	var b [offOpenerPID]byte
	if n, err := unix.Pread(fd, b[:], 0); err != nil || n != len(b) || binary.LittleEndian.Uint64(b[offMagic:]) != magic {
		return 0, false
	}
	return int(int32(binary.LittleEndian.Uint32(b[offCreatorPID:]))), true
}
