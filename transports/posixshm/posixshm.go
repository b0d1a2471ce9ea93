// Package posixshm is the ipclab transport over shmchan in POSIX shared
// memory: the same duplex ring as sysvshm (package shmchan: layout, header
// validation, wait strategies, close and peer death), in an object made by
// the equivalent of shm_open(3) under /dev/shm, or in a memfd inherited by
// a child process. Its wait strategies are futex (the default), spin and
// posixsem, the textbook's bounded buffer on glibc-compatible named
// semaphores (internal/posixsem), so a C program using shm_open and
// sem_open on the same names is a peer; and, for the inherited pair only,
// eventfd (descriptors cannot be opened by name).
//
// Addresses: posixshm:name=/NAME, the object /dev/shm/NAME (and, with
// posixsem, the semaphores /NAME-f0, /NAME-e0, /NAME-f1, /NAME-e1: "full"
// and "empty" of the creator's ring, then of the opener's); or
// posixshm:fd=N, a memfd the creator handed down (futex and spin: the
// semaphores need names), with ,efd=M for eventfd (M to M+3, handed down
// too). Options as sysvshm's: ,wait=STRATEGY
// (checked against the header), ,spin=off|DURATION, ,owner=any.
//
// Lifetime: objects are created 0600 and O_EXCL, opened with O_NOFOLLOW,
// and checked (regular file, owner and mode, size) before they are mapped. The
// names go as soon as both ends are attached: the opener marks its
// attachment in the header, and the creator unlinks when it sees it (at
// its next Send, Recv or wait) or at Close; an opener whose creator died unlinks them,
// if they still name the files it mapped (device and inode). The memory
// lives until the last mapping goes. A memfd has no name, and is sealed
// against shrinking, so its opener cannot make the creator fault.
package posixshm

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/posixsem"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/shmconn"
	"github.com/ipclab/ipclab/shmchan"
	"golang.org/x/sys/unix"
)

// Scheme is the address prefix of this transport.
const Scheme = "posixshm"

// semSuffixes name a channel's semaphores after its object: full and
// empty of ring 0 (creator to opener), then of ring 1.
var semSuffixes = [4]string{"-f0", "-e0", "-f1", "-e1"}

// maxSegment bounds what an opener maps: the largest channel shmchan makes.
const maxSegment = 4096 + 2<<30

var nameSeq atomic.Int64

// NewName returns a fresh object name for this process.
func NewName() string { return fmt.Sprintf("/ipclab-shm-%d-%d", os.Getpid(), nameSeq.Add(1)) }

var (
	_ ipclab.Conn             = (*Conn)(nil)
	_ ipclab.ZeroCopySender   = (*Conn)(nil)
	_ ipclab.ZeroCopyReceiver = (*Conn)(nil)
	_ ipclab.Buffered         = (*Conn)(nil)
)

// Conn is one side of a channel (see internal/shmconn).
type Conn struct{ *shmconn.Conn }

// Create makes a channel in a new object /dev/shm/NAME (and its
// semaphores, for posixsem). cfg.Key is ignored; cfg.Reuse is refused.
func Create(name string, cfg shmchan.Config) (*Conn, error) {
	a := Addr{Name: name, FD: -1, EFD: -1, AddrOptions: shmconn.AddrOptions{Strategy: cfg.Strategy.String(), Spin: cfg.SpinBudget}}
	ch, err := create(name, cfg)
	if err != nil {
		return nil, chanend.OpError("create", a, err)
	}
	return &Conn{shmconn.New(ch, a)}, nil
}

func create(name string, cfg shmchan.Config) (*shmchan.Chan, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if cfg.Reuse {
		return nil, errors.New("posixshm: Reuse is not supported: a name is always created exclusively (remove a stale one with ipclab clean)")
	}
	switch cfg.Strategy {
	case shmchan.SysVSem:
		return nil, fmt.Errorf("posixshm: the %s strategy is the sysvshm transport's; use futex, spin or posixsem", cfg.Strategy)
	case shmchan.EventFD:
		return nil, fmt.Errorf("posixshm: the %s strategy needs descriptors the opener inherits: use CreateInherited (a named object's opener could get them only by SCM_RIGHTS or pidfd_getfd)", cfg.Strategy)
	}
	size, err := shmchan.SegmentSize(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkDevShm(); err != nil {
		return nil, err
	}
	dir, err := unix.Open(ipcobj.DevShm, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("posixshm: open %s: %w", ipcobj.DevShm, err)
	}
	defer unix.Close(dir)
	mode := chanend.Perm(cfg.Mode)
	fd, err := unix.Openat(dir, name[1:], unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("shm_open: %w", chanend.Exists(err, "a POSIX shared-memory object "+name,
				"ipclab clean, or rm "+ipcobj.ShmPath(ipcobj.PosixShm, name), "name"))
		}
		return nil, fmt.Errorf("shm_open %s: %w", name, err)
	}
	defer unix.Close(fd) // the mapping keeps the memory
	obj := &object{name: name, creator: true, mode: mode, register: cfg.Register, efd: [4]int{-1, -1, -1, -1}}
	var st unix.Stat_t
	if err = allocate(fd, size); err == nil {
		err = unix.Fstat(fd, &st)
	}
	if err == nil {
		obj.dev, obj.ino, obj.uid = st.Dev, st.Ino, st.Uid
		obj.mem, err = unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	}
	if err != nil {
		unix.Unlinkat(dir, name[1:], 0) // ours: made exclusively just now
		return nil, err
	}
	if cfg.Register {
		registry.Add(registry.Entry{Kind: ipcobj.PosixShm, Name: name})
	}
	ch, err := shmchan.CreateOn(obj.mem, obj, cfg)
	if err != nil {
		obj.Close(true)
		return nil, err
	}
	return ch, nil
}

// CreateInherited makes a channel in a memfd, for a child process: it
// returns the creator's end and the files to hand to the child as its
// descriptors 3, 4, ... (closed here once the child has started), whose
// end is Open of the Conn's address ("posixshm:fd=3"; with eventfd,
// "posixshm:fd=3,efd=4,wait=eventfd": the four eventfds are 4 to 7).
// cfg.Strategy posixsem is refused: its semaphores need names.
func CreateInherited(cfg shmchan.Config) (*Conn, []*os.File, error) {
	a := Addr{FD: 3, EFD: -1, AddrOptions: shmconn.AddrOptions{Strategy: cfg.Strategy.String(), Spin: cfg.SpinBudget}}
	if cfg.Strategy == shmchan.EventFD {
		a.EFD = 4
	}
	fail := func(err error) (*Conn, []*os.File, error) { return nil, nil, chanend.OpError("create", a, err) }
	if cfg.Strategy == shmchan.SysVSem || cfg.Strategy == shmchan.PosixSem {
		return fail(fmt.Errorf("posixshm: an inherited memfd channel waits by futex or spin; %s needs named objects (posixshm:name=)", cfg.Strategy))
	}
	size, err := shmchan.SegmentSize(cfg)
	if err != nil {
		return fail(err)
	}
	fd, err := unix.MemfdCreate("ipclab-posixshm", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return fail(fmt.Errorf("memfd_create: %w", err))
	}
	f := os.NewFile(uintptr(fd), "ipclab-posixshm-memfd")
	obj := &object{creator: true, efd: [4]int{-1, -1, -1, -1}}
	if err = allocate(fd, size); err == nil {
		// The child cannot shrink it under us (a fault on the creator's
		// side), nor change the seals.
		_, err = unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL)
	}
	if err == nil {
		obj.mem, err = unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	}
	if err != nil {
		f.Close()
		return fail(err)
	}
	files := []*os.File{f}
	if cfg.Strategy == shmchan.EventFD {
		// Ours, and a duplicate of each for the child (same eventfd).
		for i := range obj.efd {
			if obj.efd[i], err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err == nil {
				var dup int
				if dup, err = unix.FcntlInt(uintptr(obj.efd[i]), unix.F_DUPFD_CLOEXEC, 0); err == nil {
					files = append(files, os.NewFile(uintptr(dup), "ipclab-posixshm-eventfd"))
				}
			}
			if err != nil {
				err = fmt.Errorf("eventfd: %w", err)
				break
			}
		}
	}
	var ch *shmchan.Chan
	if err == nil {
		ch, err = shmchan.CreateOn(obj.mem, obj, cfg)
	}
	if err != nil {
		obj.Close(true)
		for _, f := range files {
			f.Close()
		}
		return fail(err)
	}
	return &Conn{shmconn.New(ch, a)}, files, nil
}

// Open attaches to the channel at addr.
func Open(addr string, opt shmchan.AttachOptions) (*Conn, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if opt.SpinBudget == 0 {
		opt.SpinBudget = a.Spin
	}
	opt.TrustOtherUsers = opt.TrustOtherUsers || a.AnyOwner
	ch, err := open(a, opt)
	if err != nil {
		return nil, chanend.OpError("open", a, err)
	}
	if a.Strategy != "" && a.Strategy != ch.Strategy().String() {
		ch.Close()
		return nil, chanend.OpError("open", a, fmt.Errorf("the address says wait=%s, the channel uses %s", a.Strategy, ch.Strategy()))
	}
	return &Conn{shmconn.New(ch, a)}, nil
}

func open(a Addr, opt shmchan.AttachOptions) (*shmchan.Chan, error) {
	var fd int
	if a.Name == "" {
		fd = a.FD
		seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
		if err != nil || seals&(unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL) != unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL {
			return nil, fmt.Errorf("posixshm: descriptor %d is not a channel's sealed memfd (seals %#x, %v)", fd, seals, err)
		}
	} else {
		var err error
		fd, err = unix.Open(ipcobj.ShmPath(ipcobj.PosixShm, a.Name), unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil, fmt.Errorf("shm_open %s: %w: no such object (or its opener already attached and the name is gone)", a.Name, err)
			}
			return nil, fmt.Errorf("shm_open %s: %w", a.Name, err)
		}
	}
	defer unix.Close(fd) // the mapping keeps the memory; an inherited fd is not needed after it
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("fstat: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("posixshm: %s is not a regular file (mode %#o)", a, st.Mode)
	}
	// Its owner, or whoever its mode lets in, could also write a header
	// naming objects of ours for this process to act on. An inherited
	// memfd's mode is always 0777, and means nothing: it has no name, and
	// is reached through descriptors only.
	if !opt.TrustOtherUsers {
		what, allow := "posixshm: object "+a.Name, uint32(0)
		if a.Name == "" {
			what, allow = fmt.Sprintf("posixshm: memfd %d", fd), 0o777
		}
		if err := chanend.Private(what, st.Uid, st.Uid, st.Mode, allow); err != nil {
			return nil, err
		}
	}
	if st.Size < 4096 || st.Size > maxSegment {
		return nil, fmt.Errorf("%w: the object has %d bytes; a channel has from 4096 to %d", shmchan.ErrCorrupt, st.Size, maxSegment)
	}
	obj := &object{name: a.Name, dev: st.Dev, ino: st.Ino, uid: st.Uid, trust: opt.TrustOtherUsers, efd: [4]int{-1, -1, -1, -1}}
	if a.EFD >= 0 {
		for i := range obj.efd {
			fd := a.EFD + i
			if link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); err != nil || link != "anon_inode:[eventfd]" {
				return nil, fmt.Errorf("posixshm: descriptor %d is not an inherited eventfd (%q, %v)", fd, link, err)
			}
		}
		for i := range obj.efd {
			obj.efd[i] = a.EFD + i // ours from now on: Close closes them
			unix.CloseOnExec(obj.efd[i])
			// Non-blocking whatever the creator handed down: the read after
			// a wait must not block (another reader may have taken the
			// count), least of all held, where a signal restarts it.
			if err := unix.SetNonblock(obj.efd[i], true); err != nil {
				obj.closeEventFDs()
				return nil, fmt.Errorf("posixshm: eventfd %d: O_NONBLOCK: %w", obj.efd[i], err)
			}
		}
	}
	mem, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		obj.closeEventFDs()
		return nil, fmt.Errorf("mmap: %w", err)
	}
	obj.mem = mem
	return shmchan.AttachOn(mem, uint64(st.Size), obj, opt)
}

// allocate gives the object its size with its pages reserved, so that a
// full /dev/shm is an error here and not a SIGBUS at the first write.
func allocate(fd, size int) error {
	err := unix.Fallocate(fd, 0, 0, int64(size))
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.ENOSPC) {
		var fs unix.Statfs_t
		unix.Fstatfs(fd, &fs)
		return &ipclab.LimitError{What: fmt.Sprintf("a channel of %d bytes", size),
			Name:  fmt.Sprintf("free space of its tmpfs (%d of %d bytes free)", fs.Bavail*uint64(fs.Bsize), fs.Blocks*uint64(fs.Bsize)),
			Limit: int(fs.Bavail * uint64(fs.Bsize)), Raise: "use a smaller RingSize, remove stale objects (ipclab clean), or remount /dev/shm larger (mount -o remount,size=2G /dev/shm)"}
	}
	return fmt.Errorf("fallocate %d bytes: %w", size, err)
}

// checkDevShm checks that /dev/shm is the memory file system shm_open
// expects, as glibc does before it uses the directory.
func checkDevShm() error {
	var fs unix.Statfs_t
	if err := unix.Statfs(ipcobj.DevShm, &fs); err != nil {
		return fmt.Errorf("posixshm: %s: %w (POSIX shared memory needs a tmpfs there: mount -t tmpfs tmpfs /dev/shm)", ipcobj.DevShm, err)
	}
	if fs.Type != unix.TMPFS_MAGIC && fs.Type != unix.RAMFS_MAGIC {
		return fmt.Errorf("posixshm: %s is not a tmpfs (file system type %#x); POSIX shared memory needs one: mount -t tmpfs tmpfs /dev/shm",
			ipcobj.DevShm, fs.Type)
	}
	return nil
}

// object is the shmchan.Object of a named object or a memfd.
type object struct {
	name     string // "" for a memfd
	dev, ino uint64 // the file mapped: only a name that still leads to it is unlinked
	uid      uint32
	mem      []byte
	creator  bool
	mode     uint32
	register bool
	// trust: the opener was told to trust other users (owner=any), so
	// its semaphores' mode is not checked either.
	trust bool

	efd [4]int // eventfds, or -1

	mu       sync.Mutex
	unlinked bool
	sems     [4]*posixsem.Sem
}

func (o *object) Unlink() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.name == "" || o.unlinked {
		return
	}
	o.unlinked = true
	unlinkIfSame(o.name, o.dev, o.ino)
	for i, s := range o.sems {
		if s != nil {
			s.UnlinkIfSame()
			if o.register {
				registry.Forget(registry.Entry{Kind: ipcobj.PosixSem, Name: o.name + semSuffixes[i]})
			}
		}
	}
	if o.register {
		registry.Forget(registry.Entry{Kind: ipcobj.PosixShm, Name: o.name})
	}
}

func (o *object) Close(remove bool) {
	if remove {
		o.Unlink()
	}
	unix.Munmap(o.mem)
	o.closeEventFDs()
}

func (o *object) closeEventFDs() {
	for i, fd := range o.efd {
		if fd >= 0 {
			unix.Close(fd)
			o.efd[i] = -1
		}
	}
}

func (o *object) EventFDs() ([4]int, error) {
	if o.efd[0] < 0 {
		return o.efd, fmt.Errorf("posixshm: the %s strategy needs the eventfds a creator hands its child (posixshm:fd=N,efd=M); "+
			"a named object's opener has no way to get them", shmchan.EventFD)
	}
	return o.efd, nil
}

func (o *object) PosixSems(create bool) ([4]*posixsem.Sem, error) {
	var sems [4]*posixsem.Sem
	if o.name == "" {
		return sems, fmt.Errorf("posixshm: the %s strategy needs named semaphores; an inherited memfd has no name", shmchan.PosixSem)
	}
	fail := func(err error) ([4]*posixsem.Sem, error) {
		for _, s := range sems {
			if s != nil {
				if create {
					s.UnlinkIfSame()
				}
				s.Close()
			}
		}
		return [4]*posixsem.Sem{}, err
	}
	for i, suf := range semSuffixes {
		n := o.name + suf
		var err error
		if create {
			sems[i], err = posixsem.Open(n, unix.O_CREAT|unix.O_EXCL, o.mode, 0)
		} else {
			sems[i], err = posixsem.Open(n, 0, 0, 0)
		}
		if err != nil {
			return fail(err)
		}
		if sems[i].Owner() != o.uid {
			return fail(fmt.Errorf("posixshm: semaphore %s is owned by uid %d, the object by uid %d: not the channel's", n, sems[i].Owner(), o.uid))
		}
		if !create && !o.trust {
			// Ours, as the object is; but a mode that lets others in
			// lets them stall or wake our waits.
			if err := chanend.Private("posixshm: semaphore "+n, sems[i].Owner(), sems[i].Owner(), sems[i].Perm(), 0); err != nil {
				return fail(err)
			}
		}
		if create && o.register {
			registry.Add(registry.Entry{Kind: ipcobj.PosixSem, Name: n})
		}
	}
	o.mu.Lock()
	o.sems = sems
	o.mu.Unlock()
	return sems, nil
}

// unlinkIfSame removes /dev/shm/NAME if it is still the file dev/ino.
func unlinkIfSame(name string, dev, ino uint64) {
	dir, err := unix.Open(ipcobj.DevShm, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(dir)
	var st unix.Stat_t
	if unix.Fstatat(dir, name[1:], &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Dev == dev && st.Ino == ino {
		unix.Unlinkat(dir, name[1:], 0)
	}
}
