package sysvshm

import (
	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/shmchan"
)

var _ ipclab.Buffered = (*Conn)(nil)

// Buffer is the ring this end sends into: records are contiguous, so one
// that does not fit before the ring's end leaves padding behind.
//
// Under futex and spin the consumer publishes its head lazily, up to an
// eighth of the ring behind what it has taken (it flushes only before it
// waits itself, or when the producer says it sleeps). A link counts a
// taken message's room as free once it is acknowledged, so that eighth is
// not offered: otherwise two ends each blocked in Send, neither reading,
// could each hold the room the other waits for.
func (c *Conn) Buffer() ipclab.Buffer {
	bytes := c.ch.RingSize()
	if c.ch.Strategy() != shmchan.SysVSem {
		bytes -= bytes / 8
	}
	return ipclab.Buffer{Bytes: bytes, Contiguous: true, Cost: c.ch.RecordSize}
}
