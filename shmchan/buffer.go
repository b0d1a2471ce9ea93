package shmchan

// RecordSize is how many bytes of the ring a message of n bytes takes:
// its record header and alignment padding, not counting the padding a
// record may need to skip the ring's end.
func (c *Chan) RecordSize(n int) int { return int(c.tx.recordSize(n)) }

// HeadLag is how much of the ring the consumer may have taken without
// publishing it yet (Futex, Spin, EventFD publish their head lazily; the
// semaphore strategies at once): room the producer cannot count on while
// the consumer is not itself waiting.
func (c *Chan) HeadLag() int {
	if c.hdr.strategy == SysVSem || c.hdr.strategy == PosixSem {
		return 0
	}
	return int(c.tx.lag())
}
