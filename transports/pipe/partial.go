package pipe

import (
	"errors"
	"fmt"
	"io"

	"github.com/ipclab/ipclab"
)

// partialFrame is a message whose read a deadline stopped: its bytes so
// far, kept so that the next Recv resumes it instead of the stream being
// lost. A link layer reads with short deadlines (to collect the
// acknowledgements already there) and must not break a large message the
// peer is still writing.
type partialFrame struct {
	size int    // the message's length; 0: none
	got  []byte // its first bytes
}

// stopped files a read that stopped inside an n-byte message after got: a
// deadline keeps it for the next Recv; anything else breaks the stream.
// recvMu held.
func (c *Conn) stopped(got []byte, n int, err error) error {
	if errors.Is(err, ipclab.ErrTimeout) {
		c.partial.got = append(c.partial.got[:0], got...)
		c.partial.size = n
		return err
	}
	c.partial.size = 0
	c.rbroken = fmt.Errorf("pipe: the stream is broken: a read stopped inside a %d-byte message (%v)", n, err)
	return err
}

// resume goes on reading the message a deadline stopped. The read
// buffer holds none of it: the stop happened reading past it. recvMu held.
func (c *Conn) resume(p []byte) (int, error) {
	n := c.partial.size
	if n > len(p) {
		return 0, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true}
	}
	k := copy(p, c.partial.got)
	if m, err := io.ReadFull(rawReader{c}, p[k:n]); err != nil {
		return 0, c.stopped(p[:k+m], n, err)
	}
	c.partial.size = 0
	c.partial.got = c.partial.got[:0]
	return n, nil
}
