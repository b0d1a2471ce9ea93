package floor

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the floor as a small table, one block per placement.
func (f *Floor) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "machine: %s\n", f.Virtualization)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var notes []string
	for _, p := range f.Pairs {
		fmt.Fprintf(tw, "\n%s: %s\n", p.Placement, p.Topology) // no tab: not a column
		for _, r := range []struct {
			name string
			rt   RoundTrip
		}{{"cache line", p.CacheLine}, {"futex", p.Futex}, {"pipe", p.Pipe}} {
			mark := ""
			if r.rt.Note != "" {
				notes = append(notes, r.rt.Note)
				mark = fmt.Sprintf(" [%d]", len(notes))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s%s\n", r.name, r.rt.Wait, r.rt, mark)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i, n := range notes {
		fmt.Fprintf(w, "[%d] %s\n", i+1, n)
	}
	_, err := fmt.Fprintln(w, "round trips between two processes, each pinned to its CPU; figures per round trip")
	return err
}

// Line is the floor in one line, for a run's summary: each placement's
// p50 round trips and the pair's topology.
func (f *Floor) Line() string {
	var parts []string
	for _, p := range f.Pairs {
		parts = append(parts, fmt.Sprintf("%s (%s): cache line %s, futex %s, pipe %s", p.Placement, p.Topology,
			ns(p.CacheLine.P50Ns), ns(p.Futex.P50Ns), ns(p.Pipe.P50Ns)))
	}
	return "floor, p50 round trips: " + strings.Join(parts, "; ") + "; " + f.Virtualization.String()
}
