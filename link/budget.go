package link

import (
	"fmt"
	"strings"

	"github.com/ipclab/ipclab"
)

// budget is what one end may have inside the transport at once, derived
// from the transport's own buffer (ipclab.Buffered) so that neither a data
// message nor an acknowledgement ever waits inside the transport for room.
//
// Where each message sits:
//
//   - separate directions (pipes, POSIX queues, shared-memory rings): the
//     buffer this end sends into holds its data in flight and its
//     acknowledgements (or grants) of the peer's data. The peer has at
//     most window messages unacknowledged, each acknowledged by at most one
//     message still unread (acknowledgements are cumulative and strictly
//     increasing), so window acknowledgements are reserved up front and
//     the data may use the rest;
//   - one shared buffer (a SysV queue): both ends' data and both ends'
//     acknowledgements share it; each end takes half, and each message of
//     its data is charged its own cost plus that of its acknowledgement.
//
// Besides one acknowledgement per message in flight, each end may have two
// more control messages in its buffer (controlExtra): one request for an
// acknowledgement (a sender held back by bytes with fewer than a credit
// batch in flight asks for one), and the one acknowledgement that answers
// the peer's request without acknowledging anything new.
//
// A contiguous buffer (a ring) may waste, at its end, less than the record
// that follows; the largest record is reserved for that.
type budget struct {
	buffered bool          // the transport said how much it holds
	buf      ipclab.Buffer // as last asked
	window   int           // messages in flight, both ends alike
	limit    int           // bytes of Cost our data in flight may take; 0: not known yet
	perMsg   int           // added to each data message's cost (its acknowledgement, when shared)
	ackCost  int
	reason   string // what bounded the window below Capacity, if anything
}

// newBudget derives the window from opt and the transport. Both ends
// compute the same window from the same Options and the same kernel
// objects, which is what lets a receiver tell an overrun.
func newBudget(c ipclab.Conn, opt Options) (budget, error) {
	b := budget{window: opt.window()}
	bc, ok := c.(ipclab.Buffered)
	if !ok || opt.NoCredits {
		return b, nil // without reverse traffic the transport's own blocking is flow control enough
	}
	b.buffered = true
	b.buf = bc.Buffer()
	if b.buf.Cost == nil {
		b.buf.Cost = func(n int) int { return n }
	}
	name := c.Addr().Transport()
	b.ackCost = b.buf.Cost(HeaderLen)
	if b.buf.Shared {
		b.perMsg = b.ackCost
	}
	clamp := func(most int, why string) {
		if most < b.window {
			b.window = max(most, 0)
			b.reason = why
		}
	}
	if m := b.buf.Messages; m > 0 {
		if b.buf.Shared {
			clamp((m/2-controlExtra)/2, fmt.Sprintf("%s holds %d messages for both directions, data and acknowledgements", name, m))
		} else {
			clamp((m-controlExtra)/2, fmt.Sprintf("%s holds %d messages per direction, data and acknowledgements", name, m))
		}
	}
	// Bytes: the window's least messages (a bare header each), their
	// acknowledgements and the two extra control messages must fit what
	// the buffer can hold at most; shared, half of it is each end's.
	if most := max(b.buf.Bytes, b.buf.Grow); most > 0 {
		per := b.buf.Cost(HeaderLen) + b.ackCost
		if b.buf.Shared {
			clamp((most/2-controlExtra*b.ackCost)/per, fmt.Sprintf("%s holds %d bytes for both directions; half is each end's, %d per empty message with its acknowledgement",
				name, most, per))
		} else {
			clamp((most-controlExtra*b.ackCost)/per, fmt.Sprintf("%s holds at most %d bytes per direction, %d per empty message and acknowledgement (as it counts them)",
				name, most, per))
		}
	}
	if b.window < 1 {
		return b, &ipclab.LimitError{What: fmt.Sprintf("a link (%s) over %s", opt, name), Name: b.reason, Limit: 0,
			Raise: "give the transport a larger buffer (see ipclab limits)"}
	}
	b.setBytes(b.buf)
	return b, nil
}

func sharedNote(buf ipclab.Buffer) string {
	if buf.Shared {
		return " (both directions share it)"
	}
	return ""
}

// setBytes computes the byte limit from buf.Bytes.
func (b *budget) setBytes(buf ipclab.Buffer) {
	b.buf = buf
	b.limit = b.limitFor(buf.Bytes)
}

func (b *budget) limitFor(bytes int) int {
	switch {
	case bytes <= 0:
		return 0
	case b.buf.Shared:
		return max(bytes/2-controlExtra*b.ackCost, 1)
	}
	return max(bytes-(b.window+controlExtra)*b.ackCost, 1)
}

// fits is whether data of this cost (perMsg included) may join inFlight
// bytes under limit, maxCost being the largest record in flight.
func (b *budget) fits(inFlight, cost, maxCost, limit int) bool {
	need := inFlight + cost
	if b.buf.Contiguous {
		need += max(maxCost, cost, b.ackCost)
	}
	return need <= limit
}

// largest is the longest payload whose message fits an empty link whose
// buffer holds bytes, at most transportMax (a binary search over Cost).
func (b *budget) largest(bytes, transportMax int) int {
	limit := b.limitFor(bytes)
	ok := func(n int) bool { return b.fits(0, b.buf.Cost(HeaderLen+n)+b.perMsg, 0, limit) }
	if limit == 0 || !ok(0) {
		return 0
	}
	lo, hi := 0, transportMax-HeaderLen
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func (b *budget) describe(name string) string {
	var s []string
	if b.buf.Messages > 0 {
		s = append(s, fmt.Sprintf("%d messages", b.buf.Messages))
	}
	if b.buf.Bytes > 0 {
		s = append(s, fmt.Sprintf("%d bytes", b.buf.Bytes))
	}
	return fmt.Sprintf("%s buffer of %s%s", name, strings.Join(s, " and "), sharedNote(b.buf))
}

// controlExtra: see budget.
const controlExtra = 2
