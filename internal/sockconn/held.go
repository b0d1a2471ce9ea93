package sockconn

import "github.com/ipclab/ipclab/internal/sysipc"

// HoldWaits makes Recv's reads and ppoll waits, and Send's sendmsg
// attempts, keep their thread and P (ipclab.WaitHolder), as
// transports/pipe does. Only ppoll may block, and a signal interrupts it
// (sysipc.Calls); every read, recvmsg and sendmsg is non-blocking. A Send
// that finds the socket full still waits in Go's poller, scheduled, until
// there is room, the write deadline or Close.
//
// A write deadline does not turn holding off (the harness always sets a
// case deadline): the held attempt runs inside the poller's
// RawConn.Write, which checks the deadline before it. The pipe's runs
// beside os.File (Control), which does not, so the pipe checks a flag
// of its own that its deadline's timer sets (transports/pipe/held.go).
func (c *Conn) HoldWaits(on bool) error { return c.hold.Set(on) }

// calls are the message path's system calls, held or not.
func (c *Conn) calls() sysipc.Calls { return c.hold.Calls() }
