package transporttest

import (
	"bytes"
	"testing"

	"github.com/ipclab/ipclab/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Main(m) }

// patternByLoop is Pattern's definition, byte by byte.
func patternByLoop(seed, i, maxSize int) []byte {
	x := uint64(seed)*0x9e3779b97f4a7c15 + uint64(i)*0xbf58476d1ce4e5b9 + 1
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	n := int(x % uint64(maxSize+1))
	switch {
	case i == 0:
		n = 0
	case i%97 == 0:
		n = maxSize
	}
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(uint64(j)*131 + x>>(j%7*8))
	}
	return b
}

// TestPatternIsItsDefinition: the period-and-copy Pattern writes the same
// bytes as the loop over every byte, for lengths below, at and past one
// period and past several doublings.
func TestPatternIsItsDefinition(t *testing.T) {
	for _, maxSize := range []int{0, 1, 13, patternPeriod - 1, patternPeriod, patternPeriod + 1, 4096, 16 << 10, 100_000} {
		buf := make([]byte, maxSize)
		for i := 0; i < 300; i++ {
			got, want := Pattern(buf, 7, i, maxSize), patternByLoop(7, i, maxSize)
			if !bytes.Equal(got, want) {
				t.Fatalf("maxSize %d, message %d: %d bytes, want %d, first difference at %d", maxSize, i, len(got), len(want), firstDiff(got, want))
			}
		}
	}
}
