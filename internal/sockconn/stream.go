package sockconn

import (
	"fmt"
	"io"

	"github.com/ipclab/ipclab"
)

// recvFrame reads one frame. recvMu held.
func (c *Conn) recvFrame(p []byte) (int, error) {
	f := c.frames
	if _, ok := f.Stopped(); ok {
		return f.Resume(p)
	}
	size, err := f.Header()
	if err != nil {
		return 0, err
	}
	n := int(size)
	if n > c.cfg.Limit.Max {
		if err := f.Discard(); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("%w (the message was discarded)", c.tooLarge(n))
	}
	if n > len(p) {
		// The header stays buffered: the next Recv gets the message.
		return 0, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true}
	}
	return f.Take(p)
}

// readStream is one read of the socket for the frame reader: io.EOF at
// the end. recvMu held.
func (c *Conn) readStream(p []byte) (int, error) {
	n, err := c.read(p)
	if err == errEOF {
		err = io.EOF
	}
	return n, err
}
