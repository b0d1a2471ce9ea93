// Package registry records the IPC objects ipclab creates, one small file
// per object, so that `ipclab ls` and `ipclab clean` can find them later,
// also those a killed process left, and never touch anything else.
//
// An entry names the object (kind and id, key or name), its creator (pid
// and the process's start time, so a recycled pid is not mistaken for it)
// and the object's identity as the kernel reports it (see Identity): clean
// removes an object only when the live object still has that identity.
//
// The directory is private (dir.go): $IPCLAB_REGISTRY, else
// $XDG_RUNTIME_DIR/ipclab when XDG_RUNTIME_DIR is ours and 0700, else
// ipclab-UID in the temporary directory; it must be owned by this user
// and closed to everybody else, or it is refused. Entries are created and
// read relative to the verified directory's descriptor, never following a
// symbolic link, and files another user owns are ignored.
//
// Recording is best effort: an object is created even if its entry cannot
// be written; Add then warns once on standard error, since `ipclab clean`
// will not know the object.
package registry

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipclab/ipclab/internal/ipcobj"
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
	Ident   *Identity   `json:"identity,omitempty"` // nil in an entry written before identities existed

	fileName string // the file List read it from, if not the one file() names (an older ipclab's)
}

const maxEntry = 64 << 10 // an entry is a few hundred bytes; anything larger is not ours

// file is the entry's file name in the registry directory. The IPC
// namespace is part of it: the same id in two namespaces is two objects.
func (e Entry) file() string {
	if e.fileName != "" {
		return e.fileName
	}
	ns := uint64(0)
	if e.Ident != nil {
		ns = e.Ident.NS
	}
	if ns == 0 {
		ns = currentNS()
	}
	if e.Name == "" {
		return fmt.Sprintf("%s-%d-%d.json", e.Kind, ns, e.ID)
	}
	h := fnv.New64a()
	h.Write([]byte(e.Name))
	return fmt.Sprintf("%s-%d-%016x.json", e.Kind, ns, h.Sum64())
}

var warnOnce sync.Once

// Add records an object this process has just created, with the identity
// the kernel reports for it now. It returns why it could not, and warns
// once on standard error.
func Add(e Entry) error {
	err := add(e)
	if err != nil {
		warnOnce.Do(func() {
			fmt.Fprintf(os.Stderr, "ipclab: warning: %v; `ipclab clean` will not know the objects this process creates\n", err)
		})
	}
	return err
}

func add(e Entry) error {
	e.PID, e.Start, e.Created = os.Getpid(), startTime(os.Getpid()), time.Now().UTC()
	id, err := Probe(e)
	if err != nil {
		return fmt.Errorf("registry: %s: %w", e, err)
	}
	e.Ident = &id
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	d, err := openDir()
	if err != nil {
		return err
	}
	defer d.close()
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".tmp-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(rnd[:])
	fd, err := unix.Openat(d.fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("registry: create %s/%s: %w", d.path, tmp, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// rename replaces the name, never what a link there points to.
		err = unix.Renameat(d.fd, tmp, d.fd, e.file())
	}
	if err != nil {
		unix.Unlinkat(d.fd, tmp, 0)
		return fmt.Errorf("registry: write %s/%s: %w", d.path, e.file(), err)
	}
	return nil
}

// Forget drops the entry of an object that is gone.
func Forget(e Entry) {
	d, err := openDir()
	if err != nil {
		return
	}
	defer d.close()
	unix.Unlinkat(d.fd, e.file(), 0)
}

// List reads every entry. Files that are not regular, are links, belong
// to another user or do not parse are skipped.
func List() ([]Entry, error) {
	d, err := openDir()
	if err != nil {
		return nil, err
	}
	defer d.close()
	names, err := d.names()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, name := range names {
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		if b, ok := d.readOwn(name); ok {
			var e Entry
			if json.Unmarshal(b, &e) == nil {
				if e.file() != name {
					e.fileName = name
				}
				out = append(out, e)
			}
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

// Remove removes the object, then its entry, if and only if Verify says
// the live object is the one recorded.
func (e Entry) Remove() error {
	v := e.Verify()
	switch v.State {
	case Gone:
		Forget(e)
		return nil
	case NotVerified:
		return fmt.Errorf("registry: %s not verified (%s): left alone", e, v.Why)
	}
	if err := removeVerified(e); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EIDRM) &&
		!errors.Is(err, os.ErrNotExist) {
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
