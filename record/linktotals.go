package record

// LinkTotal is what the link of one case did, summed over its runs: the
// sender's counters in Sender, what either end found wrong in Receiver
// (lost, duplicated, reordered, protocol errors, from both ends' counts).
type LinkTotal struct {
	Key
	Window        int    // the window in force (the last run's)
	WindowLimited string // why the window is below the mode's N (link_sender.capacity_limit)
	Sender        LinkStats
	Receiver      LinkStats
}

// AcksPerMessage is how many acknowledgements the receiver sent per
// message it received.
func (t LinkTotal) AcksPerMessage() float64 {
	return float64(t.Receiver.AcksSent) / float64(max(t.Receiver.Received, 1))
}

// LinkTotals sums the link counters of every measured case with a link,
// in the order cases first appear; a case whose link sent nothing is
// left out.
func LinkTotals(recs []Record) []LinkTotal {
	var out []LinkTotal
	for _, g := range GroupRecords(recs) {
		if g.Link == RawLink || g.Skipped() != "" {
			continue
		}
		t := LinkTotal{Key: g.Key}
		snd, rcv := &t.Sender, &t.Receiver
		for _, r := range g.Records {
			if r.LinkSender == nil || r.LinkReceiver == nil {
				continue
			}
			s, v := *r.LinkSender, *r.LinkReceiver
			t.Window, t.WindowLimited = s.Capacity, s.CapacityLimit
			snd.Sent += s.Sent
			snd.Dropped += s.Dropped
			snd.CreditWaits += s.CreditWaits
			snd.FullByBytes += s.FullByBytes
			rcv.AcksSent += v.AcksSent
			rcv.Received += v.Received
			rcv.Lost += v.Lost + s.Lost
			rcv.Duplicates += v.Duplicates + s.Duplicates
			rcv.Reordered += v.Reordered + s.Reordered
			rcv.ProtocolErrors += v.ProtocolErrors + s.ProtocolErrors
		}
		if snd.Sent > 0 {
			out = append(out, t)
		}
	}
	return out
}
