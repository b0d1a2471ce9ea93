package pipe

import (
	"os"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/kernlimits"
)

var _ ipclab.Buffered = (*Conn)(nil)

// Buffer is the pipe this end writes to, counted in bytes of whole pages:
// a write into a pipe takes a fresh page unless its first bytes fit in the
// last page's tail, so a frame of n bytes occupies at most ceil(n/page)
// pages, and the kernel's limit is a number of pages (F_GETPIPE_SZ / page).
// Bytes is 0 while a FIFO's opener has not connected.
func (c *Conn) Buffer() ipclab.Buffer {
	page := os.Getpagesize()
	b := ipclab.Buffer{Cost: func(n int) int { return frameCost(n, page) }}
	if size, err := c.PipeSize(); err == nil {
		b.Bytes = size
	}
	if max, err := kernlimits.Int("fs.pipe-max-size"); err == nil {
		b.Grow = max
	}
	return b
}

// frameCost is the worst-case page bytes of one framed message of n bytes:
// one write of header and payload when it fits the write buffer, else a
// write of the header and one of the payload (see Send).
func frameCost(n, page int) int {
	pages := func(b int) int { return (b + page - 1) / page * page }
	if headerLen+n <= bufSize {
		return pages(headerLen + n)
	}
	return page + pages(n)
}
