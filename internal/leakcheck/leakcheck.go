// Package leakcheck is the safety net of every test package that creates
// kernel objects: its TestMain fails the run when an object the tests
// created is still alive at the end.
//
// To know exactly which objects are the tests', the test binary re-executes
// itself in a private IPC namespace (CLONE_NEWIPC, which needs root; and
// CLONE_NEWNS for its mqueue mount): there
// every System V object and POSIX queue is one this binary or its peer
// processes made, and test packages that `go test ./...` runs in parallel
// cannot see, or be blamed for, each other's objects. The objects are real
// kernel objects; only their name space is private. Without the privilege
// the tests run in the shared namespace and the check compares before and
// after, which a parallel run of other packages can confuse; then it
// reports but removes nothing.
//
// Who makes a temporary directory or mount removes it, and no one else:
// processes the tests start inherit TMPDIR and the namespace, and a fuzz
// worker (go test -fuzz re-runs the test binary as workers of the process
// that coordinates them) runs Main too; its exit must not remove the
// directory in which the coordinator keeps the memory it shares with its
// workers. A worker's objects are checked by its coordinator, whose final
// snapshot is taken after every worker has exited.
package leakcheck

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"golang.org/x/sys/unix"
)

const (
	envPrivate = "IPCLAB_TEST_PRIVATE_IPC"
	envTmp     = "IPCLAB_TEST_TMPDIR" // made and removed by the outer process
	envMqDir   = "IPCLAB_TEST_MQUEUE" // ditto: where the inner one mounts mqueue
)

// Main runs the tests and exits, with status 1 if they leaked an object.
// Most packages call it through internal/testmain, which runs peer roles
// first and names the peers a leak report mentions.
func Main(m *testing.M) { MainNaming(m, nil) }

// MainNaming is Main whose leak report names the process behind each
// leaked object the kernel keeps a pid for: name(pid) says who it is (a
// peer, its role and test); nil, or "" from it, prints the pid alone.
func MainNaming(m *testing.M, name func(pid int) string) {
	if isFuzzWorker() {
		// Same namespace, TMPDIR and mount as the coordinator, which
		// checks them all once its workers are gone; a snapshot here
		// would see the other workers' objects in flight.
		os.Exit(m.Run())
	}
	private := os.Getenv(envPrivate) == "1"
	if !private {
		if code, ok := runInPrivateNamespace(); ok {
			os.Exit(code)
		}
	}
	mq, unmount := mqueueDir(private)
	// FIFOs live in the file system, which no namespace here separates:
	// give this binary and its peers their own temporary directory, so the
	// check sees only their FIFOs and never another package's.
	tmp, removeTmp := os.Getenv(envTmp), func() {} // the outer process removes its own
	if tmp == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "ipclab-test-"); err != nil {
			fmt.Fprintf(os.Stderr, "leakcheck: %v\n", err)
			os.Exit(1)
		}
		removeTmp = func() { os.RemoveAll(tmp) }
	}
	os.Setenv("TMPDIR", tmp)
	before, err := snapshot(mq)
	if err != nil {
		fmt.Fprintf(os.Stderr, "leakcheck: cannot list IPC objects, so cannot check for leaks: %v\n", err)
		unmount()
		removeTmp()
		os.Exit(1)
	}
	code := m.Run()
	after, err := snapshot(mq)
	if err != nil {
		fmt.Fprintf(os.Stderr, "leakcheck: %v\n", err)
		code = 1
	}
	if leaked := ipcobj.Diff(before, after); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "leakcheck: the tests left %d IPC object(s) alive:\n", len(leaked))
		for _, o := range leaked {
			fmt.Fprintf(os.Stderr, "  %s%s\n", o, who(o, name))
			if private || o.Kind == ipcobj.FIFO || o.Kind == ipcobj.UnixSocket {
				ipcobj.Remove(o) // ours for certain: our namespace, our directory
			}
		}
		code = 1
	}
	unmount()
	removeTmp()
	os.Exit(code)
}

// isFuzzWorker reports whether go test -fuzz started this process as one
// of its workers (the testing package's -test.fuzzworker flag).
func isFuzzWorker() bool {
	if !flag.Parsed() {
		flag.Parse() // m.Run would parse them anyway; testing registered them
	}
	f := flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() == "true"
}

// runInPrivateNamespace re-runs this test binary in a new IPC namespace and
// returns its exit code; ok is false if the namespace cannot be made.
func runInPrivateNamespace() (code int, ok bool) {
	exe, err := os.Executable()
	if err != nil {
		return 0, false
	}
	// The temporary directories are made here and removed here, after the
	// inner run, so they go even if a test or the inner process is killed.
	tmp, err := os.MkdirTemp("", "ipclab-test-")
	if err != nil {
		return 0, false
	}
	defer os.RemoveAll(tmp)
	mq, err := os.MkdirTemp("", "ipclab-mqueue-")
	if err != nil {
		return 0, false
	}
	defer os.Remove(mq)
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), envPrivate+"=1", envTmp+"="+tmp, envMqDir+"="+mq)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// A private mount namespace too (Go makes / rprivate in it), so the
	// mqueue mount that lists our queues dies with us, even on SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWIPC | syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	// A Ctrl-C or a SIGTERM must not end this process before the inner
	// one: its deferred removals of the directories above would not run
	// (they were left behind in /tmp). Caught, not ignored (the inner
	// process would inherit SIG_IGN across exec): passed on, and this
	// process waits for the inner one to go.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err = cmd.Start(); err == nil {
		done := make(chan struct{})
		go func() {
			for {
				select {
				case s := <-sigs:
					cmd.Process.Signal(s)
				case <-done:
					return
				}
			}
		}()
		err = cmd.Wait()
		close(done)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, true
	case errors.As(err, &ee):
		if ee.ExitCode() < 0 { // killed by a signal
			return 1, true
		}
		return ee.ExitCode(), true
	}
	fmt.Fprintf(os.Stderr, "leakcheck: no private IPC namespace (%v); checking the shared one, which parallel test packages can confuse\n", err)
	os.Setenv(envPrivate, "0")
	return 0, false
}

// who says which process made or last used leaked object o, as far as
// the kernel knows.
func who(o ipcobj.Object, name func(int) string) string {
	creator, sender := ipcobj.Pids(o)
	describe := func(pid int) string {
		s := fmt.Sprintf("pid %d", pid)
		if pid == os.Getpid() {
			return s + ", the test binary"
		}
		if name != nil {
			if n := name(pid); n != "" {
				return s + ", " + n
			}
		}
		return s
	}
	switch {
	case creator > 0:
		return " (created by " + describe(creator) + ")"
	case sender > 0:
		return " (last sent to by " + describe(sender) + ")"
	}
	return ""
}

func snapshot(mqdir string) ([]ipcobj.Object, error) {
	var all []ipcobj.Object
	for _, k := range []ipcobj.Kind{ipcobj.SysVMsg, ipcobj.SysVSem, ipcobj.SysVShm} {
		objs, err := ipcobj.SysV(k)
		if err != nil {
			return nil, err
		}
		all = append(all, objs...)
	}
	if mqdir != "" {
		objs, err := ipcobj.PosixQueues(mqdir)
		if err != nil {
			return nil, err
		}
		all = append(all, objs...)
	}
	shm, err := devShmObjects()
	if err != nil {
		return nil, err
	}
	all = append(all, shm...)
	fifos, err := ipcobj.FIFOs(os.TempDir(), 2)
	if err != nil {
		return nil, err
	}
	socks, err := sockets(os.TempDir())
	return append(append(all, fifos...), socks...), err
}

// mqueueDir returns a directory listing this namespace's POSIX queues. In a
// private namespace it always mounts its own: an existing mount may belong
// to another namespace. The returned func undoes the mount.
func mqueueDir(private bool) (string, func()) {
	if !private {
		if d := ipcobj.MqueueMount(); d != "" {
			return d, func() {}
		}
	}
	d, made := os.Getenv(envMqDir), false
	if d == "" {
		var err error
		if d, err = os.MkdirTemp("", "ipclab-mqueue-"); err != nil {
			return "", func() {}
		}
		made = true
	}
	remove := func() {
		if made {
			os.Remove(d)
		}
	}
	if err := unix.Mount("none", d, "mqueue", 0, ""); err != nil {
		fmt.Fprintf(os.Stderr, "leakcheck: cannot mount mqueue to list POSIX queues (%v); they are not checked\n", err)
		remove()
		return "", func() {}
	}
	return d, func() { unix.Unmount(d, unix.MNT_DETACH); remove() }
}
