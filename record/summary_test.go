package record

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the reference runs' summary.txt and summary.md from their records")

// referenceRuns are the committed runs: the default spec (7 transports,
// 6 sizes, latency and throughput, 5 runs, Go and C) at each placement,
// and the load and fan-in runs beside them.
var referenceRuns = []string{"none", "split", "same", "none/load-fanin", "split/load-fanin", "same/load-fanin"}

func readReference(t *testing.T, dir string) ([]Record, []Failure) {
	t.Helper()
	recs, err := ReadJSONL(filepath.Join(dir, RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	fails, err := ReadFailures(dir)
	if err != nil {
		t.Fatal(err)
	}
	return recs, fails
}

// The summaries of the committed reference runs are what WriteSummary and
// WriteSummaryMarkdown write from their records, byte for byte (go test
// ./record -run Reference -update rewrites them after a deliberate change).
func TestSummaryOfTheReferenceRuns(t *testing.T) {
	for _, dir := range referenceRuns {
		dir = filepath.Join("..", "results", "reference", dir)
		recs, fails := readReference(t, dir)
		var txt, md strings.Builder
		WriteSummary(&txt, recs, fails)
		WriteSummaryMarkdown(&md, recs, fails)
		for name, got := range map[string]string{"summary.txt": txt.String(), "summary.md": md.String()} {
			path := filepath.Join(dir, name)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s differs from what the records give:\n%s", path, got)
			}
		}
	}
}

// Every line of the text summary of a default run fits 100 columns, with
// the C baseline and without it, and with the C baseline waiting in ppoll
// too (scripts/reproduce.sh asks for it: here the plain C cases of the
// mechanisms with a descriptor stand in for its cases); without the
// baseline no C column, no Go/C table and no empty cell of C is left.
func TestSummaryFits100Columns(t *testing.T) {
	for _, dir := range referenceRuns {
		recs, fails := readReference(t, filepath.Join("..", "results", "reference", dir))
		goOnly := slices.DeleteFunc(slices.Clone(recs), func(r Record) bool { return r.Impl == ImplC })
		withCPoll := slices.Clone(recs)
		for _, r := range recs {
			if r.Impl == ImplC && !strings.Contains(r.Transport, "shm") && r.Transport != "sysvmsg" {
				r.Impl = ImplCPoll
				withCPoll = append(withCPoll, r)
			}
		}
		for _, set := range []struct {
			name string
			recs []Record
		}{{dir, recs}, {dir + " -baseline none", goOnly}, {dir + " -baseline c,c-poll", withCPoll}} {
			var b strings.Builder
			WriteSummary(&b, set.recs, fails)
			out := b.String()
			if !strings.Contains(out, "transport") {
				t.Fatalf("%s: no table:\n%s", set.name, out)
			}
			for i, l := range strings.Split(out, "\n") {
				if n := utf8.RuneCountInString(l); n > TextWidth {
					t.Errorf("%s: line %d is %d columns: %q", set.name, i+1, n, l)
				}
			}
			if len(set.recs) < len(recs) && (strings.Contains(out, "C p50") || strings.Contains(out, "Go/C") || strings.Contains(out, "C MB/s")) {
				t.Errorf("%s: C columns without a C baseline:\n%s", set.name, out)
			}
		}
	}
}

// What does not fit beside the Go figures is in a second table, not
// dropped: every Go/C ratio is printed.
func TestSummaryKeepsTheCBaseline(t *testing.T) {
	recs, fails := readReference(t, filepath.Join("..", "results", "reference", "split"))
	tables := SummaryTables(recs, fails)
	var vsC []Table
	for _, tb := range tables {
		if strings.Contains(tb.Title, "C baseline") {
			vsC = append(vsC, tb)
		}
	}
	if len(vsC) != 2 {
		t.Fatalf("want a Go-beside-C table for latency and for throughput, got %d", len(vsC))
	}
	overheads := Overheads(recs)
	rows := len(vsC[0].Rows) + len(vsC[1].Rows)
	if rows != len(overheads) || rows == 0 {
		t.Errorf("%d Go/C rows for %d measured Go and C pairs", rows, len(overheads))
	}
	for _, tb := range tables {
		for _, r := range tb.Rows {
			if len(r) != len(tb.Columns) {
				t.Errorf("%s: row %q has %d cells for %d columns", tb.Title, r, len(r), len(tb.Columns))
			}
		}
	}
}

// Markdown: a heading per table, a pipe table with the alignment rule,
// and a | in a cell escaped so it cannot split the cell.
func TestWriteMarkdown(t *testing.T) {
	var b strings.Builder
	WriteMarkdown(&b, []Table{{Title: "T", Columns: []string{"name", "v"}, Left: 1, Rows: [][]string{{"a|b", "1"}}, Notes: []string{"note"}}})
	want := "### T\n\n| name | v |\n|:---|---:|\n| a\\|b | 1 |\n\nnote  \n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestWrapNotes(t *testing.T) {
	long := "  " + strings.Repeat("word ", 40)
	lines := wrap(long, 30)
	if len(lines) < 2 {
		t.Fatalf("not wrapped: %q", lines)
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) > 30 || !strings.HasPrefix(l, "  word") && !strings.HasPrefix(l, "      word") {
			t.Errorf("line %q", l)
		}
	}
	if strings.Join(strings.Fields(strings.Join(lines, " ")), " ") != strings.TrimSpace(long) {
		t.Error("wrapping lost or changed words")
	}
}

// A held-waits Go case is set beside the same C case as the default one:
// its own row in the Go-beside-C table, with its own ratio.
func TestHeldRowsAgainstTheSameC(t *testing.T) {
	rec := func(impl string, held bool, p50 float64) Record {
		return Record{Transport: "pipe", Impl: impl, Mode: Latency, Size: 64, HeldWaits: held,
			RTT: &Summary{N: 100, Min: p50, P50: p50, P90: p50, P99: 2 * p50, P999: 2 * p50, Max: 2 * p50, Mean: p50}}
	}
	recs := []Record{rec(ImplGo, false, 10000), rec(ImplGo, true, 8000), rec(ImplC, false, 5000)}
	got := map[bool]float64{}
	for _, o := range Overheads(recs) {
		got[o.Held] = o.P50
	}
	if want := map[bool]float64{false: 2, true: 1.6}; !maps.Equal(got, want) {
		t.Errorf("Go/C p50 by held: %v, want %v", got, want)
	}
	var rows []string
	for _, tb := range SummaryTables(recs, nil) {
		if strings.Contains(tb.Title, "C baseline") {
			for _, r := range tb.Rows {
				rows = append(rows, r[0])
			}
		}
	}
	if !slices.Equal(rows, []string{"pipe", "pipe held"}) {
		t.Errorf("Go-beside-C rows %q, want pipe and pipe held", rows)
	}
}

// The C baseline waiting in ppoll gets its own Go-beside-C table and
// ratios, and never a row among the Go figures nor a place in the plain C
// table's ratios.
func TestCPollBaselineHasItsOwnTable(t *testing.T) {
	rec := func(impl string, held bool, p50, msgs float64, mode string) Record {
		r := Record{Transport: "pipe", Impl: impl, Mode: mode, Size: 64, HeldWaits: held}
		if mode == Latency {
			r.RTT = &Summary{N: 100, Min: p50, P50: p50, P90: p50, P99: 2 * p50, P999: 2 * p50, Max: 2 * p50, Mean: p50}
		} else {
			r.MsgsPerSec, r.MBPerSec = msgs, msgs*64/1e6
		}
		return r
	}
	recs := []Record{rec(ImplGo, false, 10000, 0, Latency), rec(ImplGo, true, 8000, 0, Latency), rec(ImplC, false, 5000, 0, Latency),
		rec(ImplCPoll, false, 6400, 0, Latency), rec(ImplGo, false, 0, 500000, Throughput), rec(ImplCPoll, false, 0, 800000, Throughput)}
	got := map[bool]float64{}
	for _, o := range OverheadsVs(recs, ImplCPoll) {
		if o.Mode == Latency {
			got[o.Held] = o.P50
		} else if o.Throughput != 0.625 {
			t.Errorf("Go/Cpoll throughput %v, want 0.625", o.Throughput)
		}
	}
	if want := map[bool]float64{false: 10000.0 / 6400, true: 1.25}; !maps.Equal(got, want) {
		t.Errorf("Go/Cpoll p50 by held: %v, want %v", got, want)
	}
	for _, o := range Overheads(recs) {
		if o.Mode == Latency && o.P50 != 2 && o.P50 != 1.6 {
			t.Errorf("Go/C p50 %v: the plain C table took the ppoll case", o.P50)
		}
	}
	rows := map[string][]string{}
	for _, tb := range SummaryTables(recs, nil) {
		for _, r := range tb.Rows {
			rows[tb.Title] = append(rows[tb.Title], r[0])
			if strings.Contains(r[0], "[C") {
				t.Errorf("%s: a C case among the rows: %q", tb.Title, r)
			}
		}
	}
	for title, want := range map[string][]string{
		"LATENCY (round trip)": {"pipe", "pipe held"},
		"LATENCY, Go beside the C baseline (medians over 3+ runs, else each run)":                   {"pipe", "pipe held"},
		"LATENCY, Go beside C waiting in ppoll as Go must (medians over 3+ runs, else each run)":    {"pipe", "pipe held"},
		"THROUGHPUT, Go beside C waiting in ppoll as Go must (medians over 3+ runs, else each run)": {"pipe"},
	} {
		if !slices.Equal(rows[title], want) {
			t.Errorf("%s: rows %q, want %q", title, rows[title], want)
		}
	}
	if _, ok := rows["THROUGHPUT, Go beside the C baseline (medians over 3+ runs, else each run)"]; ok {
		t.Error("a plain Go-beside-C throughput table with no plain C throughput case")
	}
}
