// Package posixsem is a POSIX named semaphore that C programs using glibc's
// sem_open(3) share: the same name opens the same semaphore, and a sem_post
// in C wakes a Wait in Go and the other way round.
//
// glibc keeps a named semaphore "/NAME" in the file /dev/shm/sem.NAME, which
// holds one 32-byte sem_t mapped MAP_SHARED by every process that opened it.
// On 64-bit Linux (glibc 2.21 and later) that sem_t starts with a 64-bit
// word: the value in its low 32 bits, the number of possibly blocked waiters
// in its high 32 bits; the next int says whether the futex is
// process-shared. Waiters sleep on a shared futex over the value's 32 bits
// and sem_post wakes one only when the waiter count is not zero, so a Go
// waiter must register in the high half exactly as glibc's do, or a C post
// would never wake it. This package follows that protocol; it learned it
// from glibc's nptl/sem_post.c and sem_waitcommon.c and copies no code.
// The layout is glibc's struct new_sem (sysdeps/nptl/internaltypes.h, the
// __HAVE_64B_ATOMICS branch): uint64_t data (value in the low 32 bits,
// SEM_NWAITERS_SHIFT 32), then int private; sem_open.c initialises private
// to FUTEX_SHARED and the file to sizeof(sem_t), 32 bytes on x86-64.
//
// The file's contents are untrusted input: Open checks its size and its
// process-shared flag before using it.
package posixsem

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// Dir is where glibc keeps named semaphores (and shm_open's objects).
const Dir = "/dev/shm"

// Size is sizeof(sem_t) on 64-bit Linux, the size of the file.
const Size = 32

// ValueMax is SEM_VALUE_MAX: Post fails with EOVERFLOW above it.
const ValueMax = 1<<31 - 1

const (
	waiterOne = uint64(1) << 32 // one registered waiter in the high half
	valueMask = uint64(1)<<32 - 1

	// sharedFlag is what glibc stores in the sem_t's second field for a
	// process-shared semaphore: its internal LLL_SHARED, which is numerically
	// FUTEX_PRIVATE_FLAG (it is XORed away when the futex call is made).
	sharedFlag   = 128
	sharedOffset = 8
)

// Sem is an open named semaphore. Its methods may be called from any
// number of goroutines; Close must come after every other call has returned.
type Sem struct {
	name string
	path string
	dev  uint64 // the file mapped, as fstat saw it: what UnlinkIfSame checks
	ino  uint64
	uid  uint32
	perm uint32 // the file's permission bits, as fstat saw them
	mem  []byte
	word *uint64 // value (low half) and waiters (high half)
	val  *uint32 // the value's half: the futex word
}

// Path returns the file behind the semaphore name ("/NAME").
func Path(name string) (string, error) {
	if !strings.HasPrefix(name, "/") || len(name) < 2 || strings.Contains(name[1:], "/") {
		return "", fmt.Errorf("posixsem: bad semaphore name %q: want \"/NAME\" with no other slash", name)
	}
	if len(name)-1+len("sem.") > 255 {
		return "", fmt.Errorf("posixsem: semaphore name %q longer than NAME_MAX (251 characters after the slash)", name)
	}
	return filepath.Join(Dir, "sem."+name[1:]), nil
}

// Open is sem_open(3). flags may hold unix.O_CREAT and unix.O_EXCL; mode
// (less the umask) and value apply only when the semaphore is created.
// Without O_CREAT a missing semaphore is an error wrapping fs.ErrNotExist.
func Open(name string, flags int, mode uint32, value uint32) (*Sem, error) {
	path, err := Path(name)
	if err != nil {
		return nil, err
	}
	if flags&^(unix.O_CREAT|unix.O_EXCL) != 0 {
		return nil, fmt.Errorf("posixsem: open %s: flags %#x: only O_CREAT and O_EXCL are allowed", name, flags)
	}
	if value > ValueMax {
		return nil, fmt.Errorf("posixsem: open %s: initial value %d above SEM_VALUE_MAX (%d)", name, value, ValueMax)
	}
	for {
		if flags&unix.O_EXCL == 0 || flags&unix.O_CREAT == 0 {
			f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
			if err == nil {
				return mapFile(name, path, f)
			}
			if !errors.Is(err, os.ErrNotExist) || flags&unix.O_CREAT == 0 {
				return nil, fmt.Errorf("posixsem: open %s: %w", name, err)
			}
		}
		s, err := create(name, path, mode, value)
		if errors.Is(err, os.ErrExist) && flags&unix.O_EXCL == 0 {
			continue // another process created it between our two tries: open theirs
		}
		return s, err
	}
}

// create writes a complete sem_t into a temporary file and links it under
// the final name, as glibc does, so no process ever maps a half-written
// semaphore; link fails with EEXIST if the name was taken meanwhile.
func create(name, path string, mode uint32, value uint32) (*Sem, error) {
	tmp, err := os.CreateTemp(Dir, "sem.ipclab-tmp-*")
	if err != nil {
		return nil, fmt.Errorf("posixsem: create %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	var init [Size]byte
	*(*uint64)(unsafe.Pointer(&init[0])) = uint64(value)
	*(*int32)(unsafe.Pointer(&init[sharedOffset])) = sharedFlag
	// CreateTemp makes the file 0600; the requested mode less the umask,
	// as open(2) would apply it, comes next.
	umask := unix.Umask(0)
	unix.Umask(umask)
	if _, err = tmp.Write(init[:]); err == nil {
		err = tmp.Chmod(os.FileMode(mode &^ uint32(umask) & 0o777))
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("posixsem: create %s: %w", name, err)
	}
	return mapFile(name, path, tmp)
}

// mapFile maps the semaphore in f, which path names, after checking that
// f holds one, and closes f: the mapping keeps the semaphore.
func mapFile(name, path string, f *os.File) (*Sem, error) {
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("posixsem: open %s: %w", name, err)
	}
	if !st.Mode().IsRegular() || st.Size() != Size {
		return nil, fmt.Errorf("posixsem: open %s: %s is not a named semaphore (%v, %d bytes; sem_open makes a %d-byte regular file)",
			name, f.Name(), st.Mode().Type(), st.Size(), Size)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, Size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("posixsem: map %s: %w", name, err)
	}
	if shared := atomic.LoadInt32((*int32)(unsafe.Pointer(&mem[sharedOffset]))); shared != sharedFlag {
		unix.Munmap(mem)
		return nil, fmt.Errorf("posixsem: open %s: %s is not a process-shared glibc semaphore (flag %d, want %d)",
			name, f.Name(), shared, sharedFlag)
	}
	s := &Sem{name: name, path: path, mem: mem, word: (*uint64)(unsafe.Pointer(&mem[0]))}
	if st, ok := st.Sys().(*syscall.Stat_t); ok {
		s.dev, s.ino, s.uid, s.perm = st.Dev, st.Ino, st.Uid, st.Mode&0o777
	}
	s.val = (*uint32)(unsafe.Pointer(&mem[valueOffset()]))
	return s, nil
}

// valueOffset is where the value's 32 bits sit inside the 64-bit word.
func valueOffset() int {
	x := uint16(1)
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return 0 // little-endian: the low half comes first
	}
	return 4
}

// Unlink is sem_unlink(3): the name goes at once, the semaphore when the
// last process that opened it closes it.
func Unlink(name string) error {
	path, err := Path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("posixsem: unlink %s: %w", name, err)
	}
	return nil
}

// UnlinkIfSame removes the semaphore's name only if it still names the
// file this Sem mapped (same device and inode, not a link): a name another
// process re-created after us is left alone. A missing name is no error.
func (s *Sem) UnlinkIfSame() error {
	dir, err := unix.Open(Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("posixsem: unlink %s: %w", s.name, err)
	}
	defer unix.Close(dir)
	base := filepath.Base(s.path)
	var st unix.Stat_t
	if err := unix.Fstatat(dir, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("posixsem: unlink %s: %w", s.name, err)
	}
	if st.Dev != s.dev || st.Ino != s.ino {
		return nil // someone else's now
	}
	if err := unix.Unlinkat(dir, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("posixsem: unlink %s: %w", s.name, err)
	}
	return nil
}

// Owner is the uid that owned the semaphore's file when it was opened.
func (s *Sem) Owner() uint32 { return s.uid }

// Perm is the permission bits of the semaphore's file when it was opened.
func (s *Sem) Perm() uint32 { return s.perm }

// Name is the name the semaphore was opened by.
func (s *Sem) Name() string { return s.name }

// Value is sem_getvalue(3): the count now (never negative, as in glibc).
func (s *Sem) Value() int { return int(atomic.LoadUint64(s.word) & valueMask) }

// Post is sem_post(3): it adds one and, where a waiter may sleep, wakes
// one; above ValueMax it fails with EOVERFLOW and changes nothing.
//
// glibc wakes one waiter on every post while any is registered. Post does
// so while two or more are, but wakes a lone registered waiter only if the
// value was 0. No wake-up is lost: a waiter, glibc's or ours, registers
// before it sleeps, sleeps only while the value is 0 (the futex wait's
// expected value), and once a wake has dequeued it takes a token, if there
// is one, before it unregisters. So a lone waiter asleep while the value
// is above 0 was woken by the post that took the value from 0 after it
// slept, or by a post made while others were registered. The exception,
// outside ipclab's use: a glibc waiter cancelled (pthread_cancel) just
// after its wake unregisters without a token, and the wake is spent; a
// second waiter then sleeps for as long as the value stays above 0,
// where glibc's next post would wake it.
//
// Why: a waiter woken on the other CPU took about 50 µs to run here, and
// every post meanwhile cost its poster a futex call (a posixsem 4 KiB
// stream's consumer made 35,258 futex calls, its own waits included,
// against 452 sleeps of its producer).
func (s *Sem) Post() error { return s.PostWith(sysipc.Calls{}) }

// PostWith is Post, its wake-up made through calls (sysipc.Calls: held or
// not).
func (s *Sem) PostWith(calls sysipc.Calls) error {
	for {
		d := atomic.LoadUint64(s.word)
		if d&valueMask >= ValueMax {
			return fmt.Errorf("posixsem: post %s: value at SEM_VALUE_MAX: %w", s.name, unix.EOVERFLOW)
		}
		if atomic.CompareAndSwapUint64(s.word, d, d+1) {
			if wakeOnPost(d) {
				if _, err := calls.FutexWake(s.val, 1); err != nil {
					return fmt.Errorf("posixsem: post %s: futex wake: %w", s.name, err)
				}
			}
			return nil
		}
	}
}

// wakeOnPost says whether a post onto the word d must wake a waiter (see
// Post).
func wakeOnPost(d uint64) bool {
	n := d >> 32
	return n > 1 || n == 1 && d&valueMask == 0
}

// TryWait is sem_trywait(3): it takes one or fails with EAGAIN at once.
func (s *Sem) TryWait() error {
	if s.tryTake() {
		return nil
	}
	return fmt.Errorf("posixsem: trywait %s: %w", s.name, unix.EAGAIN)
}

// TryTake is TryWait for a message path: it says whether it took one,
// and allocates nothing when it did not (TryWait's error did, once per
// wait for room: a stream's sender met a garbage collection every few
// hundred milliseconds).
func (s *Sem) TryTake() bool { return s.tryTake() }

// Wait is sem_wait(3): it takes one, blocking while the value is zero.
func (s *Sem) Wait() error { return s.WaitUntil(time.Time{}) }

// WaitUntil is sem_timedwait(3): Wait that gives up at deadline (the zero
// time: never) with an error wrapping ETIMEDOUT.
func (s *Sem) WaitUntil(deadline time.Time) error {
	if s.tryTake() {
		return nil
	}
	// Register as a waiter: from now on a Post wakes someone if it finds
	// the value 0, or other waiters registered too.
	d := atomic.AddUint64(s.word, waiterOne)
	for {
		if d&valueMask == 0 {
			if err := s.sleep(deadline); err != nil {
				atomic.AddUint64(s.word, ^(waiterOne - 1)) // unregister: subtract waiterOne
				return fmt.Errorf("posixsem: wait %s: %w", s.name, err)
			}
			d = atomic.LoadUint64(s.word)
			continue
		}
		// Take one token and unregister in the same step.
		if atomic.CompareAndSwapUint64(s.word, d, d-1-waiterOne) {
			return nil
		}
		d = atomic.LoadUint64(s.word)
	}
}

// sleep blocks on the futex while the value reads zero. It returns nil when
// woken, when the value changed first, or on a signal (Go's runtime sends
// them freely): the caller re-reads the value in every case.
func (s *Sem) sleep(deadline time.Time) error {
	var ts *unix.Timespec
	if !deadline.IsZero() {
		left := time.Until(deadline)
		if left <= 0 {
			return unix.ETIMEDOUT
		}
		t := unix.NsecToTimespec(left.Nanoseconds())
		ts = &t
	}
	switch err := sysipc.FutexWait(s.val, 0, ts); err {
	case nil, unix.EAGAIN, unix.EINTR:
		return nil
	default:
		return err
	}
}

// WaitOnce takes one if it can; otherwise it registers as a waiter, as
// glibc's sem_wait does, sleeps once on the futex (until a Post, a Wake, a
// signal or timeout; timeout < 0: no limit) and tries again. took is false
// when it woke without a token: the caller re-checks why it waits (closed,
// peer gone, deadline) and calls again. This is what lets a channel wake
// its own waiters without posting a token its peer would count.
func (s *Sem) WaitOnce(timeout time.Duration) (took bool, err error) {
	return s.WaitOnceWith(timeout, sysipc.Calls{})
}

// WaitOnceWith is WaitOnce, its futex wait made through calls (held or
// not; a held one needs a timeout, see sysipc.Calls.FutexWait).
func (s *Sem) WaitOnceWith(timeout time.Duration, calls sysipc.Calls) (took bool, err error) {
	if s.tryTake() {
		return true, nil
	}
	d := atomic.AddUint64(s.word, waiterOne)
	if d&valueMask == 0 {
		var ts *unix.Timespec
		if timeout >= 0 {
			t := unix.NsecToTimespec(timeout.Nanoseconds())
			ts = &t
		}
		switch e := calls.FutexWait(s.val, 0, ts); e {
		case nil, unix.EAGAIN, unix.EINTR, unix.ETIMEDOUT:
		default:
			err = fmt.Errorf("posixsem: wait %s: %w", s.name, e)
		}
		d = atomic.LoadUint64(s.word)
	}
	for d&valueMask != 0 {
		if atomic.CompareAndSwapUint64(s.word, d, d-1-waiterOne) {
			return true, nil
		}
		d = atomic.LoadUint64(s.word)
	}
	// Unregister. A Post that saw us registered woke someone, or no one;
	// its token stays in the value, so it is not lost.
	atomic.AddUint64(s.word, ^(waiterOne - 1))
	return false, err
}

// Wake wakes every waiter sleeping on the semaphore without adding a token:
// a Go waiter in WaitOnce returns to re-check its conditions, a glibc one
// finds the value still zero and sleeps again.
func (s *Sem) Wake() {
	sysipc.FutexWake(s.val, math.MaxInt32)
}

func (s *Sem) tryTake() bool {
	for {
		d := atomic.LoadUint64(s.word)
		if d&valueMask == 0 {
			return false
		}
		if atomic.CompareAndSwapUint64(s.word, d, d-1) {
			return true
		}
	}
}

// Close is sem_close(3): it unmaps the semaphore; the name stays until
// Unlink.
func (s *Sem) Close() error {
	if s.mem == nil {
		return nil
	}
	err := unix.Munmap(s.mem)
	s.mem, s.word, s.val = nil, nil, nil
	return err
}
