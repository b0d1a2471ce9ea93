package shmchan

// RecordSize is how many bytes of the ring a message of n bytes takes:
// its record header and alignment padding, not counting the padding a
// record may need to skip the ring's end.
func (c *Chan) RecordSize(n int) int { return int(c.tx.recordSize(n)) }
