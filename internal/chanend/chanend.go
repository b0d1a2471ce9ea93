// Package chanend is the end-of-channel core every transport embeds: the
// state of one end (closed, peer gone, deadlines, the peer watch), the
// checks a blocking call makes against it, close-once, and the errors
// every transport builds the same way (OpError carrying the address,
// TooLargeError, the explanation of EEXIST). What differs between
// mechanisms (how a waiter is woken, how a close reaches the peer) stays
// in the transport; what is the same lives here once.
package chanend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/deadline"
	"github.com/ipclab/ipclab/internal/peerwatch"
)

// End is the state of one end of a channel. The zero value is an open end
// with no deadlines; set Addr before the first error is built.
type End struct {
	// Addr is the channel's address, which every OpError carries.
	Addr ipclab.Addr
	// Rdl and Wdl are the read and write deadlines.
	Rdl, Wdl deadline.Deadline

	closed    atomic.Bool
	peerGone  atomic.Bool
	peerDied  atomic.Bool // gone without closing: its process exited
	peer      peerwatch.Slot
	closeOnce sync.Once
}

// Closed reports whether Close has begun.
func (e *End) Closed() bool { return e.closed.Load() }

// PeerGone reports whether the peer closed its end or died.
func (e *End) PeerGone() bool { return e.peerGone.Load() }

// SetPeerGone records that the peer is gone (it closed its end).
func (e *End) SetPeerGone() { e.peerGone.Store(true) }

// SetPeerDied records that the peer's process is gone: it is gone, and it
// cannot have removed the channel's objects.
func (e *End) SetPeerDied() {
	e.peerDied.Store(true)
	e.peerGone.Store(true)
}

// WatchPeer watches process pid: when it exits, the end is marked gone and
// wake runs, to wake this end's blocked calls. On an end that is closed,
// or closing, the watch stops at once: Close has stopped the watches
// already, and a watch that outlived it would hold a pidfd and call wake
// on released resources when the process exits (a creator's accept can
// start one while Close runs).
func (e *End) WatchPeer(pid int, wake func()) error {
	if err := e.peer.Watch(pid, func() { e.SetPeerDied(); wake() }); err != nil {
		return e.Err("watch", err)
	}
	if e.closed.Load() { // Close sets closed before it stops the slot
		e.peer.Stop()
	}
	return nil
}

// Close runs release once, after marking the end closed (so checks fail
// from then on) and stopping the peer watch; later calls return nil, as
// the contract wants.
func (e *End) Close(release func() error) error {
	var err error
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		e.peer.Stop()
		// A deadline's pending timer would keep the end reachable until
		// it fires; a closed end's deadlines matter no more.
		e.Rdl.Stop()
		e.Wdl.Stop()
		err = release()
	})
	return err
}

// Removes reports whether this end's Close removes the channel's kernel
// objects: the creator's does, and so does an opener's whose creator
// died, since nobody else will. A creator that closed removed them
// itself, and the names or ids may already be a later channel's.
func (e *End) Removes(creator bool) bool { return creator || e.peerDied.Load() }

// SendCheck says why a Send must not (or no longer) wait: closed, peer
// gone, or the write deadline passed; nil if it may.
func (e *End) SendCheck() error {
	switch {
	case e.closed.Load():
		return ipclab.ErrClosed
	case e.peerGone.Load():
		return ipclab.ErrPeerGone
	case e.Wdl.Passed():
		return ipclab.ErrTimeout
	}
	return nil
}

// SendReady is SendCheck for a Send about to try without waiting: it
// takes the write deadline as its timer last saw it (deadline.Expired)
// rather than reading the clock, which would cost as much as a small
// message through shared memory. A wait must use SendCheck.
func (e *End) SendReady() error {
	switch {
	case e.closed.Load():
		return ipclab.ErrClosed
	case e.peerGone.Load():
		return ipclab.ErrPeerGone
	case e.Wdl.Expired():
		return ipclab.ErrTimeout
	}
	return nil
}

// RecvCheck is SendCheck for a Recv, which must deliver what the peer
// queued before it went: a transport calls it only once it found nothing
// queued.
func (e *End) RecvCheck() error {
	switch {
	case e.closed.Load():
		return ipclab.ErrClosed
	case e.peerGone.Load():
		return ipclab.ErrPeerGone
	case e.Rdl.Passed():
		return ipclab.ErrTimeout
	}
	return nil
}

// SetDeadlines sets both deadlines, for SetDeadline.
func (e *End) SetDeadlines(t time.Time) {
	e.Rdl.Set(t)
	e.Wdl.Set(t)
}

// MapErr turns the errors of a closed end and of the poller into the
// contract's: ErrClosed once Close has begun (whatever the system call
// said), ErrTimeout for a passed deadline. Others pass through, and so
// does an ErrTimeout that says more ("no process has connected yet").
func (e *End) MapErr(err error) error {
	switch {
	case e.closed.Load() || errors.Is(err, os.ErrClosed):
		return ipclab.ErrClosed
	case errors.Is(err, ipclab.ErrTimeout):
		return err
	case errors.Is(err, os.ErrDeadlineExceeded):
		return ipclab.ErrTimeout
	}
	return err
}

// Err wraps err in an OpError naming op, the transport and the address;
// nil stays nil, and so does err when the end has no Addr (a layer below
// the transport, whose errors the transport wraps).
func (e *End) Err(op string, err error) error {
	if err == nil || e.Addr == nil {
		return err
	}
	return OpError(op, e.Addr, err)
}

// OpError is the error of operation op on the channel at a.
func OpError(op string, a ipclab.Addr, err error) error {
	return &ipclab.OpError{Op: op, Transport: a.Transport(), Addr: a.String(), Err: err}
}

// TooLarge is the error of an n-byte message over limit, which name sets
// and raise says how to raise.
func TooLarge(n, limit int, name, raise string) error {
	return &ipclab.TooLargeError{Size: n, Limit: limit, Name: name, Raise: raise}
}

// Perm is the permission of a created object: mode's permission bits, or
// 0600 (the default: private to its user) when mode is 0.
func Perm(mode uint32) uint32 {
	if mode == 0 {
		return 0o600
	}
	return mode & 0o777
}

// OwnerAny is the address option that lets an end use an object it did
// not verify: one another user owns or created, or whose mode lets other
// users in. Every transport spells it the same way.
const OwnerAny = "owner=any"

// ParseOwner checks the value of an address's owner= parameter: "any" is
// the only one.
func ParseOwner(v string) error {
	if v != "any" {
		return errors.New("owner=any is the only owner parameter (it opens an object another user owns, or that other users can reach)")
	}
	return nil
}

// Private refuses an object this process did not make private to its
// user: one whose owner uid, or creator uid cuid (System V; pass uid again
// where there is none), is not our effective uid, or whose permission
// bits give group or others any access beyond allow (the creator's own
// Perm when it asked for a wider mode, 0 for an opener). Such an object's
// owner, or anybody its mode lets in, could read the channel's messages or
// feed it theirs. what names the object ("FIFO /tmp/x.1"). The error
// matches fs.ErrPermission and says how to open it anyway. The caller
// reads uid, cuid and mode from the object it opened (fstat on its
// descriptor, IPC_STAT on its id), never from a second look-up by name.
func Private(what string, uid, cuid, mode, allow uint32) error {
	me := uint32(os.Geteuid())
	var why string
	who := "that user"
	switch {
	case uid != me && cuid != me && cuid != uid:
		why = fmt.Sprintf("is owned by uid %d and was created by uid %d, not by this user (uid %d)", uid, cuid, me)
		who = "those users"
	case uid != me:
		why = fmt.Sprintf("is owned by uid %d, not by this user (uid %d)", uid, me)
	case cuid != me:
		why = fmt.Sprintf("was created by uid %d, not by this user (uid %d)", cuid, me)
	case mode&0o077&^allow != 0:
		why = fmt.Sprintf("has mode %#o, which lets other users in (a channel's objects are 0600)", mode&0o777)
		who = "other users"
	default:
		return nil
	}
	return fmt.Errorf("%w: %s %s; %s could read this channel's messages, feed it theirs or stall it, so it is refused "+
		"(add ,%s to the address, or set TrustOtherUsers in the options, to use it anyway)", fs.ErrPermission, what, why, who, OwnerAny)
}

// Exclusive adds excl (IPC_EXCL, O_EXCL) to the flags of a create call
// unless the caller asked to reuse an existing object.
func Exclusive(flags, excl int, reuse bool) int {
	if !reuse {
		flags |= excl
	}
	return flags
}

// Exists explains an EEXIST: what exists and how to get past it (remove
// it, or pick another name), since objects are created exclusive by
// default.
func Exists(err error, what, remove, name string) error {
	return fmt.Errorf("%w: %s exists (remove it with %s, or pick another %s)", err, what, remove, name)
}

// Openers counts the openers of a channel a creator may share with several
// (message queues: fan-in), from the markers they queue when they open and
// close, and says when the last one has closed. The zero value is ready.
type Openers struct {
	opened, closed, expect atomic.Int32
}

// Expect makes the channel end only after n closes, whatever the opens
// seen so far: an opener that finishes before another has opened must not
// end a channel that n producers share. 0 goes back to counting opens.
func (o *Openers) Expect(n int) { o.expect.Store(int32(n)) }

// Opened counts an open marker.
func (o *Openers) Opened() { o.opened.Add(1) }

// Closed counts a close marker and reports whether every opener is now
// gone: as many closes as expected, or, when nothing is expected, as many
// as opens (an opener that queued no open marker counts as one).
func (o *Openers) Closed() bool {
	closed := o.closed.Add(1)
	if n := o.expect.Load(); n > 0 {
		return closed >= n
	}
	return closed >= o.opened.Load()
}
