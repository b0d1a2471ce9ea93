// Package peerwatch reports when another process exits, using a pidfd
// watched by Go's poller: no thread is blocked and nothing polls.
//
// Kernel message queues and shared memory have no notion of a connected
// peer, so this is how their transports turn a killed peer into ErrPeerGone
// instead of a receive that waits forever.
package peerwatch

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Watcher watches one process.
type Watcher struct {
	f    *os.File
	once sync.Once
}

// Watch calls gone once, from its own goroutine, when process pid exits
// (or at once if it is already gone). Stop cancels the watch.
func Watch(pid int, gone func()) (*Watcher, error) {
	if pid <= 0 {
		return nil, errors.New("peerwatch: no pid")
	}
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err == unix.ESRCH {
		go gone()
		return &Watcher{}, nil
	}
	if err != nil {
		return nil, os.NewSyscallError("pidfd_open", err)
	}
	unix.CloseOnExec(fd)
	// A non-blocking descriptor makes os.NewFile register it with the poller.
	w := &Watcher{f: os.NewFile(uintptr(fd), "pidfd")}
	rc, err := w.f.SyscallConn()
	if err != nil {
		w.f.Close()
		return nil, err
	}
	go func() {
		err := rc.Read(func(fd uintptr) bool { return exited(int(fd)) })
		if err == nil {
			gone()
		}
	}()
	return w, nil
}

// exited reports whether the pidfd is readable, which it becomes when the
// process exits.
func exited(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0
}

// Stop cancels the watch. If the exit had been seen already, gone may
// still start just after Stop returns (Stop waits for the watch's read to
// end, not for gone), so gone must be harmless on whatever Stop's caller
// releases next. Stop is idempotent.
func (w *Watcher) Stop() {
	if w == nil || w.f == nil {
		return
	}
	w.once.Do(func() { w.f.Close() })
}

// Alive reports whether process pid exists.
func Alive(pid int) bool {
	return pid > 0 && unix.Kill(pid, 0) != unix.ESRCH
}

// Slot holds the current watch of a channel end: watching a new pid
// replaces the old watch, and Stop ends it. The zero value is ready.
type Slot struct {
	mu sync.Mutex
	w  *Watcher
}

// Watch starts watching pid, replacing any earlier watch in the slot.
func (s *Slot) Watch(pid int, gone func()) error {
	w, err := Watch(pid, gone)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.w
	s.w = w
	s.mu.Unlock()
	old.Stop()
	return nil
}

// Stop ends the watch, if any.
func (s *Slot) Stop() {
	s.mu.Lock()
	w := s.w
	s.w = nil
	s.mu.Unlock()
	w.Stop()
}
