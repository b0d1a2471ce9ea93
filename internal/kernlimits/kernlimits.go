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

// Names are the sysctls that bound ipclab's transports.
var Names = []string{
	"kernel.msgmax",         // largest SysV message
	"kernel.msgmnb",         // default SysV queue capacity in bytes
	"kernel.msgmni",         // SysV queues system-wide
	"kernel.sem",            // SEMMSL SEMMNS SEMOPM SEMMNI
	"kernel.shmmax",         // largest SysV segment
	"kernel.shmall",         // pages of SysV shm system-wide
	"fs.mqueue.msg_max",     // largest POSIX queue depth (without CAP_SYS_RESOURCE)
	"fs.mqueue.msgsize_max", // largest POSIX message
	"fs.mqueue.msg_default", // depth when mq_open gets no attributes
	"fs.mqueue.msgsize_default",
	"fs.mqueue.queues_max", // POSIX queues system-wide
	"fs.pipe-max-size",     // largest pipe an unprivileged F_SETPIPE_SZ gets
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
