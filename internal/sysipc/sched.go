package sysipc

import "golang.org/x/sys/unix"

// SchedYield gives the CPU to another runnable thread of the same
// priority, if there is one on this CPU, and returns when this thread is
// scheduled again (sched_yield(2)).
func SchedYield() {
	unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}
