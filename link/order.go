package link

// order tracks one producer's sequence numbers to tell gaps, duplicates
// and late (reordered) messages apart.
type order struct {
	next uint64              // the sequence number expected next
	seen [orderWindow]uint64 // seq stored at seq % orderWindow once it arrived
}

// orderWindow is how far back a late message is still told from a
// duplicate; anything older than that is counted as a duplicate.
const orderWindow = 4096

// maxProducers bounds the producers whose order is tracked (each costs
// an order of 32 KiB): enough for any fan-in the harness runs, and a peer
// forging pids cannot grow the receiver's memory beyond it.
const maxProducers = 64

// arrived records a data message's arrival; l.mu held.
func (l *Link) arrived(h header) {
	o := l.order[h.pid]
	if o == nil {
		if len(l.order) >= maxProducers {
			l.stats.Untracked++
			return
		}
		o = &order{next: 1}
		l.order[h.pid] = o
	}
	s := &l.stats
	switch {
	case h.seq == o.next:
		o.next++
	case h.seq > o.next:
		s.Lost += h.seq - o.next // missing until (unless) they turn up late
		o.next = h.seq + 1
	case o.next-h.seq > orderWindow || o.seen[h.seq%orderWindow] == h.seq:
		s.Duplicates++
		return
	default: // an earlier one, not seen yet: it was counted lost
		s.Reordered++
		s.Lost--
	}
	o.seen[h.seq%orderWindow] = h.seq
}
