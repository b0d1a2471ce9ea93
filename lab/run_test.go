package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
// directory as it is and catches one record edited; the report carries
// the answers.
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
	path, err := r.WriteMarkdown()
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(path)
	for _, want := range []string{"# Lab report: Test", "Porque sí.", "**balance**", "| pass |", ".png)", res.Manifest.Digest} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// One byte added to a record by hand (a space: the figures are the same).
	b, _ := os.ReadFile(filepath.Join(dir, record.RecordsFile))
	lines := strings.SplitAfter(string(b), "\n")
	lines[0] = strings.Replace(lines[0], `"run":1`, `"run":1 `, 1)
	os.WriteFile(filepath.Join(dir, record.RecordsFile), []byte(strings.Join(lines, "")), 0o644)
	if c, err := Check(dir); err != nil || c.OK() {
		t.Fatalf("check after an edit: %v, problems %+v", err, c.Problems)
	}
}
