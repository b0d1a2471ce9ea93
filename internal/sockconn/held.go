package sockconn

import "github.com/ipclab/ipclab/internal/sysipc"

// HoldWaits makes Recv's and Send's calls and ppoll waits keep their
// thread and P (ipclab.WaitHolder), as transports/pipe does. Only ppoll
// may block, and a signal interrupts it (sysipc.Calls); every read,
// recvmsg and sendmsg is non-blocking.
func (c *Conn) HoldWaits(on bool) error { return c.hold.Set(on) }

// calls are the message path's system calls, held or not.
func (c *Conn) calls() sysipc.Calls { return c.hold.Calls() }
