package sysvshm

import "github.com/ipclab/ipclab"

var _ ipclab.Buffered = (*Conn)(nil)

// Buffer is the ring this end sends into: records are contiguous, so one
// that does not fit before the ring's end leaves padding behind.
func (c *Conn) Buffer() ipclab.Buffer {
	return ipclab.Buffer{Bytes: c.ch.RingSize(), Contiguous: true, Cost: c.ch.RecordSize}
}
