package record

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteSummary writes the summary table a bench run prints, and the
// failed cases (fails) under it.
func WriteSummary(w io.Writer, recs []Record, fails []Failure) {
	writeTable(w, recs)
	WriteWarnings(w, RunWarnings(recs))
	if len(fails) > 0 {
		fmt.Fprintf(w, "\nFAILED, not in the table (%s):\n%s\n", FailuresFile, FailureList(fails))
	}
}

// FailureList lists failed cases, one indented line each.
func FailureList(fails []Failure) string {
	lines := make([]string, len(fails))
	for i, f := range fails {
		lines[i] = "  " + f.Case + ": " + f.Error
	}
	return strings.Join(lines, "\n")
}

// writeTable writes one row per transport, link mode, size and mode:
// the median over runs, with the range when there were several, and the
// C baseline's figures and Go's ratio to them where C was measured.
func writeTable(w io.Writer, recs []Record) {
	groups := GroupRecords(recs)
	cOf := map[Key]*Group{}
	var rows []*Group
	for _, g := range groups {
		if g.Impl == ImplC {
			k := g.Key
			k.Impl = ImplGo
			cOf[k] = g
		} else {
			rows = append(rows, g)
		}
	}
	ratio := map[Key]Overhead{} // Go/C, defined in one place
	for _, o := range Overheads(recs) {
		ratio[o.Key] = o
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Mode < rows[j].Mode })
	label := func(k Key) string {
		if k.Link == RawLink {
			return k.Transport
		}
		return k.Transport + " " + k.Link
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var skipped []string // reasons, listed once under the table
	mode := ""
	for _, g := range rows {
		if g.Mode != mode {
			mode = g.Mode
			if mode == FanIn {
				fmt.Fprintf(tw, "\nFAN-IN (N producers, one consumer)\ttransport\tsize\tproducers\tmsgs/s\tMB/s\tconsumer CPU/msg\tout of order\t\t\t\t\t\n")
			} else if mode == Load {
				fmt.Fprintf(tw, "\nLOAD (open loop, one way)\ttransport\tsize\toffered/s\tachieved/s\tp50\tp99\tp99.9\tsender late p99\t\t\t\t\n")
			} else if mode == Latency {
				fmt.Fprintf(tw, "\nLATENCY (round trip)\ttransport\tsize\tp50\tp99\tone-way p50\tCPU/msg\tctx sw/msg\tC p50\tC p99\tGo/C p50\tGo/C p99\t\n")
			} else {
				fmt.Fprintf(tw, "\nTHROUGHPUT (one way)\ttransport\tsize\tMB/s\tmsgs/s\tCPU/msg\tctx sw/msg\tC MB/s\tGo/C\t\t\t\n")
			}
		}
		name := label(g.Key)
		if g.Mode == FanIn {
			if g.Skipped() != "" {
				fmt.Fprintf(tw, "\t%s\t%s\t%d\tskipped: %s\t\t\t\t\t\t\t\t\n", name, SizeLabel(g.Size), g.Producers, g.Skipped())
				continue
			}
			msgs := g.Spread(func(r Record) float64 { return r.MsgsPerSec })
			fmt.Fprintf(tw, "\t%s\t%s\t%d\t%s\t%.0f\t%s\t%.0f\t\t\t\t\t\n", name, SizeLabel(g.Size), g.Producers,
				spread(msgs, func(v float64) string { return fmt.Sprintf("%.0f", v) }),
				g.Spread(func(r Record) float64 { return r.MBPerSec }).Median,
				ns(g.Spread(func(r Record) float64 { return r.Receiver.CPUNsPerMsg }).Median),
				g.Spread(func(r Record) float64 { return float64(r.OrderErrors) }).Max)
			continue
		}
		if g.Mode == Load {
			if g.Skipped() != "" {
				why := "saturated"
				if !strings.HasPrefix(g.Skipped(), "beyond saturation") {
					why = "not run" // a lower rate failed
				}
				fmt.Fprintf(tw, "\t%s\t%s\t%.0f\t%s\t\t\t\t\t\t\t\t\n", name, SizeLabel(g.Size), g.Rate, why)
				continue
			}
			q := func(f func(*Summary) float64) string {
				return ns(g.Spread(func(r Record) float64 { return f(r.OneWay) }).Median)
			}
			late := ns(g.Spread(func(r Record) float64 { return r.SendLateness.P99 }).Median)
			fmt.Fprintf(tw, "\t%s\t%s\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t\t\t\t\n", name, SizeLabel(g.Size), g.Rate,
				g.Spread(func(r Record) float64 { return r.MsgsPerSec }).Median,
				q(func(s *Summary) float64 { return s.P50 }), q(func(s *Summary) float64 { return s.P99 }),
				q(func(s *Summary) float64 { return s.P999 }), late)
			continue
		}
		if g.Skipped() != "" {
			note := fmt.Sprintf("%s %s: %s", name, SizeLabel(g.Size), g.Skipped())
			if !slices.Contains(skipped, note) {
				skipped = append(skipped, note)
			}
			fmt.Fprintf(tw, "\t%s\t%s\tskipped*\t\t\t\t\t\t\t\t\t\n", name, SizeLabel(g.Size))
			continue
		}
		c := cOf[g.Key]
		if c != nil && c.Skipped() != "" {
			c = nil
		}
		cpu := g.Spread(func(r Record) float64 { return r.Sender.CPUNsPerMsg + r.Receiver.CPUNsPerMsg })
		ctx := g.Spread(func(r Record) float64 { return r.Sender.CtxSwPerMsg + r.Receiver.CtxSwPerMsg })
		if g.Mode == Latency {
			p50f := func(r Record) float64 { return r.RTT.P50 }
			p99f := func(r Record) float64 { return r.RTT.P99 }
			p50, p99 := g.Spread(p50f), g.Spread(p99f)
			ow := "-"
			if g.Records[0].OneWay != nil {
				ow = ns(g.Spread(func(r Record) float64 { return r.OneWay.P50 }).Median)
			}
			cols := "-\t-\t-\t-"
			if c != nil {
				o := ratio[g.Key]
				cols = fmt.Sprintf("%s\t%s\t%.2f\t%.2f", ns(c.Spread(p50f).Median), ns(c.Spread(p99f).Median), o.P50, o.P99)
			}
			fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t\n", name, SizeLabel(g.Size), spread(p50, ns), ns(p99.Median), ow, ns(cpu.Median), ctx.Median, cols)
		} else {
			mbf := func(r Record) float64 { return r.MBPerSec }
			mb := g.Spread(mbf)
			msgs := g.Spread(func(r Record) float64 { return r.MsgsPerSec })
			cols := "-\t-"
			if c != nil {
				cols = fmt.Sprintf("%.0f\t%.2f", c.Spread(mbf).Median, ratio[g.Key].Throughput)
			}
			fmt.Fprintf(tw, "\t%s\t%s\t%s\t%.0f\t%s\t%.3f\t%s\t\t\t\n", name, SizeLabel(g.Size), spread(mb, func(v float64) string { return fmt.Sprintf("%.0f", v) }), msgs.Median, ns(cpu.Median), ctx.Median, cols)
		}
	}
	tw.Flush()
	if len(skipped) > 0 {
		fmt.Fprintln(w, "\n* skipped, at this machine's limits:")
		for _, s := range skipped {
			fmt.Fprintln(w, "  "+s)
		}
	}
	if len(cOf) > 0 {
		fmt.Fprintln(w, "\nGo/C: Go's figure over the C baseline's for the same mechanism (latency: above 1 is slower; MB/s: below 1 is slower)")
	}
	writeLinkTable(w, recs)
}

// spread formats a spread over runs, as Spread.Format does.
func spread(s Spread, f func(float64) string) string { return s.Format(f) }

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
	default:
		d = d.Round(10 * time.Nanosecond)
	}
	return d.String()
}
