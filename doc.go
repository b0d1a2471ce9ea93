// Package ipclab is a message-passing contract implemented over the classic
// Linux IPC mechanisms, and the root of a lab that measures them.
//
// The contract is Conn: one message per Send, one whole message per Recv,
// deadlines on every blocking call. Each mechanism lives in its own package
// under transports/ and returns a duplex pair of Conns whose two ends live in
// different processes: one end creates the kernel objects (and removes them),
// the other opens them from a printable address such as
//
//	pipe:rfd=3,wfd=4           anonymous pipes inherited by a child process
//	fifo:/tmp/demo.fifo        two named FIFOs, demo.fifo.1 and demo.fifo.2
//	sysvmsg:key=0x4d2          one SysV message queue, direction in mtype
//	posixmq:/ipclab-1234       two POSIX queues, /ipclab-1234.1 and .2
//
// Direction 1 always carries messages from the creator to the opener and
// direction 2 from the opener to the creator, whatever the mechanism calls it
// (mtype, queue name suffix, FIFO suffix), so a plain C program can play either
// side of a kernel queue.
//
// Errors are typed and shared by all transports: ErrClosed, ErrPeerGone,
// ErrTimeout, *TooLargeError, *ShortBufferError and *AddrError, usually wrapped
// in an *OpError that unwraps to the errno the kernel returned.
package ipclab
