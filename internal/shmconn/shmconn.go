// Package shmconn is the ipclab.Conn over a shmchan.Chan that the
// shared-memory transports (sysvshm, posixshm) share: they differ in the
// kernel object behind the memory and in their addresses, not in how a
// Conn sends, receives and reports errors.
package shmconn

import (
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/shmchan"
)

var (
	_ ipclab.Conn             = (*Conn)(nil)
	_ ipclab.ZeroCopySender   = (*Conn)(nil)
	_ ipclab.ZeroCopyReceiver = (*Conn)(nil)
	_ ipclab.Buffered         = (*Conn)(nil)
	_ ipclab.WaitHolder       = (*Conn)(nil)
)

// Conn is one side of a shared-memory channel; its errors are OpErrors
// naming Address.
type Conn struct {
	ch   *shmchan.Chan
	addr ipclab.Addr
}

// New wraps ch, reached at addr.
func New(ch *shmchan.Chan, addr ipclab.Addr) *Conn { return &Conn{ch: ch, addr: addr} }

// HoldWaits holds the channel's semaphore calls (shmchan.Chan.HoldWaits):
// only the sysvsem strategy can.
func (c *Conn) HoldWaits(on bool) error { return c.ch.HoldWaits(on) }

// Chan is the underlying channel, for its extra operations.
func (c *Conn) Chan() *shmchan.Chan { return c.ch }

func (c *Conn) Addr() ipclab.Addr   { return c.addr }
func (c *Conn) MaxMessageSize() int { return c.ch.MaxMessageSize() }
func (c *Conn) Close() error        { return c.ch.Close() }

func (c *Conn) Send(p []byte) error { return c.wrap("send", c.ch.Send(p)) }

func (c *Conn) Recv(p []byte) (int, error) {
	n, err := c.ch.Recv(p)
	return n, c.wrap("recv", err)
}

func (c *Conn) Reserve(n int) ([]byte, error) {
	b, err := c.ch.Reserve(n)
	return b, c.wrap("reserve", err)
}

func (c *Conn) Commit() error { return c.wrap("commit", c.ch.Commit()) }

func (c *Conn) RecvInPlace() ([]byte, error) {
	b, err := c.ch.RecvInPlace()
	return b, c.wrap("recv", err)
}

func (c *Conn) Release() error { return c.wrap("release", c.ch.Release()) }

var _ ipclab.BatchSender = (*Conn)(nil)

// SendBatch sends several messages with one publication per ringful.
func (c *Conn) SendBatch(msgs [][]byte) (int, error) {
	n, err := c.ch.SendBatch(msgs)
	return n, c.wrap("send", err)
}

func (c *Conn) SetDeadline(t time.Time) error      { return c.ch.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.ch.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.ch.SetWriteDeadline(t) }

// Buffer is the ring this end sends into: records are contiguous, so one
// that does not fit before the ring's end leaves padding behind.
//
// Under futex, spin and eventfd the consumer publishes its head lazily,
// up to HeadLag bytes behind what it has taken (it flushes only before it
// waits itself, or when the producer says it sleeps). A link counts a
// taken message's room as free once it is acknowledged, so that lag is
// not offered: otherwise two ends each blocked in Send, neither reading,
// could each hold the room the other waits for. The semaphore strategies
// publish every message's room at once (HeadLag 0).
func (c *Conn) Buffer() ipclab.Buffer {
	return ipclab.Buffer{Bytes: c.ch.RingSize() - c.ch.HeadLag(), Contiguous: true, Cost: c.ch.RecordSize}
}

func (c *Conn) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return chanend.OpError(op, c.addr, err)
}
