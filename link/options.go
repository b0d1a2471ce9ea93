package link

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Full is what Send does on a full link (Capacity messages in flight).
type Full int

const (
	// Block waits for room (the default).
	Block Full = iota
	// Drop loses the message, counts it (Stats.Dropped) and returns nil.
	Drop
	// Fail returns ErrFull at once.
	Fail
)

func (f Full) String() string {
	switch f {
	case Block:
		return "block"
	case Drop:
		return "drop"
	case Fail:
		return "fail"
	}
	return fmt.Sprintf("Full(%d)", int(f))
}

// ParseFull parses block, drop or fail.
func ParseFull(s string) (Full, error) {
	for _, f := range []Full{Block, Drop, Fail} {
		if f.String() == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("link: unknown full-link policy %q (want block, drop or fail)", s)
}

// Options configure a link; both ends of one link use the same Options.
type Options struct {
	// Capacity is how many messages may be sent whose take by the
	// receiver's Recv the sender has not yet learnt of (from an
	// acknowledgement). 0 is a rendezvous: Send returns once the receiver
	// has taken the message, whoever arrives first waits. n > 0 is a
	// bounded asynchronous link. The link may hold fewer when the
	// transport does (see Stats.Capacity), and fewer large messages than
	// small ones when the transport's buffer is counted in bytes.
	Capacity int
	// Full is what Send does when the link is full.
	Full Full
	// WaitAck makes every Send wait for the receiver's acknowledgement of
	// that message, turning an asynchronous link synchronous.
	WaitAck bool
	// CreditBatch is how many messages the receiver takes before it sends
	// the credits (a cumulative acknowledgement) back; 0 means half the
	// capacity, at least 1, with policy Block, and 1 with Drop and Fail.
	// Acknowledgements the sender waits for go back at once.
	CreditBatch int
	// Strict makes a rendezvous (Capacity 0) strict: the data leaves the
	// sender only once the receiver waits for it (its Recv sends a grant,
	// clear-to-send, and the Send waits for it), so a Send that fails
	// never delivers its message. The hand-shake rendezvous transmits at
	// once and waits for the acknowledgement of the take instead.
	Strict bool
	// NoCredits turns flow control off: no reverse traffic, the
	// transport's own buffer is the bound, and several producers may share
	// one receiver (a SysV or POSIX queue). Sequence numbers and
	// timestamps still detect loss, duplication and reordering, per
	// producer.
	NoCredits bool
}

// window is the effective number of messages that may be in flight.
func (o Options) window() int {
	if o.Capacity == 0 {
		return 1
	}
	return o.Capacity
}

// batch is how many takes the receiver acknowledges at once, for a link
// whose window (as the transport allows it) is window messages.
func (o Options) batch(window int) int {
	switch {
	case o.CreditBatch > 0:
		return min(o.CreditBatch, window)
	case window <= 1 || o.Full != Block:
		// Drop and Fail must see each take at once, to fire at exactly
		// Capacity untaken messages, not Capacity unacknowledged ones.
		return 1
	}
	return window / 2
}

// Validate reports a configuration that cannot work.
func (o Options) Validate() error {
	switch {
	case o.Capacity < 0:
		return fmt.Errorf("link: capacity %d: must be 0 (rendezvous) or a positive number of messages", o.Capacity)
	case o.Full < Block || o.Full > Fail:
		return fmt.Errorf("link: unknown full-link policy %d (want Block, Drop or Fail)", int(o.Full))
	case o.CreditBatch < 0:
		return fmt.Errorf("link: credit batch %d is negative", o.CreditBatch)
	case o.CreditBatch > o.window():
		return fmt.Errorf("link: credit batch %d exceeds the window of %d messages: the sender would wait for ever", o.CreditBatch, o.window())
	case o.NoCredits && o.Capacity == 0:
		return errors.New("link: a rendezvous needs the receiver's acknowledgement: NoCredits and Capacity 0 exclude each other")
	case o.NoCredits && o.WaitAck:
		return errors.New("link: WaitAck needs acknowledgements: it excludes NoCredits")
	case o.Strict && (o.Capacity != 0 || o.WaitAck || o.NoCredits || o.Full != Block):
		return errors.New("link: Strict is a rendezvous: it takes Capacity 0 and excludes WaitAck, NoCredits and the Drop and Fail policies")
	case o.NoCredits && o.Full != Block:
		return errors.New("link: without credits a sender cannot know the link is full: Drop and Fail need flow control")
	}
	return nil
}

// String describes the mode, as the harness labels it.
func (o Options) String() string {
	switch {
	case o.NoCredits:
		return "seq"
	case o.Strict:
		return "strict"
	case o.Capacity == 0:
		return "rendezvous"
	case o.WaitAck:
		return fmt.Sprintf("ack-%d", o.Capacity)
	}
	return fmt.Sprintf("cap-%d-%s", o.Capacity, o.Full)
}

// ParseMode reads a mode as Options.String prints it: rendezvous, strict, seq,
// ack-N, cap-N or cap-N-POLICY; raw (no link) is reported by raw.
func ParseMode(s string) (opt Options, raw bool, err error) {
	bad := func() (Options, bool, error) {
		return Options{}, false, fmt.Errorf("link: unknown mode %q (want raw, seq, rendezvous, strict, ack-N, cap-N or cap-N-block|drop|fail)", s)
	}
	switch s {
	case "raw":
		return Options{}, true, nil
	case "rendezvous":
		return Options{Capacity: 0}, false, nil
	case "strict":
		return Options{Strict: true}, false, nil
	case "seq":
		return Options{Capacity: 64, NoCredits: true}, false, nil
	}
	kind, rest, ok := strings.Cut(s, "-")
	if !ok {
		return bad()
	}
	num, policy, _ := strings.Cut(rest, "-")
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return bad()
	}
	switch kind {
	case "ack":
		if policy != "" {
			return bad()
		}
		opt = Options{Capacity: n, WaitAck: true}
	case "cap":
		opt = Options{Capacity: n}
		if policy != "" {
			if opt.Full, err = ParseFull(policy); err != nil {
				return bad()
			}
		}
	default:
		return bad()
	}
	return opt, false, opt.Validate()
}
