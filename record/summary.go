package record

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WriteSummary writes the summary tables a bench run prints, as text
// that fits 100 columns for the default run, and the failed cases under
// them.
func WriteSummary(w io.Writer, recs []Record, fails []Failure) {
	WriteText(w, SummaryTables(recs, fails))
}

// WriteSummaryMarkdown writes the same tables as Markdown.
func WriteSummaryMarkdown(w io.Writer, recs []Record, fails []Failure) {
	WriteMarkdown(w, SummaryTables(recs, fails))
}

// FailureList lists failed cases, one indented line each.
func FailureList(fails []Failure) string {
	return strings.Join(failureLines(fails), "\n")
}

func failureLines(fails []Failure) []string {
	lines := make([]string, len(fails))
	for i, f := range fails {
		lines[i] = "  " + f.Case + ": " + f.Error
	}
	return lines
}

// SummaryTables are the summary of a run: per mode, one row per
// transport, link mode and size with the median over runs (the range
// when there were several); where the C baseline was measured, a second
// table sets Go beside C; then what the links did, and the failures. A
// column is there only when some row has something in it: no link column
// in a raw-only run, no C table without the baseline.
func SummaryTables(recs []Record, fails []Failure) []Table {
	groups := GroupRecords(recs)
	// Go is set beside each C baseline in a table of its own: the plain
	// C program's (ImplC), then C's waiting in ppoll (ImplCPoll).
	bases := []*baseline{{impl: ImplC, of: map[Key]*Group{}, ratio: map[Key]Overhead{}},
		{impl: ImplCPoll, of: map[Key]*Group{}, ratio: map[Key]Overhead{}}}
	var rows []*Group
	for _, g := range groups {
		if !IsC(g.Impl) {
			rows = append(rows, g)
			continue
		}
		for _, b := range bases {
			if g.Impl == b.impl {
				k := g.Key
				k.Impl = ImplGo
				b.of[k] = g
			}
		}
	}
	for _, b := range bases {
		for _, o := range OverheadsVs(recs, b.impl) { // Go/C, defined in one place
			b.ratio[o.Key] = o
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Mode < rows[j].Mode })
	links := slices.ContainsFunc(rows, func(g *Group) bool { return g.Link != RawLink })
	// names are a row's leading cells: transport, the link when any row
	// has one, and the size.
	names := func(g *Group) []string {
		tr := g.Transport
		if g.Batch > 0 { // the tuned figure, below the idiomatic one
			tr += fmt.Sprintf(" batch %d", g.Batch)
		}
		if g.Held { // the tuned figure, below the idiomatic one
			tr += " held"
		}
		if links {
			return []string{tr, g.Link, SizeLabel(g.Size)}
		}
		return []string{tr, SizeLabel(g.Size)}
	}
	heads := func(more ...string) []string {
		h := []string{"transport", "size"}
		if links {
			h = []string{"transport", "link", "size"}
		}
		return append(h, more...)
	}
	left := len(heads()) // the names; all but the size align left
	var tables []Table
	var skipped []string // reasons, listed once under the tables
	fewLoadRuns := false // a load row over 2 runs: its cells are means
	var cur *Table       // the mode's table; its Go-beside-C tables are the bases'
	flush := func() {
		for _, t := range append([]*Table{cur}, bases[0].table, bases[1].table) {
			if t != nil && len(t.Rows) > 0 {
				tables = append(tables, *t)
			}
		}
		cur, bases[0].table, bases[1].table = nil, nil, nil
	}
	mode := ""
	for _, g := range rows {
		if g.Mode != mode {
			flush()
			mode = g.Mode
			switch mode {
			case FanIn:
				cur = &Table{Title: "FAN-IN (N producers, one consumer)", Left: left - 1,
					Columns: heads("producers", "msgs/s", "MB/s", "consumer CPU/msg", "out of order")}
			case Load:
				cur = &Table{Title: "LOAD (open loop, one way)", Left: left - 1,
					Columns: heads("offered/s", "achieved/s", "p50", "p99", "p99.9", "sender late p99")}
			case Latency:
				cur = &Table{Title: "LATENCY (round trip)", Left: left - 1,
					Columns: heads("p50", "p99", "one-way p50", "CPU/msg", "ctx sw/msg")}
				bases[0].table = &Table{Title: "LATENCY, Go beside the C baseline (medians over 3+ runs, else each run)", Left: left - 1,
					Columns: heads("Go p50", "C p50", "Go/C p50", "Go p99", "C p99", "Go/C p99")}
				bases[1].table = &Table{Title: "LATENCY, Go beside C waiting in ppoll as Go must (medians over 3+ runs, else each run)", Left: left - 1,
					Columns: heads("Go p50", "Cpoll p50", "Go/Cpoll p50", "Go p99", "Cpoll p99", "Go/Cpoll p99")}
			default:
				cur = &Table{Title: "THROUGHPUT (one way)", Left: left - 1,
					Columns: heads("MB/s", "msgs/s", "CPU/msg", "ctx sw/msg")}
				bases[0].table = &Table{Title: "THROUGHPUT, Go beside the C baseline (medians over 3+ runs, else each run)", Left: left - 1,
					Columns: heads("Go MB/s", "C MB/s", "Go/C")}
				bases[1].table = &Table{Title: "THROUGHPUT, Go beside C waiting in ppoll as Go must (medians over 3+ runs, else each run)", Left: left - 1,
					Columns: heads("Go MB/s", "Cpoll MB/s", "Go/Cpoll")}
			}
		}
		row := func(cells ...string) { cur.Rows = append(cur.Rows, append(names(g), cells...)) }
		if g.Mode == FanIn {
			if g.Skipped() != "" {
				row(strconv.Itoa(g.Producers), "skipped: "+g.Skipped(), "", "", "")
				continue
			}
			msgs := g.Spread(func(r Record) float64 { return r.MsgsPerSec })
			row(strconv.Itoa(g.Producers),
				spread(msgs, func(v float64) string { return fmt.Sprintf("%.0f", v) }),
				g.Spread(func(r Record) float64 { return r.MBPerSec }).Value(f0),
				g.Spread(func(r Record) float64 { return r.Receiver.CPUNsPerMsg }).Value(ns),
				fmt.Sprintf("%.0f", g.Spread(func(r Record) float64 { return float64(r.OrderErrors) }).Max))
			continue
		}
		if g.Mode == Load {
			if g.Skipped() != "" {
				why := "saturated"
				if !strings.HasPrefix(g.Skipped(), "beyond saturation") {
					why = "not run" // a lower rate failed
				}
				row(fmt.Sprintf("%.0f", g.Rate), why, "", "", "", "")
				continue
			}
			q := func(f func(*Summary) float64) string {
				return ns(g.Spread(func(r Record) float64 { return f(r.OneWay) }).Median)
			}
			late := ns(g.Spread(func(r Record) float64 { return r.SendLateness.P99 }).Median)
			if runs := g.Spread(func(r Record) float64 { return r.MsgsPerSec }).Runs; runs > 1 && runs < MinRunsForMedian {
				fewLoadRuns = true
			}
			row(fmt.Sprintf("%.0f", g.Rate),
				f0(g.Spread(func(r Record) float64 { return r.MsgsPerSec }).Median),
				q(func(s *Summary) float64 { return s.P50 }), q(func(s *Summary) float64 { return s.P99 }),
				q(func(s *Summary) float64 { return s.P999 }), late)
			continue
		}
		if g.Skipped() != "" {
			note := fmt.Sprintf("  %s %s: %s", strings.Join(names(g)[:left-1], " "), SizeLabel(g.Size), g.Skipped())
			if !slices.Contains(skipped, note) {
				skipped = append(skipped, note)
			}
			cells := make([]string, len(cur.Columns)-left)
			cells[0] = "skipped*"
			row(cells...)
			continue
		}
		ck := g.Key
		ck.Held = false // a held-waits row is set beside the same C case
		cpu := g.Spread(func(r Record) float64 { return r.Sender.CPUNsPerMsg + r.Receiver.CPUNsPerMsg })
		ctx := g.Spread(func(r Record) float64 { return r.Sender.CtxSwPerMsg + r.Receiver.CtxSwPerMsg })
		if g.Mode == Latency {
			p50f := func(r Record) float64 { return r.RTT.P50 }
			p99f := func(r Record) float64 { return r.RTT.P99 }
			p50, p99 := g.Spread(p50f), g.Spread(p99f)
			ow := "-"
			if g.Records[0].OneWay != nil {
				ow = g.Spread(func(r Record) float64 { return r.OneWay.P50 }).Value(ns)
			}
			row(spread(p50, ns), p99.Value(ns), ow, cpu.Value(ns), ctx.Value(f2))
			for _, b := range bases {
				if c := b.measured(ck); c != nil {
					o := b.ratio[g.Key]
					b.table.Rows = append(b.table.Rows, append(names(g), p50.Value(ns), c.Spread(p50f).Value(ns), fmt.Sprintf("%.2f", o.P50),
						p99.Value(ns), c.Spread(p99f).Value(ns), fmt.Sprintf("%.2f", o.P99)))
				}
			}
		} else {
			mbf := func(r Record) float64 { return r.MBPerSec }
			mb := g.Spread(mbf)
			msgs := g.Spread(func(r Record) float64 { return r.MsgsPerSec })
			row(spread(mb, f0), msgs.Value(f0), cpu.Value(ns), ctx.Value(f3))
			for _, b := range bases {
				if c := b.measured(ck); c != nil {
					b.table.Rows = append(b.table.Rows, append(names(g), mb.Value(f0), c.Spread(mbf).Value(f0),
						fmt.Sprintf("%.2f", b.ratio[g.Key].Throughput)))
				}
			}
		}
	}
	flush()
	if fewLoadRuns {
		tables = append(tables, Table{Notes: []string{
			"LOAD rows measured in 2 runs (a rate saturated in the others) show the mean of the two; results.csv has each run"}})
	}
	if len(skipped) > 0 {
		tables = append(tables, Table{Title: "* skipped, at this machine's limits:", Notes: skipped})
	}
	if len(bases[0].of) > 0 || len(bases[1].of) > 0 {
		notes := []string{"Go/C: Go's figure over the C baseline's for the same mechanism",
			"(latency: above 1 is slower; MB/s: below 1 is slower)"}
		if len(bases[1].of) > 0 {
			notes = append(notes, "Cpoll: the C baseline on non-blocking descriptors, waiting in ppoll on the object",
				"and an eventfd, as ipclab's ends wait so that Close and deadlines can stop them")
		}
		tables = append(tables, Table{Notes: notes})
	}
	if n := ringNote(recs); n != "" {
		tables = append(tables, Table{Notes: []string{n}})
	}
	if t := floorTable(groups, names, heads); t != nil {
		tables = append(tables, *t)
	}
	if t := slowSpellTable(recs); t != nil {
		tables = append(tables, *t)
	}
	tables = append(tables, linkTables(recs)...)
	if w := warningTable(RunWarnings(recs)); w != nil {
		tables = append(tables, *w)
	}
	if len(fails) > 0 {
		tables = append(tables, Table{Title: fmt.Sprintf("FAILED, not in the tables (%s):", FailuresFile), Notes: failureLines(fails)})
	}
	return tables
}

// A baseline is one C baseline's side of the summary: its groups by the
// key of the Go case they stand beside, the Go/C ratios, and the mode's
// table of them.
type baseline struct {
	impl  string
	of    map[Key]*Group
	ratio map[Key]Overhead
	table *Table
}

// measured is the baseline's case beside Go's key k, if it was measured.
func (b *baseline) measured(k Key) *Group {
	c := b.of[k]
	if c == nil || c.Skipped() != "" {
		return nil
	}
	return c
}

// spread formats a spread over runs, as Spread.Format does.
func spread(s Spread, f func(float64) string) string { return s.Format(f) }

// f0, f2 and f3 print a figure with 0, 2 and 3 decimals.
func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

// ns prints nanoseconds with about three significant digits.
func ns(v float64) string {
	d := time.Duration(v)
	switch {
	case d >= 100*time.Millisecond:
		d = d.Round(time.Millisecond)
	case d >= time.Millisecond:
		d = d.Round(10 * time.Microsecond)
	case d >= 100*time.Microsecond:
		d = d.Round(time.Microsecond)
	case d >= 10*time.Microsecond:
		d = d.Round(100 * time.Nanosecond)
	case d >= time.Microsecond:
		d = d.Round(10 * time.Nanosecond)
	default:
		d = d.Round(10 * time.Nanosecond)
	}
	return d.String()
}
