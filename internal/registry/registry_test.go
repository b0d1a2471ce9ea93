package registry

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testmain.Main(m) }

const nobody = 65534 // the second user of the attack tests

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test gives files to a second user (uid 65534) to play the attacker")
	}
}

// useTempRegistry points the registry at the default location under a
// fresh temporary directory, as a user without XDG_RUNTIME_DIR has it.
func useTempRegistry(t *testing.T, tmp string) string {
	t.Setenv("IPCLAB_REGISTRY", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("TMPDIR", tmp)
	return filepath.Join(tmp, fmt.Sprintf("ipclab-%d", os.Geteuid()))
}

// privateRegistry points IPCLAB_REGISTRY at a fresh 0700 directory.
func privateRegistry(t *testing.T) string {
	d := t.TempDir()
	os.Chmod(d, 0o700)
	t.Setenv("IPCLAB_REGISTRY", d)
	return d
}

func newQueue(t *testing.T) int {
	t.Helper()
	id, err := sysipc.Msgget(sysipc.IPCPrivate, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sysipc.MsgctlRemove(id) })
	return id
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestPlantedDirectoryIsRefused is the attack found on main: another user
// makes ipclab-0 in the world-writable temporary directory, mode 777, with
// symbolic links named like the entries root is about to write. Root's
// Add must refuse the directory: the link's target is untouched and
// nothing is written into the other user's directory.
func TestPlantedDirectoryIsRefused(t *testing.T) {
	needRoot(t)
	tmp := t.TempDir()
	os.Chmod(tmp, 0o1777)
	planted := useTempRegistry(t, tmp)
	if err := os.Mkdir(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(planted, 0o777)
	target := filepath.Join(t.TempDir(), "root-only")
	if err := os.WriteFile(target, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	id := newQueue(t)
	e := Entry{Kind: ipcobj.SysVMsg, ID: id}
	for _, name := range []string{
		fmt.Sprintf("sysvmsg-%d.json.tmp", id), // main's temporary file
		fmt.Sprintf("sysvmsg-%d.json", id),
		e.file(), e.file() + ".tmp",
	} {
		if err := os.Symlink(target, filepath.Join(planted, name)); err != nil {
			t.Fatal(err)
		}
		os.Lchown(filepath.Join(planted, name), nobody, nobody)
	}
	if err := os.Lchown(planted, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	before := dirNames(t, planted)

	err := add(e)
	if err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Fatalf("Add into another user's directory: %v; want a refusal naming the owner", err)
	}
	t.Logf("refused: %v", err)
	if _, err := List(); err == nil {
		t.Fatal("List read a directory another user owns")
	}
	if b, _ := os.ReadFile(target); string(b) != "secret" {
		t.Fatalf("the link's target was overwritten: %q", b)
	}
	if after := dirNames(t, planted); !slices.Equal(before, after) {
		t.Fatalf("something was written into the other user's directory: %v, before %v", after, before)
	}
}

// TestDirectoryModeAndLinkAreRefused: our own directory open to others, or
// a link in its place, is refused too.
func TestDirectoryModeAndLinkAreRefused(t *testing.T) {
	tmp := t.TempDir()
	reg := useTempRegistry(t, tmp)
	if err := os.Mkdir(reg, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(reg, 0o733)
	if _, err := List(); err == nil || !strings.Contains(err.Error(), "mode 0733") {
		t.Fatalf("a registry with mode 0733: %v; want a refusal naming the mode", err)
	}
	os.Remove(reg)
	if err := os.Symlink(t.TempDir(), reg); err != nil {
		t.Fatal(err)
	}
	if _, err := List(); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a registry that is a link: %v; want a refusal", err)
	}
	os.Remove(reg)
	if _, err := List(); err != nil {
		t.Fatalf("a missing registry is made: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(reg, &st); err != nil || st.Mode&0o777 != 0o700 {
		t.Fatalf("the registry was made with mode %#o (%v), want 0700", st.Mode&0o777, err)
	}
}

// TestXDGRuntimeDirOnlyWhenPrivate: XDG_RUNTIME_DIR is used when it is a
// 0700 directory of ours, and passed over otherwise.
func TestXDGRuntimeDirOnlyWhenPrivate(t *testing.T) {
	tmp := t.TempDir()
	fallback := useTempRegistry(t, tmp)
	xdg := t.TempDir()
	os.Chmod(xdg, 0o700)
	t.Setenv("XDG_RUNTIME_DIR", xdg)
	if got := Dir(); got != filepath.Join(xdg, "ipclab") {
		t.Fatalf("Dir() = %s with a private XDG_RUNTIME_DIR %s", got, xdg)
	}
	os.Chmod(xdg, 0o777)
	if got := Dir(); got != fallback {
		t.Fatalf("Dir() = %s with a world-writable XDG_RUNTIME_DIR; want %s", got, fallback)
	}
}

// TestListSkipsFilesNotOurs: a file another user owns and a link, both
// holding a well-formed entry, are not entries.
func TestListSkipsFilesNotOurs(t *testing.T) {
	needRoot(t)
	reg := privateRegistry(t)
	id := newQueue(t)
	mine := Entry{Kind: ipcobj.SysVMsg, ID: id}
	if err := add(mine); err != nil {
		t.Fatal(err)
	}
	other := newQueue(t)
	ident, err := Probe(Entry{Kind: ipcobj.SysVMsg, ID: other})
	if err != nil {
		t.Fatal(err)
	}
	forged := Entry{Kind: ipcobj.SysVMsg, ID: other, PID: 1, Ident: &ident}
	b, _ := json.Marshal(forged)
	foreign := filepath.Join(reg, forged.file())
	if err := os.WriteFile(foreign, b, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chown(foreign, nobody, nobody)
	outside := filepath.Join(t.TempDir(), "entry.json")
	os.WriteFile(outside, b, 0o600)
	linked := forged
	linked.ID = other + 1
	if err := os.Symlink(outside, filepath.Join(reg, linked.file())); err != nil {
		t.Fatal(err)
	}
	got, err := List()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != id {
		t.Fatalf("List = %v; want only the entry this user wrote (queue %d)", got, id)
	}
}

// TestVerify: the recorded object is recognised; another namespace, no
// identity, a different object under the same id or name are not, and
// Remove leaves them alone.
func TestVerify(t *testing.T) {
	privateRegistry(t)
	id := newQueue(t)
	e := Entry{Kind: ipcobj.SysVMsg, ID: id}
	if err := add(e); err != nil {
		t.Fatal(err)
	}
	es, err := List()
	if err != nil || len(es) != 1 {
		t.Fatalf("List = %v, %v", es, err)
	}
	e = es[0]
	if v := e.Verify(); v.State != Ours {
		t.Fatalf("Verify of the recorded queue: %+v", v)
	}

	otherNS := e
	ident := *e.Ident
	ident.NS++
	otherNS.Ident = &ident
	if v := otherNS.Verify(); v.State != NotVerified || !strings.Contains(v.Why, "namespace") {
		t.Fatalf("an entry from another IPC namespace: %+v; want not verified", v)
	}
	if err := otherNS.Remove(); err == nil {
		t.Fatal("Remove of an entry from another namespace succeeded")
	}
	bare := e
	bare.Ident = nil
	if v := bare.Verify(); v.State != NotVerified {
		t.Fatalf("an entry without identity: %+v; want not verified", v)
	}
	bare.Remove()
	reused := e
	ident = *e.Ident
	ident.Ctime--
	reused.Ident = &ident
	if v := reused.Verify(); v.State != Gone {
		t.Fatalf("an id now naming another queue: %+v; want gone", v)
	}
	reused.Remove()
	if _, err := sysipc.MsgctlStat(id); err != nil {
		t.Fatalf("Remove of unverified entries removed the queue: %v", err)
	}
	if err := e.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := sysipc.MsgctlStat(id); err == nil {
		t.Fatal("Remove of the verified entry left the queue")
	}
	if es, _ := List(); len(es) != 0 {
		t.Fatalf("entries left after Remove: %v", es)
	}
}

// TestVerifyFIFOAndQueueByInode: a FIFO or POSIX queue replaced by
// another under the same name is not removed.
func TestVerifyFIFOAndQueueByInode(t *testing.T) {
	privateRegistry(t)
	path := filepath.Join(t.TempDir(), "f")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("/ipclab-registry-test-%d", os.Getpid())
	fd, err := sysipc.MqOpen(name, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	t.Cleanup(func() { sysipc.MqUnlink(name) })
	for _, e := range []Entry{{Kind: ipcobj.FIFO, Name: path}, {Kind: ipcobj.PosixMQ, Name: name}} {
		if err := add(e); err != nil {
			t.Fatal(err)
		}
	}
	es, err := List()
	if err != nil || len(es) != 2 {
		t.Fatalf("List = %v, %v", es, err)
	}
	for _, e := range es {
		if v := e.Verify(); v.State != Ours {
			t.Fatalf("%s: %+v", e, v)
		}
	}
	// Replace both by new objects under the same names.
	os.Remove(path)
	unix.Mkfifo(path, 0o600)
	sysipc.MqUnlink(name)
	fd, err = sysipc.MqOpen(name, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	for _, e := range es {
		if v := e.Verify(); v.State != Gone {
			t.Errorf("%s replaced: %+v; want gone", e, v)
		}
		if err := e.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("the replacing FIFO was removed: %v", err)
	}
	fd, err = sysipc.MqOpen(name, unix.O_RDONLY, 0, nil)
	if err != nil {
		t.Fatalf("the replacing queue was removed: %v", err)
	}
	unix.Close(fd)
}

// TestOldEntryIsListedNotVerified: an entry an older ipclab wrote (no
// identity, its own file name) is listed, never verified, and can be
// forgotten.
func TestOldEntryIsListedNotVerified(t *testing.T) {
	reg := privateRegistry(t)
	id := newQueue(t)
	b, _ := json.Marshal(Entry{Kind: ipcobj.SysVMsg, ID: id, PID: 1})
	old := filepath.Join(reg, fmt.Sprintf("sysvmsg-%d.json", id))
	if err := os.WriteFile(old, b, 0o600); err != nil {
		t.Fatal(err)
	}
	es, err := List()
	if err != nil || len(es) != 1 {
		t.Fatalf("List = %v, %v; want the old entry", es, err)
	}
	if v := es[0].Verify(); v.State != NotVerified {
		t.Fatalf("old entry: %+v; want not verified", v)
	}
	if err := es[0].Remove(); err == nil {
		t.Fatal("Remove of an old entry succeeded")
	}
	if _, err := sysipc.MsgctlStat(id); err != nil {
		t.Fatalf("the queue an old entry names was removed: %v", err)
	}
	Forget(es[0])
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("Forget left the old entry: %v", err)
	}
}
