package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/transports"
	"golang.org/x/sys/unix"
)

// A session is one two-process case's channel, from creation to removal:
// the channel created through the transport table, this process pinned,
// the peer started and watched, the link (if any) wrapped around the
// channel, and all of it undone by close, also when ctx is cancelled
// midway (Ctrl-C unblocks the case and removes the channel at once).
type session struct {
	conn     ipclab.Conn    // the link over the channel, or the channel (raw)
	peer     *peerproc.Proc // the receiving process
	undo     []func()       // run in reverse by close
	timedOut atomic.Bool    // the case's timeout closed conn
}

// peerArgsFunc makes the peer's arguments once the channel's address and
// the CPU to pin the peer to (-1: none) are known.
type peerArgsFunc func(addr string, cpu int) []string

// openSession opens cs's session, the peer in role role. When cs's
// message does not fit the channel (or the link over it), it returns no
// session and the reason, which the case records as skipped; nothing is
// left open then.
func (s Spec) openSession(ctx context.Context, cs Case, role string, args peerArgsFunc) (ss *session, skipped string, err error) {
	ss = &session{}
	defer func() {
		if err != nil || skipped != "" {
			ss.close()
			ss = nil
		}
	}()
	c, files, err := transports.CreateWith(cs.Transport, cs.transportOptions())
	if err != nil {
		return ss, "", err
	}
	ss.undo = append(ss.undo, func() { c.Close() })
	closeFiles := func() {
		for _, f := range files {
			f.Close()
		}
		files = nil
	}
	defer closeFiles()
	if skipped, err = fits(c, cs); skipped != "" || err != nil {
		return ss, skipped, err
	}
	senderCPU, receiverCPU, err := s.Placement.cpus()
	if err != nil {
		return ss, "", err
	}
	if senderCPU >= 0 {
		var all, one unix.CPUSet
		unix.SchedGetaffinity(0, &all)
		one.Set(senderCPU)
		if err := pinProcess(&one); err != nil {
			return ss, "", err
		}
		ss.undo = append(ss.undo, func() { pinProcess(&all) })
	}
	// The peer starts while this process is pinned: it must not take its
	// GOMAXPROCS from the inherited one-CPU mask (cpupin.ChildEnv).
	p, err := peerproc.Start(role, args(c.Addr().String(), receiverCPU), peerproc.Options{ExtraFiles: files, Env: cpupin.ChildEnv()})
	closeFiles() // the peer has its copies
	if err != nil {
		return ss, "", err
	}
	ss.peer = p
	ss.undo = append(ss.undo, func() {
		if !p.Exited() {
			p.Kill()
		}
	})
	if w, ok := c.(ipclab.PeerWatcher); ok {
		if err := w.WatchPeer(p.Pid()); err != nil {
			return ss, "", err
		}
	}
	if cs.Held {
		if err := holdWaits(c); err != nil {
			return ss, "", err
		}
	}
	if ss.conn, err = cs.Link.Wrap(c); err != nil {
		return ss, "", err
	}
	if ss.conn != c {
		l := ss.conn
		ss.undo = append(ss.undo, func() { l.Close() })
	}
	stop := context.AfterFunc(ctx, func() { ss.conn.Close() })
	ss.undo = append(ss.undo, func() { stop() })
	if err := s.injectedFailure(cs); err != nil {
		return ss, "", err
	}
	// The case's bound closes the channel when it runs out, as Ctrl-C
	// does, rather than setting a deadline: a deadline costs every wait a
	// clock reading and a kernel timer, which C's baseline does not pay
	// (held pipe, one CPU, A/B: p50 9.48 -> 9.02 us without it).
	timer := time.AfterFunc(s.CaseTimeout, func() {
		ss.timedOut.Store(true)
		ss.conn.Close()
	})
	ss.undo = append(ss.undo, func() { timer.Stop() })
	return ss, "", nil
}

// caseErr is err, said as the case's timeout when that is what closed the
// channel under it.
func (ss *session) caseErr(err error, limit time.Duration) error {
	return timeoutErr(err, ss.timedOut.Load(), limit)
}

// timeoutErr is err, said as the case's timeout when timedOut (the
// case's bound closed its channels under it).
func timeoutErr(err error, timedOut bool, limit time.Duration) error {
	if err != nil && timedOut {
		return fmt.Errorf("%w: the case ran past -case-timeout %v (%v)", ipclab.ErrTimeout, limit, err)
	}
	return err
}

// fits says why cs's message does not fit c (or the link over it), or ""
// when it does.
func fits(c ipclab.Conn, cs Case) (string, error) {
	limit, err := cs.Link.MaxMessageSize(c)
	if err != nil {
		return "", err
	}
	if cs.Size <= limit {
		return "", nil
	}
	// Send says which limit and how to raise it, and sends nothing.
	var tl *ipclab.TooLargeError
	switch {
	case !cs.Link.IsRaw():
		return fmt.Sprintf("message of %d bytes exceeds the link's maximum %d: the transport's %d less the %d-byte link header, and what its buffer holds with the acknowledgements",
			cs.Size, limit, c.MaxMessageSize(), link.HeaderLen), nil
	case errors.As(c.Send(make([]byte, cs.Size)), &tl):
		return tl.Error(), nil
	}
	return fmt.Sprintf("message of %d bytes exceeds the transport's maximum %d", cs.Size, c.MaxMessageSize()), nil
}

// close undoes the session, last step first: the link, the peer, the
// pinning, the channel.
func (ss *session) close() {
	for _, f := range slices.Backward(ss.undo) {
		f()
	}
	ss.undo = nil
}

// peerErr is err with what the peer said on stderr.
func (ss *session) peerErr(format string, a ...any) error {
	return fmt.Errorf(format+" (peer: %s)", append(a, ss.peer.Stderr())...)
}
