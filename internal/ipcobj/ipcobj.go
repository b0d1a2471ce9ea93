// Package ipcobj lists the IPC objects alive on this machine: System V
// queues, semaphore sets and segments (from /proc/sysvipc), POSIX message
// queues (from an mqueue mount) and FIFOs below a directory. The leak checks
// of the tests and `ipclab ls` are built on it.
package ipcobj

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// Kind is the type of an IPC object.
type Kind string

const (
	SysVMsg Kind = "sysvmsg"
	SysVSem Kind = "sysvsem"
	SysVShm Kind = "sysvshm"
	PosixMQ Kind = "posixmq"
	FIFO    Kind = "fifo"
	// PosixShm is a POSIX shared-memory object, /dev/shm/NAME, and PosixSem
	// a glibc named semaphore, /dev/shm/sem.NAME; Name is "/NAME" for both.
	PosixShm Kind = "posixshm"
	PosixSem Kind = "posixsem"
	// UnixSocket is a Unix socket bound to a file system path.
	UnixSocket Kind = "unixsock"
)

// DevShm is where glibc's shm_open and sem_open keep their objects.
const DevShm = "/dev/shm"

// ShmPath is the file behind the POSIX shared-memory or semaphore object
// kind named name ("/NAME").
func ShmPath(kind Kind, name string) string {
	if kind == PosixSem {
		return DevShm + "/sem." + strings.TrimPrefix(name, "/")
	}
	return DevShm + "/" + strings.TrimPrefix(name, "/")
}

// DevShmFiles lists the files in dir (DevShm, or a test's own mount) as
// POSIX shared-memory objects and semaphores (a "sem." prefix).
func DevShmFiles(dir string) ([]Object, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, e := range ents {
		o := Object{Kind: PosixShm, Name: "/" + e.Name()}
		if n, ok := strings.CutPrefix(e.Name(), "sem."); ok {
			o.Kind, o.Name = PosixSem, "/"+n
		}
		if info, err := e.Info(); err == nil {
			o.Mode = uint32(info.Mode().Perm())
			if st, ok := info.Sys().(*unix.Stat_t); ok {
				o.UID = int(st.Uid)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// Object is one live IPC object.
type Object struct {
	Kind Kind
	Key  int32  // SysV key (0 for IPC_PRIVATE)
	ID   int    // SysV id
	Name string // POSIX queue name ("/x"), FIFO or /dev/shm path
	Mode uint32 // permission bits
	UID  int
}

func (o Object) String() string {
	switch o.Kind {
	case SysVMsg, SysVSem, SysVShm:
		return fmt.Sprintf("%s key=0x%08x id=%d mode=%#o", o.Kind, uint32(o.Key), o.ID, o.Mode)
	}
	return fmt.Sprintf("%s %s mode=%#o", o.Kind, o.Name, o.Mode)
}

// SysV lists the System V objects of one kind from /proc/sysvipc.
func SysV(kind Kind) ([]Object, error) {
	var out []Object
	err := scanSysV(kind, []string{"key", idColumn[kind], "perms", "uid"}, func(f []string) {
		key, _ := strconv.ParseInt(f[0], 10, 64)
		id, _ := strconv.Atoi(f[1])
		perms, _ := strconv.ParseUint(f[2], 8, 32)
		uid, _ := strconv.Atoi(f[3])
		out = append(out, Object{Kind: kind, Key: int32(key), ID: id, Mode: uint32(perms) & 0o777, UID: uid})
	})
	return out, err
}

// Pids returns the process that created System V object o, when the
// kernel keeps it (a segment's cpid), and the last one that sent to it
// (a queue's lspid); 0 when unknown. A leak report names them.
func Pids(o Object) (creator, lastSender int) {
	cols := map[Kind]string{SysVShm: "cpid", SysVMsg: "lspid"}
	col := cols[o.Kind]
	if col == "" {
		return 0, 0
	}
	pid := 0
	scanSysV(o.Kind, []string{idColumn[o.Kind], col}, func(f []string) {
		if id, _ := strconv.Atoi(f[0]); id == o.ID {
			pid, _ = strconv.Atoi(f[1])
		}
	})
	if o.Kind == SysVShm {
		return pid, 0
	}
	return 0, pid
}

var idColumn = map[Kind]string{SysVMsg: "msqid", SysVSem: "semid", SysVShm: "shmid"}

// scanSysV calls row with the named columns of each row of
// /proc/sysvipc's file for kind.
func scanSysV(kind Kind, want []string, row func([]string)) error {
	file := map[Kind]string{SysVMsg: "msg", SysVSem: "sem", SysVShm: "shm"}[kind]
	if file == "" {
		return fmt.Errorf("ipcobj: %s is not a System V kind", kind)
	}
	f, err := os.Open("/proc/sysvipc/" + file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // column names
	cols := strings.Fields(sc.Text())
	idx := make([]int, len(want))
	for i, w := range want {
		idx[i] = slices.Index(cols, w)
		if idx[i] < 0 {
			return fmt.Errorf("ipcobj: no column %q in /proc/sysvipc/%s: %q", w, file, cols)
		}
	}
	vals := make([]string, len(want))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < len(cols) {
			continue
		}
		for i, j := range idx {
			vals[i] = f[j]
		}
		row(vals)
	}
	return sc.Err()
}

// MqueueMount returns where an mqueue file system is mounted, or "".
func MqueueMount() string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint opts ... - fstype source superopts
		left, right, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		lf, rf := strings.Fields(left), strings.Fields(right)
		if len(lf) >= 5 && len(rf) >= 1 && rf[0] == "mqueue" {
			return lf[4]
		}
	}
	return ""
}

// PosixQueues lists the POSIX message queues visible under the mqueue mount
// dir (see MqueueMount).
func PosixQueues(dir string) ([]Object, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, e := range ents {
		o := Object{Kind: PosixMQ, Name: "/" + e.Name()}
		if info, err := e.Info(); err == nil {
			o.Mode = uint32(info.Mode().Perm())
			if st, ok := info.Sys().(*unix.Stat_t); ok {
				o.UID = int(st.Uid)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// FIFOs lists the named pipes below root, at most depth directories down.
func FIFOs(root string, depth int) ([]Object, error) {
	var out []Object
	base := strings.Count(filepath.Clean(root), string(filepath.Separator))
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a directory vanishing under us is not our business
		}
		if d.IsDir() && strings.Count(path, string(filepath.Separator))-base >= depth {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeNamedPipe != 0 {
			out = append(out, Object{Kind: FIFO, Name: path})
		}
		return nil
	})
	return out, err
}

// Diff returns the objects of after that are not in before, sorted.
func Diff(before, after []Object) []Object {
	seen := make(map[Object]bool, len(before))
	for _, o := range before {
		seen[o] = true
	}
	var out []Object
	for _, o := range after {
		if !seen[o] {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Remove removes o from the kernel (a FIFO: from the file system). It
// does not ask whether o is the caller's to remove: the callers know
// (leakcheck in its private namespace, the registry after Verify).
func Remove(o Object) error {
	switch o.Kind {
	case SysVMsg:
		return sysipc.MsgctlRemove(o.ID)
	case SysVSem:
		return sysipc.SemctlRemove(o.ID)
	case SysVShm:
		_, err := unix.SysvShmCtl(o.ID, unix.IPC_RMID, nil)
		return err
	case PosixMQ:
		return sysipc.MqUnlink(o.Name)
	case FIFO:
		return os.Remove(o.Name)
	case PosixShm, PosixSem:
		return os.Remove(ShmPath(o.Kind, o.Name))
	case UnixSocket:
		if strings.HasPrefix(o.Name, "@") {
			return fmt.Errorf("ipcobj: the abstract socket %s goes with the last descriptor of it, not by name", o.Name)
		}
		return os.Remove(o.Name)
	}
	return fmt.Errorf("ipcobj: cannot remove a %s", o.Kind)
}
