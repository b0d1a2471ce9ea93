package pipe

import (
	"errors"
	"fmt"
	"os"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"golang.org/x/sys/unix"
)

// PipeSize returns the capacity of the pipe this end writes to.
func (c *Conn) PipeSize() (int, error) {
	w, err := c.connectedWriter()
	if err != nil {
		return 0, err
	}
	var size int
	rc, err := w.SyscallConn()
	if err != nil {
		return 0, err
	}
	cerr := rc.Control(func(fd uintptr) { size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
	return size, errors.Join(cerr, err)
}

// SetPipeSize asks for an n-byte pipe and returns what the kernel granted.
func (c *Conn) SetPipeSize(n int) (int, error) {
	w, err := c.connectedWriter()
	if err != nil {
		return 0, err
	}
	return setPipeSize(w, n)
}

func setPipeSize(w *os.File, n int) (int, error) {
	rc, err := w.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	cerr := rc.Control(func(fd uintptr) { got, err = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, n) })
	if err == nil {
		err = cerr
	}
	if errors.Is(err, unix.EPERM) {
		max, _ := kernlimits.Int("fs.pipe-max-size")
		return 0, &ipclab.LimitError{What: fmt.Sprintf("pipe size %d", n), Name: "fs.pipe-max-size", Limit: max,
			Raise: kernlimits.Raise("fs.pipe-max-size")}
	}
	return got, err
}
