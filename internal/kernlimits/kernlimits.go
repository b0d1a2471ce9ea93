// Package kernlimits reads the kernel IPC limits in force, by their sysctl
// names, so errors can name the limit and how to raise it and result records
// can say what the kernel allowed.
package kernlimits

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Names are the sysctls that bound ipclab's transports, in the order
// tools list them.
var Names = []string{
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmmax", "kernel.shmall", "kernel.shmmni",
	"fs.mqueue.msg_max", "fs.mqueue.msgsize_max", "fs.mqueue.msg_default",
	"fs.mqueue.msgsize_default", "fs.mqueue.queues_max", "fs.pipe-max-size",
	"net.core.wmem_default", "net.core.wmem_max",
}

// Meaning says what each of Names bounds, and for which transports.
var Meaning = map[string]string{
	"kernel.msgmax":             "largest System V message, in bytes (sysvmsg: the largest message)",
	"kernel.msgmnb":             "bytes a new System V queue holds, both directions together (sysvmsg: how far a sender runs ahead; a link's window)",
	"kernel.msgmni":             "System V queues on the machine (sysvmsg)",
	"kernel.sem":                "SEMMSL SEMMNS SEMOPM SEMMNI: semaphores per set, in all, per semop, sets (sysvshm-sysvsem: one set of 4 per channel)",
	"kernel.shmmax":             "largest System V segment, in bytes (sysvshm: the ring's size)",
	"kernel.shmall":             "pages of System V shared memory on the machine (sysvshm)",
	"kernel.shmmni":             "System V segments on the machine (sysvshm: one per channel, one per fan-in producer)",
	"fs.mqueue.msg_max":         "deepest POSIX queue without CAP_SYS_RESOURCE (posixmq: messages in flight; a link's window is at most (depth-2)/2)",
	"fs.mqueue.msgsize_max":     "largest POSIX message, in bytes (posixmq: the largest message)",
	"fs.mqueue.msg_default":     "depth of a POSIX queue opened without attributes (C programs that pass NULL)",
	"fs.mqueue.msgsize_default": "message size of a POSIX queue opened without attributes",
	"fs.mqueue.queues_max":      "POSIX queues on the machine (posixmq: two per channel)",
	"fs.pipe-max-size":          "largest pipe an unprivileged F_SETPIPE_SZ gets, in bytes (pipe, fifo: how far a writer runs ahead; the largest link message)",
	"net.core.wmem_default":     "a socket's send buffer, in bytes, doubled by the kernel (unixsock-seqpacket, unixsock-dgram: the largest message is it less 33; tcp: its fixed buffer; how far a socket writer runs ahead)",
	"net.core.wmem_max":         "largest SO_SNDBUF an unprivileged process may set (unixsock.Options.SendBuffer)",
}

func path(name string) string { return "/proc/sys/" + strings.ReplaceAll(name, ".", "/") }

// String reads one sysctl as text.
func String(name string) (string, error) {
	b, err := os.ReadFile(path(name))
	if err != nil {
		return "", fmt.Errorf("kernlimits: read %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Int reads one single-valued sysctl.
func Int(name string) (int, error) {
	s, err := String(name)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("kernlimits: %s is %q, not a number", name, s)
	}
	return int(v), nil
}

// All reads every limit in Names; unreadable ones are left out.
func All() map[string]string {
	m := make(map[string]string, len(Names))
	for _, n := range Names {
		if v, err := String(n); err == nil {
			m[n] = strings.Join(strings.Fields(v), " ")
		}
	}
	return m
}

// Raise is the advice a limit error gives: the command that raises it.
func Raise(name string) string { return "raise with: sysctl -w " + name + "=N" }
