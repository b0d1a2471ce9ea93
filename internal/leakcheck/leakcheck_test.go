package leakcheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if os.Getenv(envDevShmLeak) == "1" {
		PrivateDevShm()
	}
	Main(m)
}

// envLeak makes FuzzTempFiles leave a queue behind, to show that a fuzz
// worker's leak is still caught (by its coordinator).
const envLeak = "IPCLAB_LEAKCHECK_TEST_LEAK"

// TestInheritedDirectorySurvivesAChild: a process that inherits the
// temporary directory (a peer, a fuzz worker, a nested test binary) leaves
// it, and what others keep in it, alone when it exits.
func TestInheritedDirectorySurvivesAChild(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "fuzz-shared-memory")
	if err := os.WriteFile(marker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestNothing$")
	// As the inner process of a run: private already, given its directory.
	cmd.Env = append(os.Environ(), envPrivate+"=1", envTmp+"="+dir)
	out := runWithWatchdog(t, cmd, time.Minute)
	if cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("child: exit %d:\n%s", cmd.ProcessState.ExitCode(), out)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the child removed a directory it did not make: %v\n%s", err, out)
	}
}

func TestNothing(t *testing.T) {}

// TestFuzzUnderLeakcheck runs the go command's fuzzer over this package:
// it passes (the workers no longer remove the coordinator's shared memory
// files), and a leak made inside a worker still fails the run.
func TestFuzzUnderLeakcheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fuzzer; -short skips it")
	}
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gotool); err != nil {
		if gotool, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to run the fuzzer with")
		}
	}
	fuzz := func(leak bool) (string, int) {
		cmd := exec.Command(gotool, "test", "-count=1", "-run", "^$", "-fuzz", "^FuzzTempFiles$", "-fuzztime", "300x", ".")
		cmd.Env = os.Environ()
		if leak {
			cmd.Env = append(cmd.Env, envLeak+"=1")
		}
		out := runWithWatchdog(t, cmd, 5*time.Minute)
		return out, cmd.ProcessState.ExitCode()
	}
	if out, code := fuzz(false); code != 0 || !strings.Contains(out, "PASS") {
		t.Fatalf("go test -fuzz: exit %d:\n%s", code, out)
	}
	if out, code := fuzz(true); code == 0 || !strings.Contains(out, "leakcheck: the tests left") {
		t.Fatalf("a queue left by a fuzz worker was not reported: exit %d:\n%s", code, out)
	}
}

var leakOnce sync.Once

// FuzzTempFiles makes and removes a FIFO in the temporary directory the
// leak check gave the run, the way transport tests do.
func FuzzTempFiles(f *testing.F) {
	f.Add([]byte("a"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(os.TempDir(), "fifo")
		if err := unix.Mkfifo(p, 0o600); err != nil && err != unix.EEXIST {
			t.Fatal(err)
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if os.Getenv(envLeak) == "1" {
			leakOnce.Do(func() {
				if _, err := sysipc.Msgget(sysipc.IPCPrivate, unix.IPC_CREAT|0o600); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// runWithWatchdog runs cmd and returns its combined output; after limit it
// kills cmd and fails with every goroutine's stack.
func runWithWatchdog(t *testing.T, cmd *exec.Cmd, limit time.Duration) string {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(limit, func() {
		cmd.Process.Kill()
		buf := make([]byte, 1<<20)
		panic("watchdog: " + strings.Join(cmd.Args, " ") + " still running after " + limit.String() + "\n" + string(buf[:runtime.Stack(buf, true)]))
	})
	cmd.Wait()
	timer.Stop()
	return out.String()
}

// TestWhoNamesTheCreator: a leaked segment is reported with its creator,
// named by the caller's function when it knows the pid.
func TestWhoNamesTheCreator(t *testing.T) {
	seg, err := unix.SysvShmGet(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.SysvShmCtl(seg, unix.IPC_RMID, nil)
	o := ipcobj.Object{Kind: ipcobj.SysVShm, ID: seg}
	if got, want := who(o, nil), fmt.Sprintf(" (created by pid %d, the test binary)", os.Getpid()); got != want {
		t.Errorf("who = %q, want %q", got, want)
	}
	if got := who(ipcobj.Object{Kind: ipcobj.SysVSem, ID: 1}, nil); got != "" {
		t.Errorf("who of a semaphore set (no pid kept) = %q, want nothing", got)
	}
}

// TestSocketsSeen: a socket file in the temporary directory and an @ipclab
// abstract socket this process holds are what a test would leak; closing
// and removing them leaves nothing.
func TestSocketsSeen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	name := fmt.Sprintf("@ipclab-leakcheck-test-%d", os.Getpid())
	fds := make([]int, 2)
	for i, addr := range []string{path, name} {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds[i] = fd
		if err := unix.Bind(fd, &unix.SockaddrUnix{Name: addr}); err != nil {
			t.Fatal(err)
		}
	}
	has := func(objs []ipcobj.Object, name string) bool {
		for _, o := range objs {
			if o.Kind == ipcobj.UnixSocket && o.Name == name {
				return true
			}
		}
		return false
	}
	objs, err := sockets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !has(objs, path) || !has(objs, name) {
		t.Fatalf("sockets(%s) = %v; want the socket file %s and the abstract socket %s", dir, objs, path, name)
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	os.Remove(path)
	if objs, _ = sockets(dir); has(objs, path) || has(objs, name) {
		t.Fatalf("after close and remove: %v", objs)
	}
}
