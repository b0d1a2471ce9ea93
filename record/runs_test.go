package record

import (
	"slices"
	"strings"
	"testing"
)

// Disagreement on synthetic per-run values: each rule fires on the shape
// it names, only with the runs it needs, and stays quiet on tight runs.
func TestDisagreement(t *testing.T) {
	type want struct {
		kind WarningKind
		runs []int
		says []string // in the message
	}
	for _, c := range []struct {
		name   string
		values []float64
		want   []want
	}{
		{"one run", []float64{100}, nil},
		{"tight, 5 runs", []float64{100, 103, 98, 101, 99}, nil},
		{"tight but for a 1% run beyond zero-width fences", []float64{100, 100, 100, 100, 101}, nil},
		{"two runs far apart", []float64{410, 109000}, []want{
			{WarnWideSpread, []int{2, 1}, []string{"410µs (run 1)", "109ms (run 2)", "265.85×", "1.5×"}}}},
		{"two runs close", []float64{410, 420}, nil},
		{"three runs, wide: no quartiles, no groups", []float64{100, 110, 200}, []want{
			{WarnWideSpread, []int{3, 1}, nil}}},
		{"bimodal, 3 low and 3 high", []float64{100, 210, 102, 205, 98, 200}, []want{
			{WarnWideSpread, []int{2, 5}, nil},
			{WarnBimodal, []int{2, 4, 6}, []string{"3 runs at 98µs..102µs", "3 (runs 2, 4, 6) at 200µs..210µs", "1.96×"}}}},
		{"bimodal, 2 and 2", []float64{100, 100, 140, 140}, []want{
			{WarnBimodal, []int{3, 4}, nil}}},
		{"a gap no wider than a group's own spread is not two modes", []float64{100, 126, 160, 200}, []want{
			{WarnWideSpread, []int{4, 1}, nil}}},
		{"one slow run of five", []float64{100, 102, 99, 101, 180}, []want{
			{WarnWideSpread, []int{5, 3}, nil},
			{WarnOutlier, []int{5}, []string{"run 5's p50, 180µs, is above Tukey's fence", "+78% off the median 101µs"}}}},
		{"one fast run of six, within the spread limit", []float64{100, 101, 99, 100, 102, 80}, []want{
			{WarnOutlier, []int{6}, []string{"below Tukey's fence"}}}},
		{"outliers need 4 runs", []float64{100, 101, 130}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := make([]int, len(c.values))
			for i := range runs {
				runs[i] = i + 1
			}
			us := make([]float64, len(c.values)) // in µs: ns() keeps 3 digits there
			for i, v := range c.values {
				us[i] = 1000 * v
			}
			got := Disagreement(us, runs, MetricRTTP50)
			if len(got) != len(c.want) {
				t.Fatalf("%d warnings, want %d: %v", len(got), len(c.want), got)
			}
			for i, w := range c.want {
				g := got[i]
				if g.Kind != w.kind || !slices.Equal(g.Runs, w.runs) {
					t.Errorf("warning %d: %s runs %v, want %s runs %v (%s)", i, g.Kind, g.Runs, w.kind, w.runs, g.Message)
				}
				for _, s := range w.says {
					if !strings.Contains(g.Message, s) {
						t.Errorf("warning %d: %q lacks %q", i, g.Message, s)
					}
				}
			}
		})
	}
}

// RunWarnings names the case and metric of each warning, skips skipped
// cases and reads each mode's primary figure.
func TestRunWarnings(t *testing.T) {
	recs := latencyRuns("pipe", 100, 101, 99, 100, 300)
	recs = append(recs, latencyRuns("tight", 100, 101, 99, 100, 102)...)
	for i, v := range []float64{1e6, 1e6, 2e6} {
		recs = append(recs, Record{Schema: SchemaVersion, Run: i + 1, Transport: "fifo", Mode: Throughput, Size: 4096, MsgsPerSec: v})
	}
	recs = append(recs, Record{Schema: SchemaVersion, Run: 1, Transport: "sysvmsg", Mode: Latency, Size: 1 << 20, Skipped: "too big"})
	got := RunWarnings(recs)
	var names []string
	for _, w := range got {
		names = append(names, w.Case+"/"+w.Metric+"/"+string(w.Kind))
	}
	want := []string{"pipe 64 B latency/p50/wide-spread", "pipe 64 B latency/p50/outlier", "fifo 4 KiB throughput/msgs/s/wide-spread"}
	if !slices.Equal(names, want) {
		t.Fatalf("warnings %q, want %q", names, want)
	}
}

func TestSpreadFormat(t *testing.T) {
	f := func(v float64) string { return ns(v) }
	for _, c := range []struct {
		values []float64
		want   string
	}{
		{nil, "-"},
		{[]float64{410}, "410ns"},
		{[]float64{410, 109000}, "410ns, 109µs (2 runs)"},
		{[]float64{300, 100, 200}, "200ns (100ns..300ns)"},
	} {
		if got := SpreadOf(c.values).Format(f); got != c.want {
			t.Errorf("%v: %q, want %q", c.values, got, c.want)
		}
	}
}

func TestKeyString(t *testing.T) {
	for _, c := range []struct {
		k    Key
		want string
	}{
		{Key{Transport: "pipe", Link: RawLink, Size: 64, Mode: Latency, Impl: ImplGo}, "pipe 64 B latency"},
		{Key{Transport: "pipe", Link: "cap-16-block", Size: 4096, Mode: Throughput, Impl: ImplGo}, "pipe cap-16-block 4 KiB throughput"},
		{Key{Transport: "fifo", Link: RawLink, Size: 64, Mode: Latency, Impl: ImplC}, "fifo 64 B latency [C]"},
		{Key{Transport: "fifo", Link: RawLink, Size: 64, Mode: Load, Impl: ImplGo, Rate: 10000}, "fifo 64 B load at 10000/s"},
		{Key{Transport: "fifo", Link: RawLink, Size: 64, Mode: FanIn, Impl: ImplGo, Producers: 4}, "fifo 64 B fanin from 4 producers"},
	} {
		if got := c.k.String(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
}

// LinkTotals sums both ends over runs, leaves raw and silent links out,
// and the summary's link table is drawn from it.
func TestLinkTotals(t *testing.T) {
	recs := latencyRuns("pipe", 100, 100)
	for i := range recs {
		recs[i].Link = "cap-16-block"
		recs[i].LinkSender = &LinkStats{Capacity: 8, CapacityLimit: "pipe buffer", Sent: 50, Dropped: 1, CreditWaits: 2, Lost: 1}
		recs[i].LinkReceiver = &LinkStats{Received: 49, AcksSent: 49, Reordered: 3}
	}
	silent := latencyRuns("fifo", 100)
	silent[0].Link, silent[0].LinkSender, silent[0].LinkReceiver = "rendezvous", &LinkStats{}, &LinkStats{}
	recs = append(append(recs, silent...), latencyRuns("raw", 100)...)
	got := LinkTotals(recs)
	if len(got) != 1 {
		t.Fatalf("%d totals, want the pipe link's alone: %+v", len(got), got)
	}
	l := got[0]
	if l.Window != 8 || l.WindowLimited != "pipe buffer" || l.Sender.Sent != 100 || l.Sender.Dropped != 2 || l.Sender.CreditWaits != 4 ||
		l.Receiver.Received != 98 || l.Receiver.Lost != 2 || l.Receiver.Reordered != 6 || l.AcksPerMessage() != 1 {
		t.Errorf("totals %+v", l)
	}
	var b strings.Builder
	WriteText(&b, linkTables(recs))
	var rows [][]string
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "cap-16-block") {
			rows = append(rows, strings.Fields(line))
		}
	}
	want := [][]string{
		{"pipe", "cap-16-block", "64", "B", "latency", "8*", "100", "2", "4", "0"},
		{"pipe", "cap-16-block", "64", "B", "latency", "98", "1.00", "2", "0", "6", "0"},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("link table rows %q, want %q:\n%s", rows, want, b.String())
	}
}
