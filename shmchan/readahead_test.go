package shmchan

import "testing"

// TestReadAheadSpans: the consumer's read-ahead asks for published bytes
// only, from the end of the record it takes (or where the last read-ahead
// stopped) to readAhead past it, split at the ring's end.
func TestReadAheadSpans(t *testing.T) {
	const size = 4096
	r := &ring{size: size, mask: size - 1, data: make([]byte, size)}
	for _, c := range []struct {
		name                 string
		next, peerSeen, from uint64 // from: prefetchedTo before
		want                 []span
		to                   uint64 // prefetchedTo after
	}{
		{"readAhead past the record", 520, 3000, 0, []span{{520, readAhead}}, 520 + readAhead},
		{"on from the last read-ahead, up to the tail", 1040, 3000, 2568, []span{{2568, 432}}, 3000},
		{"nothing newly published", 1560, 3000, 3000, nil, 3000},
		{"the record ends the published bytes", 3000, 3000, 3000, nil, 3000},
		{"split at the ring's end", 4020, 6500, 3000, []span{{4020, 76}, {0, readAhead - 76}}, 4020 + readAhead},
		{"a tail just past the ring's end", 4020, 4100, 3000, []span{{4020, 76}, {0, 4}}, 4100},
		{"a later lap", 3*size + 100, 3*size + 200, 0, []span{{100, 100}}, 3*size + 200},
	} {
		r.peerSeen, r.prefetchedTo = c.peerSeen, c.from
		spans, k := r.readAheadSpans(c.next)
		got := spans[:k]
		if len(got) != len(c.want) || r.prefetchedTo != c.to {
			t.Errorf("%s: spans %v, prefetchedTo %d; want %v, %d", c.name, got, r.prefetchedTo, c.want, c.to)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: spans %v, want %v", c.name, got, c.want)
			}
			if got[i].off+got[i].n > size {
				t.Errorf("%s: span %v runs past the ring", c.name, got[i])
			}
		}
	}
}
