// Package checksum is the proof that a receiver read every byte: the sum
// of a message as little-endian 64-bit words (its last bytes one by one).
// It runs at memory speed rather than a byte per cycle, so it does not
// cap what a throughput measurement can show.
package checksum

import "encoding/binary"

// Sum returns the checksum of b.
func Sum(b []byte) uint64 {
	var s uint64
	for len(b) >= 8 {
		s += binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, x := range b {
		s += uint64(x)
	}
	return s
}
