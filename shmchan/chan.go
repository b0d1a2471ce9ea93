// Package shmchan is a duplex message channel in one System V shared
// memory segment: two single-producer/single-consumer rings of
// variable-size messages, a header that describes them, and a choice of
// how a side waits (Strategy): futex with a bounded, adaptive spin (the
// default), the textbook SysV semaphores, or a pure spin.
//
// The segment is untrusted input: the header is validated on attach and
// every counter and length read from it is checked before use; a
// violation is an error matching ErrCorrupt, never a panic, an access
// outside the segment or an endless loop.
//
// Lifetime: the opener marks the segment for removal (IPC_RMID) as soon as
// it has attached, which Linux allows while both sides stay attached, so a
// crash of either side afterwards leaks nothing; until then the creator
// removes it on Close. A semaphore set (SysVSem) has no such trick: its
// creator removes it on Close, and an opener whose creator died removes it
// on its own Close, if it is still the set Attach verified (a header is
// never trusted to name a set: see Attach). Each side watches the other's
// pid, which the header carries, and turns its death into
// ipclab.ErrPeerGone; the wake-up that death causes does not depend on
// shared memory, and every futex wait is bounded (peerCheckInterval), so
// a peer scribbling on the wake words cannot hold a waiter past it.
package shmchan

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/intr"
	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/internal/posixsem"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/internal/tsolock"
	"golang.org/x/sys/unix"
)

const (
	minRing = 4096
	maxRing = 1 << 30

	// DefaultRingSize is the bytes of each direction's ring: about what
	// the kernel buffers a unix socket (208 KiB) or a pipe (64 KiB) with.
	// A larger ring is slower, not faster, for a stream whose producer
	// runs ahead: the consumer then reads what was written a whole ring
	// ago, from the shared L3 rather than the producer's L2. 4 MiB rings
	// streamed 64 B, 4 KiB and 64 KiB messages 1.2-1.4x slower than
	// 256 KiB ones on this project's VM (and 1 MiB ones, 2 MiB of L2 a
	// core there, as fast as 256 KiB). RingSizeFor sizes larger rings.
	DefaultRingSize = 256 << 10
	// DefaultMaxMessage is the largest message unless configured: a
	// quarter of the default ring, so that a stream of the largest
	// messages keeps three in flight.
	DefaultMaxMessage = 64 << 10
	// DefaultSpinBudget is how long Futex spins before sleeping, where
	// spinning pays (adapt.go): about what waking a process on another
	// core costs on a virtual machine, so a spin never costs more than
	// twice the best sleep could.
	DefaultSpinBudget = 50 * time.Microsecond

	semMax = 32767 // SEMVMX: the largest value of a semaphore
)

// Config configures a channel's creator.
type Config struct {
	// Key names the segment for other processes; 0 (IPC_PRIVATE) makes one
	// reachable by id only.
	Key sysipc.Key
	// Strategy is how both sides wait.
	Strategy Strategy
	// RingSize is each direction's ring in bytes, a power of two; 0 means
	// DefaultRingSize.
	RingSize int
	// MaxMessage is the largest message; 0 means DefaultMaxMessage, or what
	// the ring allows if that is less. It may not exceed half the ring.
	MaxMessage int
	// Mode is the permission of the segment and semaphores; 0 means 0600.
	Mode uint32
	// Reuse drops IPC_EXCL. A segment found under Key must be ours, with
	// no more access for others than Mode gives, unless TrustOtherUsers.
	Reuse           bool
	TrustOtherUsers bool
	// SpinBudget is this side's spin before sleeping (Futex), while its
	// spins succeed; 0 means DefaultSpinBudget, negative means no spin.
	SpinBudget time.Duration
	// Register records the segment (and semaphore set) in the registry
	// (internal/registry) so that `ipclab ls` and `ipclab clean` find
	// them; the CLI and the harness set it, a library user need not.
	Register bool
}

// Chan is one side of a channel.
type Chan struct {
	seg     []byte
	obj     Object
	shmID   int // System V only; -1 otherwise
	hdr     header
	creator bool
	tx, rx  *ring // we produce tx and consume rx
	txSem   int   // index of tx's "full" semaphore; "empty" is txSem+1
	rxSem   int
	unit    uint64        // SysVSem: bytes per unit of the "empty" semaphore
	spin    time.Duration // Futex: the spin budget, where spinning pays
	// Futex: whether spinning pays (adapt.go), waiting for data (under
	// recvMu) and for room (under sendMu).
	dataSpin, spaceSpin spinner
	// barrierOK: this side may let its producer skip the tail's barrier
	// (Futex, EventFD with a spin budget, and membarrier works here);
	// rxFastTail: it does now, rx.fastTail is 1 (under recvMu). See
	// ring.publishTail and syncFastTail.
	barrierOK, rxFastTail bool
	// How this side waited and woke, by direction (stats.go): under
	// recvMu and sendMu like the spinners.
	recvStats, sendStats WaitStats

	// sendMu and recvMu serialise each direction's calls, as the contract
	// says, and keep the mapping alive under them: Close takes both to
	// detach. One lock per call, not two, and a tsolock, whose Unlock is
	// a release store: each lock-prefixed instruction waits for the
	// stores before it, the message's cache lines on their way to the
	// peer's CPU, so it costs up to a cache-line transfer.
	sendMu   tsolock.Mutex
	recvMu   tsolock.Mutex
	wakeMu   sync.RWMutex // held shared by wakeSelf; Close takes it to detach
	reserved int          // bytes of the record Reserve handed out, -1 if none
	inPlace  int          // length of the message RecvInPlace handed out, -1 if none

	end      chanend.End // closed, peer gone (its death), deadlines
	watching atomic.Bool
	watchMu  sync.Mutex    // maybeWatchOpener
	rw, sw   intr.Waiters  // threads blocked in semop
	hold     sysipc.Holder // kernel waits keep the thread (HoldWaits)
	// A kernel wait's timeout, per direction (waitTimeout): under recvMu
	// and sendMu.
	recvTimeout, sendTimeout unix.Timespec
	// The close flags in the header: ours, and the peer's.
	myClosed, peerClosed *uint32

	sem  semIdentity      // opener, SysVSem: the set as verified at attach
	psem [4]*posixsem.Sem // PosixSem: full and empty of ring 0, then ring 1
	// EventFD: the eventfds of ring 0's data and space words, then ring 1's.
	efd   [4]int
	rings [2]*ring // ring 0 (creator to opener) and ring 1
}

// RingSizeFor is the ring this package suggests for messages of up to
// maxMessage bytes: DefaultRingSize where DefaultMaxMessage admits them,
// else the power of two that holds four of them, at most the largest
// ring. The harness sizes its rings so, and its C baseline by the same
// rule.
func RingSizeFor(maxMessage int) int {
	if maxMessage <= DefaultMaxMessage {
		return DefaultRingSize
	}
	if maxMessage+recHeader > maxRing/4 {
		return maxRing
	}
	ring := DefaultRingSize
	for ring < 4*(maxMessage+recHeader) {
		ring *= 2
	}
	return ring
}

// plan checks cfg and returns the header of the segment it asks for.
func (cfg Config) plan() (header, error) {
	ringSize := uint64(cfg.RingSize)
	if ringSize == 0 {
		ringSize = DefaultRingSize
	}
	if ringSize < minRing || ringSize > maxRing || ringSize&(ringSize-1) != 0 {
		return header{}, fmt.Errorf("shmchan: ring size %d: must be a power of two from %d to %d", ringSize, minRing, maxRing)
	}
	if cfg.Strategy >= numStrategies {
		return header{}, fmt.Errorf("shmchan: unknown strategy %d", cfg.Strategy)
	}
	align := uint64(8)
	if cfg.Strategy == SysVSem {
		// The "empty" semaphore counts units of align bytes and a
		// semaphore holds at most SEMVMX.
		for ringSize/align > semMax {
			align *= 2
		}
		if align > maxAlign { // an opener would refuse the header
			most := uint64(maxRing)
			for most/maxAlign > semMax {
				most /= 2
			}
			return header{}, &ipclab.LimitError{What: fmt.Sprintf("a sysvsem ring of %d bytes", ringSize),
				Name: fmt.Sprintf("the largest sysvsem ring (SEMVMX %d units of at most %d bytes, a power of two)", semMax, maxAlign), Limit: int(most),
				Raise: fmt.Sprintf("use a ring of at most %d bytes (messages up to about a quarter of it) under sysvsem, or another wait strategy", most)}
		}
	}
	ceiling := maxMsgFor(ringSize, align)
	maxMsg := uint64(cfg.MaxMessage)
	switch {
	case cfg.MaxMessage < 0:
		return header{}, fmt.Errorf("shmchan: MaxMessage %d is negative", cfg.MaxMessage)
	case maxMsg == 0:
		maxMsg = min(DefaultMaxMessage, ceiling)
	case maxMsg > ceiling:
		return header{}, &ipclab.LimitError{What: fmt.Sprintf("message size %d", maxMsg), Name: "what a ring of RingSize bytes can always hold",
			Limit: int(ceiling), Raise: "configure a RingSize of at least twice the largest message"}
	}
	return header{strategy: cfg.Strategy, segSize: segSizeFor(ringSize), ringSize: ringSize, maxMsg: maxMsg,
		align: align, semID: -1, creator: int32(os.Getpid())}, nil
}

// SegmentSize is the size of the memory a channel configured by cfg
// needs, for CreateOn's callers, or why cfg is refused.
func SegmentSize(cfg Config) (int, error) {
	h, err := cfg.plan()
	return int(h.segSize), err
}

// Create makes a new segment (and semaphore set, for SysVSem) and returns
// the creator's side.
func Create(cfg Config) (*Chan, error) {
	h, err := cfg.plan()
	if err != nil {
		return nil, err
	}
	if cfg.Strategy == PosixSem {
		_, err := (&sysvObject{}).PosixSems(true)
		return nil, err
	}
	if cfg.Strategy == EventFD {
		_, err := (&sysvObject{}).EventFDs()
		return nil, err
	}
	ringSize, align := h.ringSize, h.align
	mode := chanend.Perm(cfg.Mode)
	flags := chanend.Exclusive(unix.IPC_CREAT|int(mode), unix.IPC_EXCL, cfg.Reuse)
	id, err := unix.SysvShmGet(int(cfg.Key), int(h.segSize), flags)
	if err != nil {
		return nil, explainShmget(err, cfg.Key, h.segSize)
	}
	if cfg.Reuse && !cfg.TrustOtherUsers {
		// The segment may be somebody else's: refuse it, and leave it be.
		var ds unix.SysvShmDesc
		if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
			return nil, fmt.Errorf("shmctl IPC_STAT: %w", err)
		}
		if err := chanend.Private(fmt.Sprintf("shmchan: segment %d", id), ds.Perm.Uid, ds.Perm.Cuid, ds.Perm.Mode, mode); err != nil {
			return nil, err
		}
	}
	seg, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		return nil, fmt.Errorf("shmat: %w", err)
	}
	fail := func(err error) (*Chan, error) {
		unix.SysvShmDetach(seg)
		unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		if h.semID >= 0 {
			sysipc.SemctlRemove(int(h.semID))
		}
		return nil, err
	}
	if cfg.Strategy == SysVSem {
		sid, err := sysipc.Semget(sysipc.IPCPrivate, 4, unix.IPC_CREAT|unix.IPC_EXCL|int(mode&0o777))
		if err != nil {
			return fail(kernlimits.ExplainSemget(err, 4))
		}
		h.semID = int32(sid)
		for r := 0; r < 2; r++ { // full = 0, empty = every unit of the ring
			if err := sysipc.SemctlSetVal(sid, 2*r+1, int(ringSize/align)); err != nil {
				return fail(fmt.Errorf("semctl SETVAL: %w", err))
			}
		}
		if cfg.Reuse {
			// An old segment's ctime is its creation: bring it to now, so
			// an opener finds the set as new as the segment (verifySemSet).
			var ds unix.SysvShmDesc
			if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err == nil {
				unix.SysvShmCtl(id, unix.IPC_SET, &ds)
			}
		}
	}
	h.put(seg)
	c, err := newChan(seg, &sysvObject{id: id, seg: seg, creator: true}, h, true, cfg.SpinBudget)
	if err != nil {
		return fail(err)
	}
	c.shmID = id
	if cfg.Register {
		registry.Add(registry.Entry{Kind: ipcobj.SysVShm, ID: id, Key: int32(cfg.Key)})
		if h.semID >= 0 {
			registry.Add(registry.Entry{Kind: ipcobj.SysVSem, ID: int(h.semID)})
		}
	}
	return c, nil
}

func explainShmget(err error, key sysipc.Key, size uint64) error {
	switch {
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("shmget: %w", chanend.Exists(err, "a segment with key "+key.String(), "ipcrm -M "+key.String(), "key"))
	case errors.Is(err, unix.EINVAL):
		max, _ := kernlimits.Int("kernel.shmmax")
		return fmt.Errorf("shmget %d bytes: %w (kernel.shmmax is %d; %s)", size, err, max, kernlimits.Raise("kernel.shmmax"))
	case errors.Is(err, unix.ENOSPC):
		return kernlimits.ExplainShmget(err, size)
	}
	return fmt.Errorf("shmget: %w", err)
}

// AttachOptions configure the opener's side.
type AttachOptions struct {
	SpinBudget time.Duration // as in Config
	// TrustOtherUsers lets Attach open a segment another user owns or
	// created, or whose mode lets other users in. Off by default: such a
	// segment's header can be written by those users, and the channel
	// would act on what it names.
	TrustOtherUsers bool
}

// Attach opens the other side of the channel in segment id.
//
// Everything the header names is checked against what the kernel says
// before it is used: the size, the creator pid, and for SysVSem the
// semaphore set, which must belong to the segment's owner and creator
// and date from the segment's creation, so a forged header cannot make
// this process wait on, signal or remove somebody else's semaphores.
func Attach(id int, opt AttachOptions) (*Chan, error) {
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EIDRM) {
			return nil, fmt.Errorf("shmctl IPC_STAT: %w: no shared memory segment has id %d (%w)", err, id, os.ErrNotExist)
		}
		return nil, fmt.Errorf("shmctl IPC_STAT: %w", err)
	}
	if !opt.TrustOtherUsers {
		// Its owner, creator, or whoever its mode lets in could also write
		// a header naming objects of ours for this process to act on.
		if err := chanend.Private(fmt.Sprintf("shmchan: segment %d", id), ds.Perm.Uid, ds.Perm.Cuid, ds.Perm.Mode, 0); err != nil {
			return nil, err
		}
	}
	seg, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("shmat: %w", err)
	}
	h, err := validateHeader(seg, ds.Segsz)
	if err == nil && ds.Cpid != 0 && ds.Cpid != h.creator {
		err = corrupt("the header names creator pid %d, the kernel says pid %d created the segment", h.creator, ds.Cpid)
	}
	var sem semIdentity
	if err == nil && h.strategy == SysVSem {
		sem, err = verifySemSet(int(h.semID), &ds)
		if err == nil && !opt.TrustOtherUsers {
			// Ours, as the segment is; but a mode that lets others in
			// lets them stall or wake our waits.
			err = chanend.Private(fmt.Sprintf("shmchan: semaphore set %d", h.semID), sem.uid, sem.cuid, sem.mode, 0)
		}
	}
	if err == nil && h.strategy == PosixSem {
		_, err = (&sysvObject{}).PosixSems(false)
	}
	if err == nil && h.strategy == EventFD {
		_, err = (&sysvObject{}).EventFDs()
	}
	if err == nil && !atomic.CompareAndSwapUint32(u32(seg, offOpenerPID), 0, uint32(os.Getpid())) {
		err = fmt.Errorf("shmchan: segment %d already has an opener (pid %d); a channel joins exactly two processes",
			id, atomic.LoadUint32(u32(seg, offOpenerPID)))
	}
	if err != nil {
		unix.SysvShmDetach(seg)
		return nil, err
	}
	// Both sides are attached: from now on the kernel frees the segment
	// when the last one detaches, whatever kills whom.
	unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	c, err := newChan(seg, &sysvObject{id: id, seg: seg}, h, false, opt.SpinBudget)
	if err != nil {
		unix.SysvShmDetach(seg)
		return nil, err
	}
	c.shmID = id
	c.sem = sem
	return c, c.attached()
}

// attached finishes the opener's Attach: watch the creator, and tell it
// that we are here. On error the channel is closed.
func (c *Chan) attached() error {
	if err := c.end.WatchPeer(int(c.hdr.creator), c.peerDiedOpener); err != nil {
		c.Close()
		return err
	}
	c.watching.Store(true)
	// Tell a creator that sleeps that we are here, so it starts watching
	// us (and, for a named object, unlinks it).
	for _, w := range []*uint32{c.rx.spaceWait, c.tx.dataWait} {
		c.wakeAlways(w)
	}
	if c.hdr.strategy == PosixSem {
		c.psem[c.rxSem+1].Wake()
		c.psem[c.txSem].Wake()
	}
	return nil
}

// peerDiedOpener is the opener's reaction to its creator's death: wake
// its own waiters, and unlink what the creator can no longer unlink.
func (c *Chan) peerDiedOpener() {
	c.wakeSelf()
	if c.end.PeerGone() && !c.end.Closed() {
		c.obj.Unlink()
	}
}

// CreateOn makes a channel configured by cfg in mem, the mapping of obj,
// which its caller has just created (exclusively) with at least
// SegmentSize(cfg) bytes; cfg.Key, Mode, Reuse and Register are the
// caller's business. The Chan owns obj from then on; on error the caller
// still does, and unlinks and closes it.
func CreateOn(mem []byte, obj Object, cfg Config) (*Chan, error) {
	h, err := cfg.plan()
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Strategy == SysVSem:
		return nil, fmt.Errorf("shmchan: the %s strategy verifies its semaphore set against a System V segment: use the sysvshm transport", SysVSem)
	case uint64(len(mem)) < h.segSize:
		return nil, fmt.Errorf("shmchan: a mapping of %d bytes cannot hold the %d-byte channel", len(mem), h.segSize)
	}
	var sems [4]*posixsem.Sem
	if cfg.Strategy == PosixSem {
		if sems, err = obj.PosixSems(true); err != nil {
			return nil, err
		}
	}
	efd := [4]int{-1, -1, -1, -1}
	if cfg.Strategy == EventFD {
		if efd, err = obj.EventFDs(); err != nil {
			return nil, err
		}
	}
	h.put(mem)
	c, err := newChan(mem, obj, h, true, cfg.SpinBudget)
	if err != nil {
		closeSems(sems)
		return nil, err
	}
	c.psem, c.efd = sems, efd
	return c, nil
}

// AttachOn opens the other side of the channel in mem, the mapping of obj,
// which the kernel says is size bytes (the caller has checked that this
// user owns it). The header is validated as Attach does; the creator pid
// it names is watched, and cannot be checked against the kernel, which
// keeps no creator pid for files: a forged one only makes this side
// misjudge when its peer is gone. The Chan owns obj from then on, also
// on error (it is closed then).
func AttachOn(mem []byte, size uint64, obj Object, opt AttachOptions) (*Chan, error) {
	h, err := validateHeader(mem, size)
	if err == nil && h.strategy == SysVSem {
		err = fmt.Errorf("shmchan: the header says %s, which only a System V segment carries", SysVSem)
	}
	var sems [4]*posixsem.Sem
	if err == nil && h.strategy == PosixSem {
		sems, err = obj.PosixSems(false)
	}
	efd := [4]int{-1, -1, -1, -1}
	if err == nil && h.strategy == EventFD {
		efd, err = obj.EventFDs()
	}
	if err == nil && !atomic.CompareAndSwapUint32(u32(mem, offOpenerPID), 0, uint32(os.Getpid())) {
		err = fmt.Errorf("shmchan: the channel already has an opener (pid %d); a channel joins exactly two processes",
			atomic.LoadUint32(u32(mem, offOpenerPID)))
	}
	var c *Chan
	if err == nil {
		c, err = newChan(mem, obj, h, false, opt.SpinBudget)
	}
	if err != nil {
		closeSems(sems)
		obj.Close(false)
		return nil, err
	}
	c.psem, c.efd = sems, efd
	return c, c.attached()
}

func closeSems(sems [4]*posixsem.Sem) {
	for _, s := range sems {
		if s != nil {
			s.Close()
		}
	}
}

func newChan(seg []byte, obj Object, h header, creator bool, spin time.Duration) (*Chan, error) {
	populate(seg)
	r0 := newRing(seg, ctrlBase, dataStart, h)
	r1 := newRing(seg, ctrlBase+ctrlSize, dataStart+h.ringSize, h)
	c := &Chan{seg: seg, obj: obj, shmID: -1, hdr: h, creator: creator, tx: r0, rx: r1, txSem: 0, rxSem: 2,
		rings: [2]*ring{r0, r1}, efd: [4]int{-1, -1, -1, -1},
		unit: h.align, spin: spin, reserved: -1, inPlace: -1}
	c.myClosed, c.peerClosed = u32(seg, offCreatorClosed), u32(seg, offOpenerClosed)
	if !creator {
		c.tx, c.rx, c.txSem, c.rxSem = r1, r0, 2, 0
		c.myClosed, c.peerClosed = c.peerClosed, c.myClosed
	}
	if c.spin == 0 {
		c.spin = DefaultSpinBudget
	}
	// The words this side owns start as it says, not as a reused
	// segment left them: a stale fastTail would let our producer skip its
	// barrier before we ever made one (ring.publishTail), and one it may
	// have read already is covered by a barrier, as when it is withdrawn.
	registered := sysipc.RegisterGlobalBarrier()
	if atomic.SwapUint32(c.rx.fastTail, 0) != 0 && registered {
		sysipc.GlobalBarrier()
	}
	if registered {
		atomic.StoreUint32(c.tx.barrierReg, 1) // our consumer's barriers reach our stores
		c.barrierOK = (h.strategy == Futex || h.strategy == EventFD) && c.spin > 0
	} else {
		atomic.StoreUint32(c.tx.barrierReg, 0)
	}
	if err := c.tx.startProducer(); err != nil {
		return nil, err
	}
	if err := c.rx.startConsumer(); err != nil {
		return nil, err
	}
	return c, nil
}

// ID is the segment's System V id; -1 for a channel made by CreateOn or
// AttachOn.
func (c *Chan) ID() int { return c.shmID }

// Strategy is the channel's wait strategy.
func (c *Chan) Strategy() Strategy { return c.hdr.strategy }

// MaxMessageSize is the largest message either side may send.
func (c *Chan) MaxMessageSize() int { return int(c.hdr.maxMsg) }

// RingSize is the bytes of each direction's ring.
func (c *Chan) RingSize() int { return int(c.hdr.ringSize) }

// peerDied is what the peer watch does once the peer's process is gone.
func (c *Chan) peerDied() {
	c.end.SetPeerDied()
	c.wakeSelf()
}

// peerGone reports whether the peer closed its side or died. It reads the
// mapping: call it inside an operation (under sendMu or recvMu).
func (c *Chan) peerGone() bool {
	return c.end.PeerGone() || atomic.LoadUint32(c.peerClosed) != 0
}

// wakeSelf wakes this side's own blocked calls so they re-check why they
// wait: a dead peer, a moved deadline. It touches the mapping, so only
// while the channel is open.
func (c *Chan) wakeSelf() {
	c.wakeMu.RLock()
	defer c.wakeMu.RUnlock()
	if !c.end.Closed() {
		c.wakeAll()
	}
}

// wakeAll wakes this side's sleepers unconditionally: the words are in
// memory the peer can write, so "nobody announced a sleep" proves nothing.
func (c *Chan) wakeAll() {
	c.wakeAlways(c.rx.dataWait)
	c.wakeAlways(c.tx.spaceWait)
	c.rw.WakeAll()
	c.sw.WakeAll()
	if c.hdr.strategy == PosixSem && c.psem[0] != nil {
		c.psem[c.rxSem].Wake()
		c.psem[c.txSem+1].Wake()
	}
}

// maybeWatchOpener starts watching the opener once its pid is in the
// header; the creator calls it whenever it is about to wait.
//
// A caller that finds another one at it waits for it to finish (watchMu),
// so that once any call of this side has seen the opener, the names are
// gone for every call that returns after it, not only for the one that
// won a race.
func (c *Chan) maybeWatchOpener() {
	if c.watching.Load() {
		return
	}
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if c.watching.Load() {
		return
	}
	pid := atomic.LoadUint32(u32(c.seg, offOpenerPID))
	if pid == 0 || pid > 1<<22 {
		return
	}
	c.obj.Unlink() // both sides are attached (a SysV opener did it too; harmless)
	if err := c.end.WatchPeer(int(pid), c.wakeSelf); err == nil {
		c.watching.Store(true)
	}
}

// Close wakes blocked calls, tells the peer (the close flag, and a wake-up
// of whatever it may sleep on), waits for this side's calls to leave, and
// detaches. The creator removes the segment if no opener came, and its
// semaphores.
func (c *Chan) Close() error {
	return c.end.Close(func() error {
		c.wakeAll() // still attached: only Close detaches, below
		c.wakePeer()
		// Every call has returned (the wake-ups above ended its wait) and
		// none will start: each takes its lock, then checks closed.
		c.sendMu.Lock()
		c.recvMu.Lock()
		c.wakeMu.Lock()
		if c.hdr.strategy == SysVSem && c.end.Removes(c.creator) && (c.creator || c.sem.stillSame(int(c.hdr.semID))) {
			sysipc.SemctlRemove(int(c.hdr.semID))
			registry.Forget(registry.Entry{Kind: ipcobj.SysVSem, ID: int(c.hdr.semID)})
		}
		remove := c.end.Removes(c.creator)
		if remove {
			c.obj.Unlink() // before the semaphores are unmapped: Unlink checks them
		}
		closeSems(c.psem)
		c.obj.Close(remove)
		c.wakeMu.Unlock()
		c.recvMu.Unlock()
		c.sendMu.Unlock()
		return nil
	})
}

// wakePeer sets this side's close flag and wakes the peer wherever it may
// wait for this side: for data (futex word, or P(full) with SysVSem) and
// for room (futex word). The peer then finds the flag.
func (c *Chan) wakePeer() {
	atomic.StoreUint32(c.myClosed, 1)
	c.wakeAlways(c.tx.dataWait)
	c.wakeAlways(c.rx.spaceWait)
	if c.hdr.strategy == SysVSem && !c.creator { // the creator removes the set: EIDRM wakes the peer
		sysipc.Semop(int(c.hdr.semID), []sysipc.Sembuf{{Num: uint16(c.txSem), Op: 1, Flg: unix.IPC_NOWAIT}})
	}
	if c.hdr.strategy == PosixSem { // a wake without a token: the peer re-checks and finds the flag
		c.psem[c.txSem].Wake()
		c.psem[c.rxSem+1].Wake()
	}
}

// enterSend starts a sending call, holding sendMu; it fails once Close
// has begun. enterRecv is its receiving twin.
func (c *Chan) enterSend() error {
	c.sendMu.Lock()
	if c.end.Closed() {
		c.sendMu.Unlock()
		return ipclab.ErrClosed
	}
	return nil
}

func (c *Chan) enterRecv() error {
	c.recvMu.Lock()
	if c.end.Closed() {
		c.recvMu.Unlock()
		return ipclab.ErrClosed
	}
	return nil
}

func (c *Chan) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *Chan) SetReadDeadline(t time.Time) error {
	c.end.Rdl.Set(t)
	c.wakeSelf()
	return nil
}

func (c *Chan) SetWriteDeadline(t time.Time) error {
	c.end.Wdl.Set(t)
	c.wakeSelf()
	return nil
}

// populate maps every page of the segment into this process now.
// Otherwise the first lap of each ring takes a page fault per page on the
// data path: with 4 KiB messages, one per message until the ring has
// wrapped (a 4 MiB ring, the default then: a thousand messages), which in
// a short run is most of what a round trip measures (the C baseline: 16 us
// against 3.5 us p50 at 4 KiB over 1,000 round trips). MADV_POPULATE_READ
// (Linux 5.14) maps the pages without writing them; an older kernel
// (EINVAL) gets a load per page. Any other error (EFAULT: a file the peer
// truncated under the mapping) is left to the data path, which a load here
// would not survive.
func populate(seg []byte) {
	if len(seg) == 0 || unix.Madvise(seg, unix.MADV_POPULATE_READ) != unix.EINVAL {
		return
	}
	var sink byte
	for i := 0; i < len(seg); i += os.Getpagesize() {
		sink += seg[i]
	}
	_ = sink
}
