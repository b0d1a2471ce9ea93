package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ipclab/ipclab/plot"
	"github.com/ipclab/ipclab/record"
)

// Files a run directory's report is written as.
const (
	RunBase = "report" // report.html and report.md
)

// Run is the report of one bench run: what was measured and how it went
// (a table per mode, each figure as its runs allow: the median over 3 or
// more runs, else each run's value), the warnings (runs that disagree,
// failed cases), every figure, what the links did, and the environment.
// figs are the run's figures (plot.Figures); their SVG goes inline, and
// the Markdown links the Name.svg files plot.All writes beside it.
func Run(title string, recs []record.Record, fails []record.Failure, figs []*plot.Figure) (*Doc, error) {
	d := &Doc{Title: title, Subtitle: runContext(recs)}
	d.Sections = append(d.Sections, summarySection(recs, fails))
	d.Sections = append(d.Sections, warningSection(recs, fails))
	if len(figs) > 0 {
		s := Section{Heading: "Figures"}
		for _, f := range figs {
			b, err := FigureOf(f)
			if err != nil {
				return nil, err
			}
			s.Blocks = append(s.Blocks, b)
		}
		d.Sections = append(d.Sections, s)
	}
	if t := linkTable(recs); t != nil {
		d.Sections = append(d.Sections, Section{Heading: "Link statistics", Blocks: []Block{
			Paragraph{"What each link did, summed over runs. Nothing here is a timing: it says what the figures above measured."}, *t}})
	}
	d.Sections = append(d.Sections, environmentSection(recs))
	return d, nil
}

// FigureOf is a figure of package plot as a block: its SVG inline, its
// title and caption as text, and the Markdown linking Name.svg, the file
// plot writes beside the report.
func FigureOf(f *plot.Figure) (Figure, error) {
	svg, err := f.SVG()
	if err != nil {
		return Figure{}, err
	}
	return Figure{Title: f.Title(), Caption: f.Caption(), SVG: svg, File: f.Name + ".svg"}, nil
}

// runContext is the line under the title: placement, machine, kernel,
// dates and runs.
func runContext(recs []record.Record) string {
	var placements, cpus, days []string
	runs := map[int]bool{}
	for _, r := range recs {
		addOnce(&placements, r.Placement)
		if !r.Time.IsZero() {
			addOnce(&days, r.Time.UTC().Format("2006-01-02"))
		}
		if r.Env != nil {
			addOnce(&cpus, fmt.Sprintf("%s, %d CPUs", orUnknown(r.Env.CPUModel), r.Env.NumCPU))
		}
		runs[r.Run] = true
	}
	slices.Sort(days)
	parts := []string{fmt.Sprintf("%d records, %d run(s)", len(recs), len(runs))}
	if len(placements) > 0 {
		parts = append(parts, "placement "+strings.Join(placements, ", "))
	}
	if len(cpus) > 0 {
		parts = append(parts, strings.Join(cpus, "; "))
	}
	if len(days) > 0 {
		parts = append(parts, days[0])
		if len(days) > 1 {
			parts[len(parts)-1] += " to " + days[len(days)-1]
		}
	}
	return strings.Join(parts, " · ")
}

func addOnce(list *[]string, v string) {
	if v != "" && !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func ns(v float64) string { return plot.FormatNs(v) }

func count(v float64) string { return fmt.Sprintf("%.0f", v) }

// summarySection has a table per mode, one row a case.
func summarySection(recs []record.Record, fails []record.Failure) Section {
	s := Section{Heading: "Summary"}
	groups := record.GroupRecords(recs)
	measured, skipped, maxRuns := 0, 0, 0
	for _, g := range groups {
		if g.Skipped() != "" {
			skipped++
		} else {
			measured++
		}
		maxRuns = max(maxRuns, len(g.Records))
	}
	s.Blocks = append(s.Blocks, Paragraph{fmt.Sprintf("%d case(s) measured, %d skipped at this machine's limits, %d failed.", measured, skipped, len(fails))})
	if maxRuns < record.MinRunsForMedian {
		s.Blocks = append(s.Blocks, Paragraph{fmt.Sprintf("With %d run(s) a case, each figure is each run's value: a median over runs needs %d runs or more (bench -runs).",
			maxRuns, record.MinRunsForMedian)})
	} else {
		s.Blocks = append(s.Blocks, Paragraph{"Each figure: the median over runs, and in brackets the lowest and highest run; with fewer than " +
			fmt.Sprint(record.MinRunsForMedian) + " runs, each run's value."})
	}
	for _, mode := range []string{record.Latency, record.Throughput, record.Load, record.FanIn} {
		if t := modeTable(groups, mode); t != nil {
			s.Blocks = append(s.Blocks, *t)
		}
	}
	return s
}

// column is one column of a mode's table: a header and a figure per case.
type column struct {
	header  string
	numeric bool
	cell    func(g *record.Group) string
}

func spreadCell(f func(record.Record) float64, format func(float64) string) func(g *record.Group) string {
	return func(g *record.Group) string { return g.Spread(f).Format(format) }
}

func summaryCell(get func(record.Record) *record.Summary, q func(*record.Summary) float64) func(g *record.Group) string {
	return func(g *record.Group) string {
		for _, r := range g.Records {
			if r.Skipped == "" && get(r) == nil {
				return "-"
			}
		}
		return g.Spread(func(r record.Record) float64 { return q(get(r)) }).Format(ns)
	}
}

var (
	rtt    = func(r record.Record) *record.Summary { return r.RTT }
	oneWay = func(r record.Record) *record.Summary { return r.OneWay }
	late   = func(r record.Record) *record.Summary { return r.SendLateness }
	p50    = func(s *record.Summary) float64 { return s.P50 }
	p99    = func(s *record.Summary) float64 { return s.P99 }
	p999   = func(s *record.Summary) float64 { return s.P999 }
)

var modeColumns = map[string]struct {
	caption string
	cols    []column
}{
	record.Latency: {"Latency: ping-pong round trips", []column{
		{"p50", true, summaryCell(rtt, p50)},
		{"p99", true, summaryCell(rtt, p99)},
		{"one-way p50", true, summaryCell(oneWay, p50)},
		{"CPU/msg (both)", true, spreadCell(func(r record.Record) float64 { return r.Sender.CPUNsPerMsg + r.Receiver.CPUNsPerMsg }, ns)},
		{"ctx sw/msg", true, spreadCell(func(r record.Record) float64 { return r.Sender.CtxSwPerMsg + r.Receiver.CtxSwPerMsg },
			func(v float64) string { return fmt.Sprintf("%.2f", v) })},
	}},
	record.Throughput: {"Throughput: one-way streaming", []column{
		{"MB/s", true, spreadCell(func(r record.Record) float64 { return r.MBPerSec }, count)},
		{"msgs/s", true, spreadCell(func(r record.Record) float64 { return r.MsgsPerSec }, count)},
		{"CPU/msg (both)", true, spreadCell(func(r record.Record) float64 { return r.Sender.CPUNsPerMsg + r.Receiver.CPUNsPerMsg }, ns)},
	}},
	record.Load: {"Load: open loop, one way, at offered rates", []column{
		{"offered/s", true, func(g *record.Group) string { return count(g.Rate) }},
		{"achieved/s", true, spreadCell(func(r record.Record) float64 { return r.MsgsPerSec }, count)},
		{"one-way p50", true, summaryCell(oneWay, p50)},
		{"p99", true, summaryCell(oneWay, p99)},
		{"p99.9", true, summaryCell(oneWay, p999)},
		{"sender late p99", true, summaryCell(late, p99)},
		{"receiver CPU/msg", true, spreadCell(func(r record.Record) float64 { return r.Receiver.CPUNsPerMsg }, ns)},
	}},
	record.FanIn: {"Fan-in: N producer processes, one consumer", []column{
		{"producers", true, func(g *record.Group) string { return fmt.Sprint(g.Producers) }},
		{"msgs/s", true, spreadCell(func(r record.Record) float64 { return r.MsgsPerSec }, count)},
		{"MB/s", true, spreadCell(func(r record.Record) float64 { return r.MBPerSec }, count)},
		{"consumer CPU/msg", true, spreadCell(func(r record.Record) float64 { return r.Receiver.CPUNsPerMsg }, ns)},
		{"out of order (max)", true, func(g *record.Group) string {
			return count(g.Spread(func(r record.Record) float64 { return float64(r.OrderErrors) }).Max)
		}},
	}},
}

// modeTable is the table of one mode, or nil when it has no case.
func modeTable(groups []*record.Group, mode string) *Table {
	spec := modeColumns[mode]
	t := &Table{Caption: spec.caption, Header: []string{"case", "size", "runs"}, Numeric: []bool{false, true, true}}
	for _, c := range spec.cols {
		t.Header = append(t.Header, c.header)
		t.Numeric = append(t.Numeric, c.numeric)
	}
	var reasons []string // why cases were skipped, each said once under the table
	for _, g := range groups {
		if g.Mode != mode {
			continue
		}
		name := g.Transport
		if g.Link != record.RawLink {
			name += " " + g.Link
		}
		if g.Batch > 0 {
			name += fmt.Sprintf(" batch %d", g.Batch)
		}
		if g.Held {
			name += " held"
		}
		name += record.ImplSuffix(g.Impl)
		row := []string{name, record.SizeLabel(g.Size), fmt.Sprint(len(g.Records))}
		if why := g.Skipped(); why != "" {
			n := slices.Index(reasons, why)
			if n < 0 {
				reasons = append(reasons, why)
				n = len(reasons) - 1
				t.Notes = append(t.Notes, fmt.Sprintf("skipped (%d): %s", n+1, why))
			}
			row = append(row, fmt.Sprintf("skipped (%d)", n+1))
			for len(row) < len(t.Header) {
				row = append(row, "")
			}
		} else {
			for _, c := range spec.cols {
				row = append(row, c.cell(g))
			}
		}
		t.Rows = append(t.Rows, row)
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return t
}

// warningSection says which cases' runs disagree, and which failed.
func warningSection(recs []record.Record, fails []record.Failure) Section {
	s := Section{Heading: "Warnings"}
	warns := record.RunWarnings(recs)
	spells := record.SlowSpells(recs)
	if len(warns) == 0 && len(fails) == 0 && len(spells) == 0 {
		s.Blocks = append(s.Blocks, Paragraph{"None: no case failed, and the runs of every case agree by the rules below."})
	}
	if len(fails) > 0 {
		w := Warning{Title: fmt.Sprintf("%d case(s) failed and are not in the tables (%s)", len(fails), record.FailuresFile)}
		for _, f := range fails {
			w.Items = append(w.Items, f.Case+": "+f.Error)
		}
		s.Blocks = append(s.Blocks, w)
	}
	if len(warns) > 0 {
		w := Warning{Title: fmt.Sprintf("The runs disagree (%d warning(s)): a median over such runs hides two behaviours or a disturbed run", len(warns))}
		for _, x := range warns {
			w.Items = append(w.Items, x.String())
		}
		s.Blocks = append(s.Blocks, w)
	}
	if len(spells) > 0 {
		w := Warning{Title: fmt.Sprintf("%d case run(s) measured while this machine was slow (a slow spell): their figures are the machine's, not the channel's", len(spells))}
		for _, x := range spells {
			w.Items = append(w.Items, x.String())
		}
		s.Blocks = append(s.Blocks, w, Paragraph{"Slow spell: " + record.SlowSpellRule + "."})
	}
	s.Blocks = append(s.Blocks, Paragraph{"Rules: " + record.WarningRules + "."})
	return s
}

// linkTable is the link statistics, or nil without a link case.
func linkTable(recs []record.Record) *Table {
	totals := record.LinkTotals(recs)
	if len(totals) == 0 {
		return nil
	}
	t := &Table{Caption: "Link counters, summed over runs",
		Header:  []string{"case", "window", "sent", "dropped", "credit waits", "full by bytes", "acks/msg", "lost", "duplicated", "reordered", "protocol errors"},
		Numeric: []bool{false, true, true, true, true, true, true, true, true, true, true}}
	limited := false
	for _, l := range totals {
		win := fmt.Sprint(l.Window)
		if l.WindowLimited != "" {
			win += " (" + l.WindowLimited + ")"
			limited = true
		}
		r := l.Receiver
		t.Rows = append(t.Rows, []string{l.Key.String(), win, fmt.Sprint(l.Sender.Sent), fmt.Sprint(l.Sender.Dropped),
			fmt.Sprint(l.Sender.CreditWaits), fmt.Sprint(l.Sender.FullByBytes), fmt.Sprintf("%.2f", l.AcksPerMessage()),
			fmt.Sprint(r.Lost), fmt.Sprint(r.Duplicates), fmt.Sprint(r.Reordered), fmt.Sprint(r.ProtocolErrors)})
	}
	if limited {
		t.Notes = append(t.Notes, "A window with a reason in brackets is below the mode's N: the transport holds less.")
	}
	return t
}

// environmentSection lists the environment the records were taken in;
// a fact that differs between records lists every value.
func environmentSection(recs []record.Record) Section {
	type fact struct {
		name string
		get  func(*record.Env) string
	}
	facts := []fact{
		{"kernel", func(e *record.Env) string { return e.Kernel }},
		{"CPU model", func(e *record.Env) string { return e.CPUModel }},
		{"CPUs", func(e *record.Env) string {
			return nonZero(float64(e.NumCPU), func(v float64) string { return fmt.Sprint(v) })
		}},
		{"GOMAXPROCS", func(e *record.Env) string {
			return nonZero(float64(e.GOMAXPROCS), func(v float64) string { return fmt.Sprint(v) })
		}},
		{"Go", func(e *record.Env) string { return e.GoVersion }},
		{"commit", func(e *record.Env) string { return e.Commit }},
		{"C compiler", func(e *record.Env) string { return e.CCompiler }},
		{"clock source", func(e *record.Env) string { return e.ClockSource }},
		{"clock reading", func(e *record.Env) string { return nonZero(e.TimerNs, ns) }},
		{"harness overhead per sample", func(e *record.Env) string { return nonZero(e.SampleOverheadNs, ns) }},
		{"clock pair error bound", func(e *record.Env) string { return nonZero(e.ClockPairErrorNs, ns) }},
		{"floor", func(e *record.Env) string { return floorText(e) }},
	}
	t := Table{Caption: "Where the runs were measured", Header: []string{"fact", "value"}}
	var envs []*record.Env
	var placements, days []string
	var steal int64
	for _, r := range recs {
		if r.Env != nil && !slices.Contains(envs, r.Env) {
			envs = append(envs, r.Env)
		}
		addOnce(&placements, r.Placement)
		if !r.Time.IsZero() {
			addOnce(&days, r.Time.UTC().Format(time.DateTime))
		}
		steal += r.StealMs
	}
	t.Rows = append(t.Rows, []string{"placement", strings.Join(placements, ", ")})
	for _, f := range facts {
		var vals []string
		for _, e := range envs {
			addOnce(&vals, f.get(e))
		}
		if len(vals) > 0 {
			t.Rows = append(t.Rows, []string{f.name, strings.Join(vals, " | ")})
		}
	}
	virt := "no host steal time seen (not proof of bare metal)"
	if steal > 0 {
		virt = fmt.Sprintf("yes: %d ms of host steal time during the cases", steal)
	}
	t.Rows = append(t.Rows, []string{"virtual machine", virt})
	if len(days) > 0 {
		slices.Sort(days)
		t.Rows = append(t.Rows, []string{"measured", days[0] + " to " + days[len(days)-1] + " UTC"})
	}
	limits := map[string][]string{}
	for _, e := range envs {
		for k, v := range e.Limits {
			l := limits[k]
			addOnce(&l, v)
			limits[k] = l
		}
	}
	if len(limits) > 0 {
		keys := make([]string, 0, len(limits))
		for k := range limits {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Rows = append(t.Rows, []string{k, strings.Join(limits[k], " | ")})
		}
	}
	sec := Section{Heading: "Environment", Blocks: []Block{t}}
	var floors []string
	for _, e := range envs {
		var b bytes.Buffer
		if len(e.Floor) > 0 && json.Indent(&b, e.Floor, "", "  ") == nil {
			addOnce(&floors, b.String())
		}
	}
	for _, f := range floors {
		sec.Blocks = append(sec.Blocks, Paragraph{"The machine's floor at this placement (ipclab floor: cache-line, futex and pipe round trips between two pinned processes):"}, Pre{f})
	}
	return sec
}

// nonZero formats v, or is "" (not recorded) for 0.
func nonZero(v float64, f func(float64) string) string {
	if v == 0 {
		return ""
	}
	return f(v)
}

// floorText says whether the machine's floor was measured; the figures
// follow the table as JSON (the data model keeps them so, to link no
// measuring code).
func floorText(e *record.Env) string {
	switch {
	case e.FloorError != "":
		return "not measured: " + e.FloorError
	case len(e.Floor) > 0:
		return "measured (below)"
	}
	return ""
}
