package posixmq

import (
	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sysipc"
)

var _ ipclab.Buffered = (*Conn)(nil)

// Buffer is the depth (mq_maxmsg) of the queue this end sends to; each
// message takes one of its mq_msgsize slots whatever its length.
func (c *Conn) Buffer() ipclab.Buffer {
	depth := 1 // the least any queue holds, should the attributes be unreadable
	if rc, err := c.tx.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			if attr, err := sysipc.MqGetsetattr(int(fd), nil); err == nil {
				depth = int(attr.Maxmsg)
			}
		})
	}
	slot := c.txMax
	return ipclab.Buffer{Messages: depth, Bytes: depth * slot, Cost: func(int) int { return slot }}
}
