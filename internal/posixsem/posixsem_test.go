package posixsem

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/ctest"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	testmain.MainWith(m, testmain.Options{PrivateDevShm: true})
}

// name gives each test its own semaphore name and checks, when the test
// ends, that no sem.* file of its own is left in /dev/shm.
func name(t *testing.T) string {
	n := fmt.Sprintf("/ipclab-posixsem-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	t.Cleanup(func() {
		left, _ := filepath.Glob(filepath.Join(Dir, "sem.ipclab-*"))
		for _, f := range left {
			if strings.Contains(f, fmt.Sprint(os.Getpid())) {
				os.Remove(f)
				t.Errorf("leaked %s", f)
			}
		}
	})
	return n
}

// newSem makes the semaphore n with value v, exclusively and 0600, and
// unlinks and closes it when the test ends.
func newSem(t *testing.T, n string, v uint32) *Sem {
	t.Helper()
	s, err := Open(n, unix.O_CREAT|unix.O_EXCL, 0o600, v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		Unlink(n)
		s.Close()
	})
	return s
}

func semc(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("semc %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitForWaiters polls until n waiters are registered in the semaphore's
// high half: about to sleep, or asleep, until a post wakes them.
func waitForWaiters(t *testing.T, s *Sem, n uint64) {
	t.Helper()
	for atomic.LoadUint64(s.word)>>32 != n {
		time.Sleep(time.Millisecond)
	}
}

func TestValueSharedWithGlibc(t *testing.T) {
	testmain.Watchdog(t, 30*time.Second)
	prog := ctest.Build(t, "testdata/semc.c", "-pthread")
	n := name(t)
	s := newSem(t, n, 2)
	if got := semc(t, prog, "value", n); got != "2" {
		t.Fatalf("C sees value %s of a Go semaphore created with 2", got)
	}
	semc(t, prog, "post", n)
	if s.Value() != 3 {
		t.Fatalf("Go sees %d after a C post on 2", s.Value())
	}
	if err := s.TryWait(); err != nil {
		t.Fatal(err)
	}
	if got := semc(t, prog, "value", n); got != "2" {
		t.Fatalf("C sees %s after a Go trywait on 3", got)
	}
	st, err := os.Stat(filepath.Join(Dir, "sem."+n[1:]))
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != Size {
		t.Fatalf("semaphore file: %v, %v", st, err)
	}
}

// TestCPostWakesGoWaiter: a Go waiter registered in the high half is woken by
// glibc's sem_post on a semaphore glibc created.
func TestCPostWakesGoWaiter(t *testing.T) {
	testmain.Watchdog(t, 30*time.Second)
	prog := ctest.Build(t, "testdata/semc.c", "-pthread")
	n := name(t)
	semc(t, prog, "create", n, "0")
	defer Unlink(n)
	s, err := Open(n, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	waitForWaiters(t, s, 1)
	semc(t, prog, "post", n)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := atomic.LoadUint64(s.word); d != 0 {
		t.Fatalf("after the wake-up the word is %#x, want value 0 and no waiter", d)
	}
}

// TestGoPostWakesCWaiter: a C sem_wait blocked in the kernel is woken by Post.
func TestGoPostWakesCWaiter(t *testing.T) {
	prog := ctest.Build(t, "testdata/semc.c", "-pthread")
	n := name(t)
	s := newSem(t, n, 0)
	cmd := exec.Command(prog, "wait", n)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testmain.CmdWatchdog(t, cmd, 30*time.Second)
	waitForWaiters(t, s, 1)
	if err := s.Post(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil || strings.TrimSpace(out.String()) != "took one" {
		t.Fatalf("C waiter: %v, %q", err, out.String())
	}
	if s.Value() != 0 {
		t.Fatalf("value %d after the C waiter took the post", s.Value())
	}
}

func TestTimeoutsAndLimits(t *testing.T) {
	testmain.Watchdog(t, 30*time.Second)
	n := name(t)
	s := newSem(t, n, 0)
	if err := s.TryWait(); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("trywait on 0: %v, want EAGAIN", err)
	}
	if err := s.WaitUntil(time.Now().Add(20 * time.Millisecond)); !errors.Is(err, unix.ETIMEDOUT) {
		t.Fatalf("wait past its deadline: %v, want ETIMEDOUT", err)
	}
	if d := atomic.LoadUint64(s.word); d != 0 {
		t.Fatalf("a timed-out waiter left the word at %#x; it must unregister", d)
	}
	if _, err := Open(n, unix.O_CREAT|unix.O_EXCL, 0o600, 0); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("exclusive create of an existing name: %v, want EEXIST", err)
	}
	again, err := Open(n, unix.O_CREAT, 0o600, 7) // exists: value ignored
	if err != nil {
		t.Fatal(err)
	}
	again.Post()
	again.Close()
	if s.Value() != 1 {
		t.Fatalf("a second opening's post gave %d, want 1", s.Value())
	}
	atomic.StoreUint64(s.word, ValueMax)
	if err := s.Post(); !errors.Is(err, unix.EOVERFLOW) || s.Value() != ValueMax {
		t.Fatalf("post at SEM_VALUE_MAX: %v (value %d), want EOVERFLOW", err, s.Value())
	}
	if _, err := Open(n, 0, 0, ValueMax+1); err == nil {
		t.Fatal("initial value above SEM_VALUE_MAX accepted")
	}
}

func TestBadNamesAndFiles(t *testing.T) {
	for _, bad := range []string{"", "/", "noslash", "/a/b", "/" + strings.Repeat("x", 252)} {
		if _, err := Open(bad, unix.O_CREAT, 0o600, 0); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if _, err := Open(name(t)+"-missing", 0, 0, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open of a missing semaphore: %v, want not-exist", err)
	}
	n := name(t)
	path, _ := Path(n)
	defer os.Remove(path)
	// Another process's file is untrusted: a wrong size, or a semaphore
	// that is not process-shared, is refused before anything maps it.
	for _, c := range []struct {
		content []byte
		want    string
	}{
		{make([]byte, 8), "8 bytes"},
		{make([]byte, Size), "not a process-shared"},
	} {
		if err := os.WriteFile(path, c.content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(n, 0, 0, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("open of a %d-byte file: %v, want an error saying %q", len(c.content), err, c.want)
		}
	}
}

// TestWakeOnPost: the rule Post wakes by.
func TestWakeOnPost(t *testing.T) {
	for _, c := range []struct {
		waiters, value uint64
		wake           bool
	}{
		{0, 0, false}, {0, 7, false},
		{1, 0, true},               // the waiter may sleep: only a 0 value lets it
		{1, 3, false},              // no lone waiter sleeps at 3 unwoken (see Post)
		{2, 0, true}, {2, 5, true}, // glibc's rule: a wake per post
	} {
		if got := wakeOnPost(c.waiters<<32 | c.value); got != c.wake {
			t.Errorf("%d waiters, value %d: wake %v, want %v", c.waiters, c.value, got, c.wake)
		}
	}
}

// TestLoneWaiterAmongThieves: one goroutine waits for tokens, with and
// without a timeout, while another takes them with TryTake for the first
// half of the posts and a third posts them, now and then after letting
// the waiter fall asleep. Post wakes a lone waiter only on a post from 0
// (wakeOnPost). A Post that left it asleep for good with tokens there
// leaves the second half's tokens untaken, and the test hangs until the
// watchdog fails it (a rule that never woke a lone waiter: 3 hangs in 3
// runs). A waiter left asleep while the thief runs is not seen: the
// thief's takes bring the value back to 0, and the next post wakes it.
func TestLoneWaiterAmongThieves(t *testing.T) {
	testmain.Watchdog(t, 60*time.Second)
	n := name(t)
	s := newSem(t, n, 0)
	const posts = 20000
	var waited, stolen atomic.Int64
	stop, thiefStop := make(chan struct{}), make(chan struct{})
	waiterDone, thiefDone := make(chan error, 1), make(chan struct{})
	var stopThief sync.Once
	endThief := func() { stopThief.Do(func() { close(thiefStop); <-thiefDone }) }
	go func() {
		for i := 0; ; i++ {
			timeout := time.Duration(-1)
			if i%3 == 0 {
				timeout = time.Microsecond
			}
			took, err := s.WaitOnce(timeout)
			if err != nil {
				waiterDone <- err
				return
			}
			if took {
				waited.Add(1)
			}
			select {
			case <-stop:
				waiterDone <- nil
				return
			default:
			}
		}
	}()
	go func() {
		defer close(thiefDone)
		for {
			select {
			case <-thiefStop:
				return
			default:
			}
			if s.TryTake() {
				stolen.Add(1)
			}
			runtime.Gosched()
		}
	}()
	var postErr error
	for i := 0; i < posts && postErr == nil; i++ {
		if i == posts/2 {
			endThief()
		}
		if i%64 == 0 { // now and then, let the waiter fall asleep first
			for j := 0; j < 1000 && atomic.LoadUint64(s.word) != waiterOne; j++ {
				runtime.Gosched()
			}
			time.Sleep(20 * time.Microsecond)
		}
		postErr = s.Post()
		if i%7 == 0 {
			runtime.Gosched()
		}
	}
	endThief()
	for postErr == nil && waited.Load()+stolen.Load() < posts {
		time.Sleep(time.Millisecond)
	}
	// Both goroutines end before Close (a cleanup) unmaps the word.
	close(stop)
	var waitErr error
	for ended := false; !ended; { // the waiter may be asleep with nothing left: wake it until it ends
		s.Wake()
		select {
		case waitErr = <-waiterDone:
			ended = true
		case <-time.After(time.Millisecond):
		}
	}
	if postErr != nil || waitErr != nil {
		t.Fatalf("post: %v; wait: %v", postErr, waitErr)
	}
	if got := waited.Load() + stolen.Load(); got != posts || s.Value() != 0 {
		t.Fatalf("%d tokens taken (%d waited, %d stolen) of %d posted, value %d", got, waited.Load(), stolen.Load(), posts, s.Value())
	}
}

// TestGoPostsWakeTwoCWaiters: two glibc waiters blocked, two posts: both
// waiters take one. (A rule that woke only on posts from 0 would strand
// the second only if both posts came before the first waiter took its
// token; TestWakeOnPost pins the rule itself.)
func TestGoPostsWakeTwoCWaiters(t *testing.T) {
	prog := ctest.Build(t, "testdata/semc.c", "-pthread")
	n := name(t)
	s := newSem(t, n, 0)
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 2 {
		cmd := exec.Command(prog, "wait", n)
		out := new(strings.Builder)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		testmain.CmdWatchdog(t, cmd, 30*time.Second) // a waiter never woken is killed, not orphaned
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	waitForWaiters(t, s, 2)
	for range 2 {
		if err := s.Post(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil || strings.TrimSpace(outs[i].String()) != "took one" {
			t.Fatalf("C waiter %d: %v, %q", i, err, outs[i].String())
		}
	}
	if s.Value() != 0 {
		t.Fatalf("value %d after both C waiters took a post", s.Value())
	}
}

// TestWaitOnceAndWake: WaitOnce takes a token when there is one; a Wake
// without a token ends its sleep with took false and the waiter
// unregistered, the value untouched; a Post wakes it with the token.
func TestWaitOnceAndWake(t *testing.T) {
	testmain.Watchdog(t, 30*time.Second)
	n := name(t)
	s := newSem(t, n, 1)
	if took, err := s.WaitOnce(-1); !took || err != nil || s.Value() != 0 {
		t.Fatalf("WaitOnce on 1: took %v, %v, value %d", took, err, s.Value())
	}
	if took, err := s.WaitOnce(time.Millisecond); took || err != nil {
		t.Fatalf("WaitOnce on 0 past its timeout: took %v, %v", took, err)
	}
	type result struct {
		took bool
		err  error
	}
	done := make(chan result, 1)
	go func() { took, err := s.WaitOnce(-1); done <- result{took, err} }()
	waitForWaiters(t, s, 1)
	// Registered is not yet asleep: wake until it has ended (a Wake
	// before its futex wait is lost, which the channel's bounded sleeps
	// cover).
	var r result
	for woken := false; !woken; {
		s.Wake()
		select {
		case r = <-done:
			woken = true
		case <-time.After(time.Millisecond):
		}
	}
	if r.took || r.err != nil {
		t.Fatalf("WaitOnce woken without a token: took %v, %v", r.took, r.err)
	}
	if d := atomic.LoadUint64(s.word); d != 0 {
		t.Fatalf("after a tokenless wake the word is %#x, want no waiter and value 0", d)
	}
	go func() { took, err := s.WaitOnce(-1); done <- result{took, err} }()
	waitForWaiters(t, s, 1)
	s.Post()
	if r := <-done; !r.took || r.err != nil || atomic.LoadUint64(s.word) != 0 {
		t.Fatalf("WaitOnce woken by a post: took %v, %v, word %#x", r.took, r.err, atomic.LoadUint64(s.word))
	}
}

// TestUnlinkIfSame removes the name of the file it mapped, and leaves a
// file someone re-created under the name alone.
func TestUnlinkIfSame(t *testing.T) {
	n := name(t)
	s, err := Open(n, unix.O_CREAT|unix.O_EXCL, 0o600, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path, _ := Path(n)
	if err := s.UnlinkIfSame(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("UnlinkIfSame left %s: %v", path, err)
	}
	other, err := Open(n, unix.O_CREAT|unix.O_EXCL, 0o600, 0) // a later semaphore of the same name
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	defer Unlink(n)
	if err := s.UnlinkIfSame(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("UnlinkIfSame removed another semaphore's name: %v", err)
	}
}
