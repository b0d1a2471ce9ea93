package cpuops

import (
	"sync/atomic"
	"testing"
	"unsafe"
)

func TestStoreRelease(t *testing.T) {
	var w64 struct {
		before uint64
		word   uint64
		after  uint64
	}
	StoreRelease64(&w64.word, 0x0123456789abcdef)
	if got := atomic.LoadUint64(&w64.word); got != 0x0123456789abcdef || w64.before != 0 || w64.after != 0 {
		t.Errorf("StoreRelease64: word %#x, neighbours %#x %#x", got, w64.before, w64.after)
	}
	var w32 [3]uint32
	StoreRelease32(&w32[1], 0xdeadbeef)
	if got := atomic.LoadUint32(&w32[1]); got != 0xdeadbeef || w32[0] != 0 || w32[2] != 0 {
		t.Errorf("StoreRelease32: words %#x", w32)
	}
}

func TestPrefetchForWriteChangesNothing(t *testing.T) {
	b := []byte{1, 2, 3}
	PrefetchForWrite(unsafe.Pointer(&b[1]))
	if b[0] != 1 || b[1] != 2 || b[2] != 3 {
		t.Errorf("PrefetchForWrite changed the bytes: %v", b)
	}
}

func TestPrefetchRangeChangesNothing(t *testing.T) {
	b := make([]byte, 3*4096)
	for i := range b {
		b[i] = byte(i * 7)
	}
	for _, r := range [][2]int{{0, 0}, {5, 1}, {1, 63}, {64, 64}, {3, 65}, {13, 2*4096 + 5}} {
		PrefetchRange(unsafe.Pointer(&b[r[0]]), uintptr(r[1]))
	}
	for i := range b {
		if b[i] != byte(i*7) {
			t.Fatalf("PrefetchRange changed byte %d: %d", i, b[i])
		}
	}
}
