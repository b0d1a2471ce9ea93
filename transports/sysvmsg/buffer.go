package sysvmsg

import (
	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sysipc"
)

var _ ipclab.Buffered = (*Conn)(nil)

// Buffer is the queue's msg_qbytes, shared by both directions. The kernel
// counts only the message text against it (msgsnd's msgsz), and it bounds
// the number of queued messages too.
func (c *Conn) Buffer() ipclab.Buffer {
	qbytes := c.max
	if ds, err := sysipc.MsgctlStat(c.id); err == nil {
		qbytes = int(ds.Qbytes)
	}
	return ipclab.Buffer{Messages: qbytes, Bytes: qbytes, Shared: true, Cost: func(n int) int { return n }}
}
