package plot

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/record"
	gplot "gonum.org/v1/plot"
)

var testEnv = &record.Env{Kernel: "Linux 6.1.0-test x86_64", CPUModel: "Test CPU 9000", NumCPU: 4, GoVersion: "go1.26"}

var testDay = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// summary is a latency summary around base ns, with full percentiles.
func summary(t *testing.T, base float64) *record.Summary {
	t.Helper()
	s, err := record.Summarize([]float64{base, base * 1.2, base * 1.5, base * 3, base * 9})
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

// shape says which records a case builds.
type shape struct {
	sizes   []int
	withC   bool
	load    []float64 // offered rates
	fanin   []int     // producer counts
	links   []string  // link modes besides raw
	runs    int
	noCost  bool // records without CPU figures
	noSteal bool
}

var transportsUnderTest = []string{"pipe", "sysvmsg", "sysvshm-futex", "some-new-transport"}

func records(t *testing.T, sh shape) []record.Record {
	var recs []record.Record
	runs := max(sh.runs, 1)
	for run := 1; run <= runs; run++ {
		jitter := 1 + 0.1*float64(run-1)
		for ti, tr := range transportsUnderTest {
			base := 1000 * float64(ti+1) * jitter
			rec := func(mode, impl, link string, size int) record.Record {
				r := record.Record{Schema: record.SchemaVersion, Time: testDay, Run: run, Transport: tr, Impl: impl, Mode: mode,
					Link: link, Size: size, Count: 1000, Placement: "split", Env: testEnv}
				if !sh.noSteal {
					r.StealMs = 3
				}
				if !sh.noCost {
					r.Sender = record.Cost{UserNs: 1e6, SysNs: 2e6, CPUNsPerMsg: 3000 * jitter}
					r.Receiver = record.Cost{UserNs: 1e6, SysNs: 1e6, CPUNsPerMsg: 2000 * float64(ti+1)}
				}
				return r
			}
			impls := []string{"go"}
			if sh.withC {
				impls = append(impls, "c")
			}
			for _, impl := range impls {
				f := 1.0
				if impl == "c" {
					f = 0.8
				}
				for _, size := range sh.sizes {
					for _, link := range append([]string{"raw"}, sh.links...) {
						if impl == "c" && link != "raw" {
							continue
						}
						r := rec(record.Latency, impl, link, size)
						r.RTT = summary(t, base*f*(1+float64(size)/4096))
						recs = append(recs, r)
						r = rec(record.Throughput, impl, link, size)
						r.RTT = nil
						r.MsgsPerSec = 1e6 / (base * f)
						r.MBPerSec = r.MsgsPerSec * float64(size) / 1e6
						recs = append(recs, r)
					}
				}
			}
			for _, rate := range sh.load {
				r := rec(record.Load, "go", "raw", 64)
				r.OfferedRate, r.MsgsPerSec = rate, rate*0.99
				r.OneWay = summary(t, base/2)
				r.SendLateness = summary(t, 100)
				recs = append(recs, r)
			}
			for _, n := range sh.fanin {
				r := rec(record.FanIn, "go", "raw", 64)
				r.Producers, r.MsgsPerSec = n, 1e6/float64(n)/jitter
				recs = append(recs, r)
			}
		}
	}
	recs = append(recs, record.Record{Schema: record.SchemaVersion, Transport: "sysvmsg", Mode: record.Latency, Size: 1 << 20,
		Placement: "split", Skipped: "larger than kernel.msgmax", Env: testEnv})
	return recs
}

// captured figures by file base name.
func capture(t *testing.T) map[string]*figure {
	got := map[string]*figure{}
	onSave = func(f *figure, base string) { got[base] = f }
	t.Cleanup(func() { onSave = nil })
	return got
}

func TestEveryFigureForEveryShapeOfRecords(t *testing.T) {
	many := []int{8, 64, 512, 4096, 65536}
	cases := []struct {
		name  string
		shape shape
		want  []string
	}{
		{"many sizes, Go only", shape{sizes: many, runs: 3},
			[]string{"latency_vs_size", "throughput_vs_size", "latency_cdf_64B", "decision"}},
		{"many sizes, with C", shape{sizes: many, withC: true, runs: 3},
			[]string{"latency_vs_size", "throughput_vs_size", "latency_cdf_64B", "decision", "go_vs_c"}},
		{"one size, with C", shape{sizes: []int{64}, withC: true},
			[]string{"latency_vs_size", "throughput_vs_size", "latency_cdf_64B", "decision", "go_vs_c"}},
		{"one size, Go only, 1 B", shape{sizes: []int{1}, runs: 2},
			[]string{"latency_vs_size", "throughput_vs_size", "latency_cdf_1B", "decision"}},
		{"one size, no CPU recorded", shape{sizes: []int{4096}, noCost: true, noSteal: true},
			[]string{"latency_vs_size", "throughput_vs_size", "latency_cdf_4096B"}},
		{"link modes", shape{sizes: []int{64, 4096}, links: []string{"rendezvous", "cap-16-block"}, runs: 2},
			[]string{"latency_vs_size", "throughput_vs_size", "latency_cdf_64B", "decision", "link_cost_latency", "link_cost_throughput"}},
		{"load, many rates", shape{load: []float64{1e3, 1e4, 1e5, 1e6}, runs: 3},
			[]string{"load_latency", "load_cpu"}},
		{"load, one rate", shape{load: []float64{5e4}},
			[]string{"load_latency", "load_cpu"}},
		{"fan-in", shape{fanin: []int{1, 2, 4, 8}, runs: 3},
			[]string{"fanin_throughput"}},
		{"fan-in, one producer count", shape{fanin: []int{2}},
			[]string{"fanin_throughput"}},
	}
	for i, c := range cases {
		if testing.Short() && (i == 1 || i == 3 || i == 7 || i == 9) {
			// Every figure is still drawn, by the other cases: CI's race
			// run, where drawing all took 107 s; plot runs no goroutines.
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			figs := capture(t)
			dir := t.TempDir()
			recs := records(t, c.shape)
			files, err := All(recs, dir)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range c.want {
				want = append(want, filepath.Join(dir, w+".png"), filepath.Join(dir, w+".svg"))
			}
			slices.Sort(want)
			slices.Sort(files)
			if !slices.Equal(files, want) {
				t.Fatalf("files\n%v\nwant\n%v", files, want)
			}
			for _, path := range files {
				b, err := os.ReadFile(path)
				if err != nil || len(b) < 2000 {
					t.Fatalf("%s: %d bytes, %v", path, len(b), err)
				}
				if strings.HasSuffix(path, ".svg") && !strings.Contains(string(b), "</svg>") {
					t.Fatalf("%s is not a whole SVG", path)
				}
			}
			for base, f := range figs {
				checkFigure(t, base, f, c.shape)
			}
		})
	}
}

// checkFigure asserts what a reader relies on, without pixels: the
// caption names placement, machine and date; every point and error bar
// lies inside its panel's ranges (nothing clipped) with finite
// coordinates; every measured transport has a legend entry.
func checkFigure(t *testing.T, base string, f *figure, sh shape) {
	t.Helper()
	if f.title == "" || len(f.caption) == 0 {
		t.Fatalf("%s: no title or caption", base)
	}
	ctx := f.caption[0]
	for _, want := range []string{"placement split (one CPU each)", "Test CPU 9000, 4 vCPUs", "Linux 6.1.0-test", "2026-01-02"} {
		if !strings.Contains(ctx, want) {
			t.Errorf("%s: caption %q lacks %q", base, ctx, want)
		}
	}
	if virt := strings.Contains(ctx, "virtual machine"); virt == sh.noSteal {
		t.Errorf("%s: caption %q: virtual machine said %v with steal time %v", base, ctx, virt, !sh.noSteal)
	}
	if len(f.panels) == 0 {
		t.Fatalf("%s: no panels", base)
	}
	for i, row := range f.panels {
		for j, p := range row {
			checkPanel(t, base, i, j, p)
		}
	}
	if !strings.HasPrefix(base, "link_cost") {
		for _, tr := range transportsUnderTest {
			if !slices.Contains(f.names, tr) {
				t.Errorf("%s: no legend entry for %s (entries %v)", base, tr, f.names)
			}
			if sh.withC && (base == "latency_vs_size" || base == "throughput_vs_size") && !slices.Contains(f.names, tr+" [C]") {
				t.Errorf("%s: the C baseline of %s is missing (entries %v)", base, tr, f.names)
			}
		}
	}
}

func checkPanel(t *testing.T, base string, i, j int, p *gplot.Plot) {
	t.Helper()
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		if !finite(a.Min) || !finite(a.Max) || !(a.Min < a.Max) {
			t.Fatalf("%s panel %d,%d: axis range %v..%v", base, i, j, a.Min, a.Max)
		}
		if _, log := a.Scale.(gplot.LogScale); log && !(a.Min > 0) {
			t.Fatalf("%s panel %d,%d: log axis from %v", base, i, j, a.Min)
		}
	}
	boxes := p.GlyphBoxes(p)
	if len(boxes) == 0 {
		t.Fatalf("%s panel %d,%d: no marks", base, i, j)
	}
	for _, g := range boxes {
		if !finite(g.X) || !finite(g.Y) || g.X < -1e-9 || g.X > 1+1e-9 || g.Y < -1e-9 || g.Y > 1+1e-9 {
			t.Fatalf("%s panel %d,%d: a mark at normalised (%v, %v), outside the panel", base, i, j, g.X, g.Y)
		}
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// A transport has the same colour in every figure, and two transports
// never share one in a figure.
func TestTransportColourIsTheSameInEveryFigure(t *testing.T) {
	figs := capture(t)
	recs := records(t, shape{sizes: []int{64, 4096}, withC: true, runs: 2})
	recs = append(recs, records(t, shape{load: []float64{1e3, 1e5}, fanin: []int{1, 4}})...)
	// Figures, not All: colours are chosen as the figures are built, and
	// drawing them as files (the PNGs cost seconds under -race) is
	// TestEveryFigureForEveryShapeOfRecords's business.
	if _, err := Figures(recs); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"latency_vs_size", "decision", "load_latency", "load_cpu", "fanin_throughput", "go_vs_c", "latency_cdf_64B"} {
		if figs[base] == nil {
			t.Fatalf("no %s figure", base)
		}
	}
	for _, tr := range transportsUnderTest {
		want := styleOf(tr).Color
		for base, f := range figs {
			for _, name := range []string{tr, tr + " [C]"} {
				if got, ok := f.colors[name]; ok && got != want {
					t.Errorf("%s: %s drawn in %v, want %v", base, name, got, want)
				}
			}
		}
	}
	for base, f := range figs {
		seen := map[any]string{}
		for _, tr := range transportsUnderTest {
			c, ok := f.colors[tr]
			if !ok {
				continue
			}
			if other, dup := seen[c]; dup {
				t.Errorf("%s: %s and %s share a colour", base, tr, other)
			}
			seen[c] = tr
		}
	}
	if styleOf("some-new-transport") != styleOf("some-new-transport") {
		t.Fatal("an unknown transport's style is not stable")
	}
}

func labels(ticks []gplot.Tick) []string {
	var out []string
	for _, t := range ticks {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestTickLabelsCarryUnits(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{FormatNs(250), "250 ns"}, {FormatNs(1000), "1 µs"}, {FormatNs(1e4), "10 µs"}, {FormatNs(1e5), "100 µs"},
		{FormatNs(1.5e6), "1.5 ms"}, {FormatNs(2e9), "2 s"}, {FormatNs(0.5), "0.5 ns"},
		{FormatRate(500), "500/s"}, {FormatRate(1e5), "100 k/s"}, {FormatRate(1e6), "1 M/s"}, {FormatRate(2.5e6), "2.5 M/s"},
		{FormatBytesRate(100), "100 MB/s"}, {FormatBytesRate(2000), "2 GB/s"}, {FormatBytesRate(0.5), "500 kB/s"},
		{FormatSize(8), "8 B"}, {FormatSize(64), "64 B"}, {FormatSize(4096), "4 KiB"}, {FormatSize(1 << 20), "1 MiB"}, {FormatSize(1000), "1000 B"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		got  []string
		want []string
	}{
		{"time, three decades", labels(TimeTicks{}.Ticks(500, 2e5)), []string{"1 µs", "10 µs", "100 µs"}},
		{"time, one decade", labels(TimeTicks{}.Ticks(15e3, 120e3)), []string{"20 µs", "50 µs", "100 µs"}},
		{"rate", labels(RateTicks{}.Ticks(900, 2e6)), []string{"1 k/s", "10 k/s", "100 k/s", "1 M/s"}},
		{"MB/s", labels(BytesRateTicks{}.Ticks(50, 20000)), []string{"100 MB/s", "1 GB/s", "10 GB/s"}},
		{"measured sizes", labels(SizeTicks{[]float64{64, 4096, 1000}}.Ticks(8, 65536)), []string{"64 B", "1000 B", "4 KiB"}},
		{"one size", labels(SizeTicks{[]float64{64}}.Ticks(32, 128)), []string{"64 B"}},
		{"ratios", labels(RatioTicks{}.Ticks(0.3, 3)), []string{"1/2", "1", "2"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: labels %q, want %q", c.name, c.got, c.want)
		}
		for _, l := range c.got {
			if strings.Contains(l, "e+") || strings.Contains(l, "e-") {
				t.Errorf("%s: label %q in exponent notation", c.name, l)
			}
		}
	}
}

// A single value on a log axis gets a range around it that gonum can
// draw (its own ±1 would start at 0 for a 1-byte message).
func TestPadLogAroundOneValue(t *testing.T) {
	for _, v := range []float64{1, 64, 3e6} {
		a := gplot.New().X
		a.Min, a.Max = v, v
		padLog(&a)
		if !(a.Min > 0) || !(a.Min < v) || !(a.Max > v) || a.Max/a.Min < 3.99 {
			t.Errorf("%v: padded to %v..%v", v, a.Min, a.Max)
		}
		if n := len(labels(TimeTicks{}.Ticks(a.Min, a.Max))); n == 0 {
			t.Errorf("%v: no labelled tick in %v..%v", v, a.Min, a.Max)
		}
	}
}

func TestNoRecordsNoFigures(t *testing.T) {
	files, err := All(nil, t.TempDir())
	if err != nil || len(files) != 0 {
		t.Fatalf("no records: %v, %v", files, err)
	}
	onlySkipped := []record.Record{{Schema: 1, Transport: "pipe", Mode: record.Latency, Size: 64, Skipped: "limit"}}
	if files, err := All(onlySkipped, t.TempDir()); err != nil || len(files) != 0 {
		t.Fatalf("only skipped cases: %v, %v", files, err)
	}
}

func TestLinkCostBarsAreLinkModes(t *testing.T) {
	figs := capture(t)
	recs := records(t, shape{sizes: []int{64}, links: []string{"rendezvous", "cap-16"}})
	out, err := LinkCost(recs)
	if err != nil || len(out) != 2 || out[0].Name != "link_cost_latency" || out[1].Name != "link_cost_throughput" {
		t.Fatalf("LinkCost: %v, %v", out, err)
	}
	f := figs["link_cost_latency"]
	if f == nil || !slices.Equal(f.names, []string{"rendezvous", "cap-16"}) {
		t.Fatalf("legend of the link-cost bars: %v", f)
	}
	b, err := out[0].SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "rendezvous") || !strings.Contains(string(b), "cap-16") {
		t.Fatal("the bar chart's legend lacks the link modes")
	}
	var raw []record.Record
	for _, r := range recs {
		if r.Link == "raw" {
			raw = append(raw, r)
		}
	}
	if out, _ := LinkCost(raw); len(out) != 0 {
		t.Fatalf("raw only: %v, want no bar chart", out)
	}
}

func TestDecisionSizes(t *testing.T) {
	set := func(zs ...int) map[int]bool {
		m := map[int]bool{}
		for _, z := range zs {
			m[z] = true
		}
		return m
	}
	for _, c := range []struct {
		present map[int]bool
		want    []int
	}{
		{set(8, 64, 512, 4096, 65536), []int{64, 4096}},
		{set(64), []int{64}},
		{set(8, 4096), []int{4096}},
		{set(8, 512, 32768), []int{8, 32768}},
		{set(100), []int{100}},
	} {
		if got := decisionSizes(c.present); !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.present, got, c.want)
		}
	}
}

// Figures draws in memory what All writes: the same names, SVG and PNG
// bytes that are whole documents.
func TestFiguresInMemory(t *testing.T) {
	recs := records(t, shape{sizes: []int{64, 4096}, withC: true, runs: 2})
	figs, err := Figures(recs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
		if f.Title() == "" || len(f.Caption()) == 0 {
			t.Errorf("%s: no title or caption", f.Name)
		}
		svg, err := f.SVG()
		if err != nil || !strings.Contains(string(svg), "<svg") || !strings.HasSuffix(strings.TrimSpace(string(svg)), "</svg>") {
			t.Fatalf("%s: SVG %d bytes, %v", f.Name, len(svg), err)
		}
	}
	want := []string{"latency_vs_size", "throughput_vs_size", "latency_cdf_64B", "decision", "go_vs_c"}
	if !slices.Equal(names, want) {
		t.Fatalf("figures %v, want %v", names, want)
	}
	// One PNG suffices here: every figure's PNG (the same Figure.PNG) is
	// drawn by TestEveryFigureForEveryShapeOfRecords through All, and
	// each costs seconds under -race.
	png, err := figs[0].PNG()
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") || len(png) < 2000 {
		t.Fatalf("%s: PNG %d bytes, %v", figs[0].Name, len(png), err)
	}
}

// The figures draw the default figures only: a held-waits or batched
// record of the same transport must not join (and skew) its series, nor
// make a series of its own, nor may the C baseline waiting in ppoll.
func TestTunedRecordsStayOutOfTheFigures(t *testing.T) {
	rtt := &record.Summary{N: 10, Min: 1000, P50: 1000, P90: 1000, P99: 1000, P999: 1000, Max: 1000, Mean: 1000}
	recs := []record.Record{
		{Transport: "pipe", Impl: record.ImplGo, Mode: record.Latency, Size: 64, RTT: rtt},
		{Transport: "pipe", Impl: record.ImplGo, Mode: record.Latency, Size: 64, RTT: rtt, HeldWaits: true},
		{Transport: "sysvshm-spin", Impl: record.ImplGo, Mode: record.Throughput, Size: 64, MBPerSec: 1, MsgsPerSec: 1},
		{Transport: "sysvshm-spin", Impl: record.ImplGo, Mode: record.Throughput, Size: 64, MBPerSec: 9, MsgsPerSec: 9, Batch: 64},
		{Transport: "pipe", Impl: record.ImplCPoll, Mode: record.Latency, Size: 64, RTT: rtt},
		{Transport: "sysvshm-spin", Impl: record.ImplCPoll, Mode: record.Throughput, Size: 64, MBPerSec: 5, MsgsPerSec: 5},
	}
	for _, mode := range []string{record.Latency, record.Throughput} {
		ss := group(recs, mode)
		if len(ss) != 1 {
			t.Fatalf("%s: %d series, want 1", mode, len(ss))
		}
		for _, rs := range ss[0].values {
			if len(rs) != 1 || rs[0].Tuned() {
				t.Errorf("%s: series %s holds %d records (tuned: %v)", mode, ss[0].name(), len(rs), rs[0].Tuned())
			}
		}
	}
}

// The Go/C figure draws the default figures only: a held-waits Go case,
// paired with the same C case, must not join the default's line.
func TestHeldStaysOutOfGoVsC(t *testing.T) {
	rtt := func(v float64) *record.Summary {
		return &record.Summary{N: 10, Min: v, P50: v, P90: v, P99: v, P999: v, Max: v, Mean: v}
	}
	recs := []record.Record{
		{Transport: "pipe", Impl: record.ImplGo, Mode: record.Latency, Size: 64, RTT: rtt(10000)},
		{Transport: "pipe", Impl: record.ImplGo, Mode: record.Latency, Size: 64, RTT: rtt(8000), HeldWaits: true},
		{Transport: "pipe", Impl: record.ImplC, Mode: record.Latency, Size: 64, RTT: rtt(5000)},
	}
	ovs := defaultOverheads(recs)
	if len(ovs) != 1 || ovs[0].Held || ovs[0].P50 != 2 {
		t.Errorf("Go/C points %+v, want one, the default's (p50 ratio 2)", ovs)
	}
}
