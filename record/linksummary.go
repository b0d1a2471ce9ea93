package record

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// writeLinkTable writes, for every case with a link, what the link did
// (summed over runs): the window in force, drops, how often the sender
// waited for credit or found the link full by bytes, acknowledgements per
// message, and whatever the receiver counted lost, duplicated, reordered
// or broken. Nothing here is a timing: it says what the numbers above
// measured.
func writeLinkTable(w io.Writer, recs []Record) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := false
	for _, t := range LinkTotals(recs) {
		snd, rcv, window, limit := t.Sender, t.Receiver, t.Window, t.WindowLimited
		if !header {
			fmt.Fprintf(tw, "\nLINK (summed over runs)\ttransport\tsize\tmode\twindow\tsent\tdropped\tcredit waits\tfull by bytes\tacks/msg\tlost/dup/reord/proto\t\n")
			header = true
		}
		win := fmt.Sprint(window)
		if limit != "" {
			win += "*"
		}
		fmt.Fprintf(tw, "\t%s %s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.2f\t%d/%d/%d/%d\t\n", t.Transport, t.Link, SizeLabel(t.Size), t.Mode, win,
			snd.Sent, snd.Dropped, snd.CreditWaits, snd.FullByBytes, t.AcksPerMessage(),
			rcv.Lost, rcv.Duplicates, rcv.Reordered, rcv.ProtocolErrors)
	}
	tw.Flush()
	if header {
		fmt.Fprintln(w, "\n* window below the mode's N: the transport holds less (records: link_sender.capacity_limit)")
	}
}
