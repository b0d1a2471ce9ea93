package sysipc

import (
	"testing"
	"unsafe"
)

func TestPlacedBuffer(t *testing.T) {
	for _, n := range []int{1, 100, 4096, 8200} {
		for _, off := range []int{0, 8, 40, 48, 4095} {
			b := PlacedBuffer(n, off)
			if len(b) != n || cap(b) != n {
				t.Fatalf("PlacedBuffer(%d, %d): len %d cap %d", n, off, len(b), cap(b))
			}
			if got := int(uintptr(unsafe.Pointer(&b[0])) % 4096); got != off {
				t.Fatalf("PlacedBuffer(%d, %d) starts at page offset %d", n, off, got)
			}
		}
	}
}
