package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/browsercheck"
	"github.com/ipclab/ipclab/record"
)

// small is a functional experiment, not a measurement: every case runs
// in two processes with small counts, and only the expectations that are
// counts (no timing) are asserted.
const small = `
name = "small"
title = { es = "Prueba", en = "Test" }
[run]
transports = ["pipe", "sysvmsg"]
links = ["raw", "cap-4-drop"]
modes = ["latency", "throughput"]
sizes = [64]
placement = "none"
runs = 2
count = 50
bytes = "8K"
floor_time = "0s"

[[questions]]
id = "q1"
text = { es = "¿Por qué?", en = "Why?" }

[[expect]]
id = "balance"
left = { transport = "sysvmsg", link = "cap-4-drop", mode = "throughput", metric = "sent" }
op = "="
right = { transport = "sysvmsg", link = "cap-4-drop", mode = "throughput", metrics = ["received", "dropped"] }
per_run = true

[[expect]]
id = "timing-not-asserted"
left = { transport = "sysvmsg", link = "raw", mode = "latency", metric = "p50" }
op = "<"
right = { transport = "pipe", link = "raw", mode = "latency", metric = "p50" }
`

// TestRunEndToEnd: lab.Run measures through the harness in two processes,
// leaves records, plots, outcomes and a sealed manifest; Check passes the
// directory as it is and catches one record edited; the report, as
// report.md and a report.html checked in a browser, carries the answers,
// every expectation and every plot.
func TestRunEndToEnd(t *testing.T) {
	e, err := Parse([]byte(small), "small.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute) // a hang fails, not blocks CI
	defer cancel()
	res, err := Run(ctx, e, RunOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 16 || len(res.Failures) != 0 {
		t.Fatalf("%d records, failures %+v; want 2 transports x 2 links x 2 modes x 2 runs", len(res.Records), res.Failures)
	}
	for _, r := range res.Records {
		if r.Sender.PID == r.Receiver.PID || r.Sender.PID == 0 {
			t.Fatalf("%s: sender pid %d, receiver pid %d: not two processes", caseName(&r), r.Sender.PID, r.Receiver.PID)
		}
	}
	byID := outcomeByID(res.Outcomes)
	if o := byID["balance"]; o.Status != Pass || len(o.PerRun) != 2 || o.PerRun[0].Left == 0 {
		t.Fatalf("balance: %+v", o)
	}
	if o := byID["timing-not-asserted"]; o.Status == Skipped || o.Left <= 0 || o.Right <= 0 {
		t.Fatalf("a timing relation must be evaluated with its figures (whatever its outcome): %+v", o)
	}
	for _, f := range []string{ExperimentFile, record.RecordsFile, ExpectationsFile, ManifestFile, "summary.txt", "results.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run directory: %v", err)
		}
	}
	if len(res.Plots) == 0 {
		t.Error("no plots")
	}
	c, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK() {
		t.Fatalf("check of an untouched run: %+v", c.Problems)
	}
	ans := filepath.Join(t.TempDir(), "answers.md")
	os.WriteFile(ans, []byte("## q1\nPorque sí.\n"), 0o644)
	r, err := BuildReport(dir, "en", ans)
	if err != nil {
		t.Fatal(err)
	}
	md, page := writeReport(t, r)
	for _, want := range []string{"# Lab report: Test", "Porque sí.", "| balance |", "| pass |", ".png)", res.Manifest.Digest} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, want := range []string{"<h1>Lab report: Test</h1>", "<p>Porque sí.</p>", "<tr><td>balance</td>", "<td>pass</td>", res.Manifest.Digest} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, o := range res.Outcomes {
		if !strings.Contains(page, "<tr><td>"+o.ID+"</td>") {
			t.Errorf("report.html has no row for %s", o.ID)
		}
	}
	// Every plot lab run drew (a PNG and an SVG each) is in the page.
	if n := strings.Count(page, `<img src="data:image/svg&#43;xml;base64,`); n == 0 || 2*n != len(res.Plots) {
		t.Errorf("report.html holds %d figures, the run drew %d files: %v", n, len(res.Plots), res.Plots)
	}
	t.Run("in a browser", func(t *testing.T) {
		got := browsercheck.Check(t, filepath.Join(dir, "report.html"))
		for _, p := range got.Problems {
			t.Error(p)
		}
		if 2*got.Images != len(res.Plots) {
			t.Errorf("%d images drawn, the run drew %d files", got.Images, len(res.Plots))
		}
		if !strings.Contains(got.Text, "Porque sí.") {
			t.Error("the page does not show the answer")
		}
	})
	// One byte added to a record by hand (a space: the figures are the same).
	b, _ := os.ReadFile(filepath.Join(dir, record.RecordsFile))
	lines := strings.SplitAfter(string(b), "\n")
	lines[0] = strings.Replace(lines[0], `"run":1`, `"run":1 `, 1)
	os.WriteFile(filepath.Join(dir, record.RecordsFile), []byte(strings.Join(lines, "")), 0o644)
	if c, err := Check(dir); err != nil || c.OK() {
		t.Fatalf("check after an edit: %v, problems %+v", err, c.Problems)
	}
}
