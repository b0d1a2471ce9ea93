package sysvmsg

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/ctest"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

func TestFtokMatchesGlibc(t *testing.T) {
	prog := ctest.Build(t, "testdata/cpeer.c")
	for _, path := range []string{"/bin/cat", os.TempDir(), prog} {
		for _, id := range []int{0, 1, 65, 'I', 200, 255, 1300, -1, 1 << 20} { // any int, as C passes it
			out, err := exec.Command(prog, "ftok", path, strconv.Itoa(id)).Output()
			if err != nil {
				t.Fatalf("C ftok(%s, %d): %v", path, id, err)
			}
			k, err := sysipc.Ftok(path, id)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := k.String(), strings.TrimSpace(string(out)); got != want {
				t.Errorf("Ftok(%s, %d) = %s, glibc says %s", path, id, got, want)
			}
		}
	}
}

// TestCInterop: a C process opens the queue Go created by ftok key and the
// two exchange a message each way, as in the course's examples.
func TestCInterop(t *testing.T) {
	prog := ctest.Build(t, "testdata/cpeer.c")
	keyFile := filepath.Join(t.TempDir(), "keyfile")
	os.WriteFile(keyFile, nil, 0o600)
	c, err := CreateFtok(keyFile, 'I', Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send([]byte("hello from Go")); err != nil {
		t.Fatal(err)
	}
	key, _ := c.addr.key()
	out, err := exec.Command(prog, key.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("C peer: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "got 13 bytes: hello from Go") {
		t.Fatalf("C peer printed %q", out)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Recv(buf)
	if err != nil || string(buf[:n]) != "hello from C" {
		t.Fatalf("reply from C: %q, %v", buf[:n], err)
	}
}

// TestTypeSelection: msgrcv with a negative type takes the lowest type
// first, which makes the queue a priority queue.
func TestTypeSelection(t *testing.T) {
	c, err := Create(sysipc.IPCPrivate, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, ty := range []int64{30, 10, 20} {
		if err := c.SendType([]byte{byte(ty)}, ty); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 8)
	for _, want := range []int64{10, 20, 30} {
		n, ty, err := c.RecvType(buf, -100)
		if err != nil || n != 1 || ty != want || buf[0] != byte(want) {
			t.Fatalf("RecvType(-100) = %d bytes, type %d, %v; want type %d", n, ty, err, want)
		}
	}
	if err := c.SendType(nil, 0); err == nil {
		t.Fatal("mtype 0 accepted; msgsnd requires >= 1")
	}
}

// TestKeyOfAnotherKind: a key that names a semaphore set, not a queue,
// gets an error that says so.
func TestKeyOfAnotherKind(t *testing.T) {
	const key = sysipc.Key(0x1badc0de)
	id, err := sysipc.Semget(key, 1, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer sysipc.SemctlRemove(id)
	_, err = Open("sysvmsg:key=0x1badc0de", Options{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "sysvsem") {
		t.Fatalf("open of a semaphore set's key: %v; want not-exist naming the semaphore set", err)
	}
	t.Log(err)
}

func TestCreateExistingKeyIsExclusive(t *testing.T) {
	c, err := Create(0x2badc0de, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = Create(0x2badc0de, Options{})
	if !errors.Is(err, unix.EEXIST) || !strings.Contains(err.Error(), "ipcrm") {
		t.Fatalf("second create of one key: %v; want EEXIST with advice", err)
	}
	var op *ipclab.OpError
	if !errors.As(err, &op) || op.Op != "create" || op.Transport != Scheme {
		t.Fatalf("error %v is not an *ipclab.OpError for create", err)
	}
	ds, _ := sysipc.MsgctlStat(c.ID())
	if ds.Perm.Mode&0o777 != 0o600 {
		t.Fatalf("queue mode %#o, want 0600", ds.Perm.Mode&0o777)
	}
}
