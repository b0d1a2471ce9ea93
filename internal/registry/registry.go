// Package registry records the IPC objects ipclab creates, one small file
// per object, so that `ipclab ls` and `ipclab clean` can find them later,
// also those a killed process left, and never touch anything else.
//
// An entry names the object (kind and id, key or name) and its creator
// (pid and the process's start time, so a recycled pid is not mistaken for
// it). Recording is best effort: an object is created even if its entry
// cannot be written. The directory is $IPCLAB_REGISTRY, or ipclab-UID in
// the temporary directory.
package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// Entry is one recorded object.
type Entry struct {
	Kind    ipcobj.Kind `json:"kind"`
	ID      int         `json:"id,omitempty"`   // System V id
	Key     int32       `json:"key,omitempty"`  // System V key (0: IPC_PRIVATE)
	Name    string      `json:"name,omitempty"` // POSIX queue name, FIFO path
	PID     int         `json:"pid"`
	Start   uint64      `json:"start"` // creator's start time, clock ticks after boot
	Created time.Time   `json:"created"`
}

// Dir is where entries live.
func Dir() string {
	if d := os.Getenv("IPCLAB_REGISTRY"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("ipclab-%d", os.Getuid()))
}

func (e Entry) file() string {
	if e.Name == "" {
		return filepath.Join(Dir(), fmt.Sprintf("%s-%d.json", e.Kind, e.ID))
	}
	h := fnv.New64a()
	h.Write([]byte(e.Name))
	return filepath.Join(Dir(), fmt.Sprintf("%s-%016x.json", e.Kind, h.Sum64()))
}

// Add records an object created by this process.
func Add(e Entry) {
	e.PID, e.Start, e.Created = os.Getpid(), startTime(os.Getpid()), time.Now().UTC()
	b, err := json.Marshal(e)
	if err != nil || os.MkdirAll(Dir(), 0o700) != nil {
		return
	}
	tmp := e.file() + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		os.Rename(tmp, e.file())
	}
}

// Forget drops the entry of an object that is gone.
func Forget(e Entry) { os.Remove(e.file()) }

// List reads every entry.
func List() ([]Entry, error) {
	files, err := filepath.Glob(filepath.Join(Dir(), "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var e Entry
		if json.Unmarshal(b, &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// startTime is field 22 of /proc/PID/stat: when the process started.
func startTime(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// CreatorAlive reports whether the process that created the object runs.
func (e Entry) CreatorAlive() bool {
	return e.PID > 0 && startTime(e.PID) == e.Start && e.Start != 0
}

// Exists reports whether the recorded object is still there.
func (e Entry) Exists() bool {
	switch e.Kind {
	case ipcobj.SysVMsg, ipcobj.SysVSem, ipcobj.SysVShm:
		objs, _ := ipcobj.SysV(e.Kind)
		for _, o := range objs {
			// A segment marked for removal shows key 0 until it is freed.
			if o.ID == e.ID && (o.Key == e.Key || e.Kind == ipcobj.SysVShm && o.Key == 0) {
				return true
			}
		}
		return false
	case ipcobj.PosixMQ:
		fd, err := sysipc.MqOpen(e.Name, unix.O_RDONLY|unix.O_NONBLOCK, 0, nil)
		if err == nil {
			unix.Close(fd)
		}
		return err == nil || !errors.Is(err, unix.ENOENT)
	case ipcobj.FIFO:
		var st unix.Stat_t
		return unix.Lstat(e.Name, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
	}
	return false
}

// Remove removes the object, then its entry.
func (e Entry) Remove() error {
	var err error
	switch e.Kind {
	case ipcobj.SysVMsg:
		err = sysipc.MsgctlRemove(e.ID)
	case ipcobj.SysVSem:
		err = sysipc.SemctlRemove(e.ID)
	case ipcobj.SysVShm:
		_, err = unix.SysvShmCtl(e.ID, unix.IPC_RMID, nil)
	case ipcobj.PosixMQ:
		err = sysipc.MqUnlink(e.Name)
	case ipcobj.FIFO:
		err = os.Remove(e.Name)
	default:
		return fmt.Errorf("registry: unknown kind %q", e.Kind)
	}
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EIDRM) && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	Forget(e)
	return nil
}

func (e Entry) String() string {
	switch e.Kind {
	case ipcobj.SysVMsg, ipcobj.SysVSem, ipcobj.SysVShm:
		return fmt.Sprintf("%s id=%d key=0x%08x", e.Kind, e.ID, uint32(e.Key))
	}
	return fmt.Sprintf("%s %s", e.Kind, e.Name)
}
