package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/plot"
	"github.com/ipclab/ipclab/record"
)

// The browser test starts Chromium; under the leak check its objects,
// and its temporary files, are the test's own.
func TestMain(m *testing.M) { testmain.Main(m) }

// hostile is a name a records file could hold: markup that must show as
// text, never run or format.
const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>*bold*|`

var day = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// runRecords are records of every mode, a link, a skipped case and runs
// that disagree, over 4 runs.
func runRecords(t *testing.T) []record.Record {
	t.Helper()
	floor, _ := json.Marshal(map[string]any{"virtualization": map[string]string{"kind": "kvm"}, "budget_ns": 1000})
	env := &record.Env{Kernel: "Linux 6.1.0-test", CPUModel: "Test CPU " + hostile, NumCPU: 2, GoVersion: "go1.26", Commit: "abc123",
		Limits: map[string]string{"kernel.msgmax": "8192"}, Floor: floor}
	sum := func(base float64) *record.Summary {
		s, err := record.Summarize([]float64{base, base * 1.1, base * 1.3, base * 2, base * 5})
		if err != nil {
			t.Fatal(err)
		}
		return &s
	}
	var recs []record.Record
	for run := 1; run <= 4; run++ {
		rec := func(tr, mode, impl, link string, size int) record.Record {
			return record.Record{Schema: record.SchemaVersion, Time: day, Run: run, Transport: tr, Impl: impl, Mode: mode, Link: link,
				Size: size, Count: 100, Placement: "split", Env: env, StealMs: 2,
				Sender: record.Cost{CPUNsPerMsg: 900, CtxSwPerMsg: 1}, Receiver: record.Cost{CPUNsPerMsg: 1100, CtxSwPerMsg: 1}}
		}
		for ti, tr := range []string{"pipe", "sysvshm-futex", hostile} {
			base := 1000 * float64(ti+1)
			if tr == "pipe" && run > 2 {
				base *= 3 // two modes
			}
			for _, size := range []int{64, 4096} {
				for _, impl := range []string{"go", "c"} {
					r := rec(tr, record.Latency, impl, "raw", size)
					r.RTT, r.OneWay = sum(base), sum(base/2)
					recs = append(recs, r)
					r = rec(tr, record.Throughput, impl, "raw", size)
					r.MsgsPerSec, r.MBPerSec = 1e9/base, 1e9/base*float64(size)/1e6
					recs = append(recs, r)
				}
			}
		}
		r := rec("pipe", record.Latency, "go", "cap-16-block", 64)
		r.RTT = sum(1500)
		r.LinkSender = &record.LinkStats{Capacity: 16, Sent: 100, CreditWaits: 3}
		r.LinkReceiver = &record.LinkStats{Capacity: 16, Received: 100, AcksSent: 100}
		recs = append(recs, r)
		r = rec("sysvmsg", record.Load, "go", "raw", 64)
		r.OfferedRate, r.MsgsPerSec, r.OneWay, r.SendLateness = 1e4, 9990, sum(800), sum(50)
		recs = append(recs, r)
		r = rec("sysvmsg", record.FanIn, "go", "raw", 64)
		r.Producers, r.MsgsPerSec, r.MBPerSec = 4, 2e5, 12.8
		recs = append(recs, r)
		r = rec("sysvmsg", record.Latency, "go", "raw", 1<<20)
		r.Skipped = "exceeds kernel.msgmax=8192 " + hostile
		recs = append(recs, r)
	}
	return recs
}

var runFailures = []record.Failure{{Schema: record.SchemaVersion, Case: "run 1 posixmq raw 64 B latency go", Error: "peer gone " + hostile}}

// runDoc is the report of runRecords, with its figures.
func runDoc(t *testing.T) (*Doc, []*plot.Figure) {
	t.Helper()
	recs := runRecords(t)
	figs, err := plot.Figures(recs)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Run("ipclab bench run "+hostile, recs, runFailures, figs)
	if err != nil {
		t.Fatal(err)
	}
	return d, figs
}

// The run report has every part, the warnings the records call for, and
// each figure inline; nothing from the records is markup in the HTML.
func TestRunReportHTML(t *testing.T) {
	d, figs := runDoc(t)
	var b bytes.Buffer
	if err := d.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{
		`<h2>Summary</h2>`, `<h2>Warnings</h2>`, `<h2>Figures</h2>`, `<h2>Link statistics</h2>`, `<h2>Environment</h2>`,
		`Latency: ping-pong round trips`, `Throughput: one-way streaming`, `Load: open loop`, `Fan-in: N producer processes`,
		`pipe 64 B latency, p50: bimodal`, `1 case(s) failed`, `skipped (1)`, `cap-16-block`, `Content-Security-Policy`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`, `abc123`, `kernel.msgmax`, `&#34;budget_ns&#34;: 1000`, `<html lang="en">`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
	if n := strings.Count(html, `<img src="data:image/svg&#43;xml;base64,`); n != len(figs) || n < 4 {
		t.Errorf("%d inline images for %d figures", n, len(figs))
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "<img src=x") || strings.Contains(html, "ZgotmplZ") {
		t.Error("markup from the records reached the page unescaped (or a URL was filtered)")
	}
	for _, f := range figs {
		if !strings.Contains(html, f.Title()) && !strings.Contains(html, strings.ReplaceAll(f.Title(), "'", "&#39;")) {
			t.Errorf("figure %q has no caption title", f.Title())
		}
	}
}

func TestRunReportMarkdown(t *testing.T) {
	d, figs := runDoc(t)
	var b bytes.Buffer
	if err := d.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, f := range figs {
		if !strings.Contains(md, "]("+f.Name+".svg)") {
			t.Errorf("the Markdown does not link %s.svg", f.Name)
		}
	}
	for _, want := range []string{"## Summary", "## Warnings", "| case | size | runs | p50 |", "|---|---:|---:|---:|",
		`&lt;script&gt;alert(1)&lt;/script&gt;`, `\*bold\*\|`} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q", want)
		}
	}
}

// Validate refuses what would render broken.
func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		doc  Doc
		want string
	}{
		{"no title", Doc{}, "no title"},
		{"empty table", Doc{Title: "t", Sections: []Section{{Heading: "h", Blocks: []Block{Table{Caption: "c", Header: []string{"a"}}}}}}, "no header or no rows"},
		{"ragged table", Doc{Title: "t", Sections: []Section{{Heading: "h", Blocks: []Block{&Table{Header: []string{"a", "b"}, Rows: [][]string{{"1"}}}}}}}, "1 cells for 2 columns"},
		{"not an SVG", Doc{Title: "t", Sections: []Section{{Heading: "h", Blocks: []Block{Figure{Title: "f", SVG: []byte("<html>")}}}}}, "not an SVG"},
		{"no heading", Doc{Title: "t", Sections: []Section{{}}}, "no heading"},
	} {
		err := c.doc.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
		if err := c.doc.WriteHTML(&bytes.Buffer{}); err == nil {
			t.Errorf("%s: WriteHTML wrote it", c.name)
		}
	}
}

// A consumer's own document: every block type, pointers and values.
func TestOwnDocument(t *testing.T) {
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`)
	d := &Doc{Title: "Lab 1", Subtitle: "sysvmsg", Lang: "es", Sections: []Section{
		{Heading: "Question 1", Blocks: []Block{
			Paragraph{"Measure a & b."}, &List{Items: []string{"one", "two"}}, Pre{"$ ipclab bench\n| raw |"},
			Table{Header: []string{"x", "y"}, Rows: [][]string{{"1", ""}}, Numeric: []bool{true, true}},
			&Figure{Title: "f", SVG: svg}, Warning{Title: "careful", Items: []string{"<b>"}},
		}},
	}}
	dir := t.TempDir()
	files, err := d.WriteFiles(dir, "lab1")
	if err != nil || len(files) != 2 {
		t.Fatalf("%v, %v", files, err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "lab1.md"))
	for _, want := range []string{"# Lab 1", "Measure a &amp; b.", "- two", "```\n$ ipclab bench\n| raw |\n```", "| 1 |   |", "**f** (the figure is in the HTML report)", "> - &lt;b&gt;"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("lab1.md lacks %q:\n%s", want, md)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "lab1.html"))
	for _, want := range []string{`<html lang="es">`, "<li>two</li>", "<pre>$ ipclab bench\n| raw |</pre>", `<td class="num">1</td>`, "&lt;b&gt;", `id="figure-1"`} {
		if !strings.Contains(string(html), want) {
			t.Errorf("lab1.html lacks %q", want)
		}
	}
}

// A run measured in a slow spell (its own floor over twice the run's low floor)
// is named under Warnings; runs with even floors are not.
func TestRunReportSlowSpell(t *testing.T) {
	report := func(floors ...float64) string {
		t.Helper()
		var recs []record.Record
		for i, f := range floors {
			recs = append(recs, record.Record{Schema: record.SchemaVersion, Time: day, Run: i + 1, Transport: "sysvshm-futex", Impl: "go",
				Mode: record.Latency, Link: "raw", Size: 64, Count: 100, Placement: "split", SharedMemory: true, FloorRTTNs: f,
				RTT: &record.Summary{P50: 5 * f, P99: 10 * f}, Env: &record.Env{}})
		}
		d, err := Run("a run", recs, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := d.WriteMarkdown(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	md := report(80, 410, 85)
	for _, want := range []string{"1 case run(s) measured while this machine was slow", "run 2 sysvshm-futex 64 B latency: cache-line round trip 410ns", "Slow spell: a shared-memory case is flagged"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if md := report(80, 90, 85); strings.Contains(md, "slow spell") || strings.Contains(md, "Slow spell") {
		t.Errorf("a slow spell in runs with even floors:\n%s", md)
	}
}
