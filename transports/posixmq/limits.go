package posixmq

import (
	"errors"
	"fmt"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// The kernel's limits on queues, checked before mq_open and named after it.

// attrFor checks the requested depth and size against the kernel's limits
// and names the limit that is in the way.
func attrFor(opt Options) (*sysipc.MqAttr, error) {
	lim := func(name string) int { v, _ := kernlimits.Int(name); return v }
	depth, size := opt.Depth, opt.MsgSize
	if depth == 0 {
		depth = lim("fs.mqueue.msg_default")
	}
	if size == 0 {
		size = lim("fs.mqueue.msgsize_default")
	}
	if depth < 1 || size < 1 {
		return nil, fmt.Errorf("posixmq: depth %d and message size %d must be positive", depth, size)
	}
	if max := lim("fs.mqueue.msg_max"); depth > max {
		return nil, &ipclab.LimitError{What: fmt.Sprintf("queue depth %d", depth), Name: "fs.mqueue.msg_max",
			Limit: max, Raise: kernlimits.Raise("fs.mqueue.msg_max")}
	}
	if max := lim("fs.mqueue.msgsize_max"); size > max {
		return nil, &ipclab.LimitError{What: fmt.Sprintf("message size %d", size), Name: "fs.mqueue.msgsize_max",
			Limit: max, Raise: kernlimits.Raise("fs.mqueue.msgsize_max")}
	}
	return &sysipc.MqAttr{Maxmsg: int64(depth), Msgsize: int64(size)}, nil
}

// explainOpen adds to mq_open's errno the limit or situation behind it.
func explainOpen(name string, err error, attr *sysipc.MqAttr) error {
	switch {
	case errors.Is(err, unix.EEXIST):
		return chanend.Exists(err, "queue "+name, "ipclab clean", "name")
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("%w: no POSIX message queue %s", err, name)
	case errors.Is(err, unix.EMFILE) && attr != nil:
		return fmt.Errorf("%w: the user's POSIX queues would exceed RLIMIT_MSGQUEUE (%d messages of %d bytes per queue; raise with ulimit -q)",
			err, attr.Maxmsg, attr.Msgsize)
	case errors.Is(err, unix.ENOSPC):
		return fmt.Errorf("%w: fs.mqueue.queues_max queues exist already (%s)", err, kernlimits.Raise("fs.mqueue.queues_max"))
	}
	return err
}
