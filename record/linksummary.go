package record

import (
	"fmt"
	"slices"
	"strconv"
)

// linkTables are, for every case with a link, what the link did (summed
// over runs): at the sender, the window in force, drops, how often it
// waited for credit or found the link full by bytes; at the receiver,
// acknowledgements per message and whatever it counted lost, duplicated,
// reordered or broken. Two tables, so each fits 100 columns. Nothing
// here is a timing: it says what the numbers above measured.
func linkTables(recs []Record) []Table {
	heads := []string{"transport", "link", "size", "mode"}
	sender := Table{Title: "LINK, sender (summed over runs)", Left: len(heads),
		Columns: append(slices.Clone(heads), "window", "sent", "dropped", "credit waits", "full by bytes")}
	receiver := Table{Title: "LINK, receiver (summed over runs)", Left: len(heads),
		Columns: append(slices.Clone(heads), "received", "acks/msg", "lost", "duplicates", "reordered", "protocol errors")}
	limited := false
	for _, t := range LinkTotals(recs) {
		snd, rcv, window, limit := t.Sender, t.Receiver, t.Window, t.WindowLimited
		win := fmt.Sprint(window)
		if limit != "" {
			win += "*"
			limited = true
		}
		name := []string{t.Transport, t.Link, SizeLabel(t.Size), t.Mode}
		u := func(v uint64) string { return strconv.FormatUint(v, 10) }
		sender.Rows = append(sender.Rows, append(slices.Clone(name), win, u(snd.Sent), u(snd.Dropped), u(snd.CreditWaits), u(snd.FullByBytes)))
		receiver.Rows = append(receiver.Rows, append(slices.Clone(name), u(rcv.Received),
			fmt.Sprintf("%.2f", t.AcksPerMessage()),
			u(rcv.Lost), u(rcv.Duplicates), u(rcv.Reordered), u(rcv.ProtocolErrors)))
	}
	if len(sender.Rows) == 0 {
		return nil
	}
	if limited {
		sender.Notes = []string{"* window below the mode's N: the transport holds less (records: link_sender.capacity_limit)"}
	}
	return []Table{sender, receiver}
}
