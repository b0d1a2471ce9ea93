package lab

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/floor"
	"github.com/ipclab/ipclab/record"
)

const synthetic = `
name = "synthetic"
[run]
transports = ["pipe", "sysvshm-futex"]
links = ["raw", "cap-16-drop"]
modes = ["latency", "throughput"]
sizes = [64]
placement = "split"
runs = 3
count = 100
bytes = "64K"

[[expect]]
id = "shm-10x"
left = { transport = "sysvshm-futex", link = "raw", mode = "latency", metric = "p50" }
op = "<"
right = { transport = "pipe", link = "raw", mode = "latency", metric = "p50", times = 0.1 }
at = "split"

[[expect]]
id = "balance"
left = { transport = "pipe", link = "cap-16-drop", mode = "throughput", metric = "sent" }
op = "="
right = { transport = "pipe", link = "cap-16-drop", mode = "throughput", metrics = ["received", "dropped"] }
per_run = true

[[expect]]
id = "drops"
left = { transport = "pipe", link = "cap-16-drop", mode = "throughput", metric = "dropped" }
op = ">"
right = { value = 0 }

[[expect]]
id = "scales"
left = { transport = "pipe", link = "raw", mode = "throughput", metric = "msgs_per_sec" }
op = ">="
right = { transport = "sysvshm-futex", link = "raw", mode = "throughput", metric = "msgs_per_sec", times = 2 }
min_cpus = 4

[[expect]]
id = "above-floor"
left = { transport = "sysvshm-futex", link = "raw", mode = "latency", metric = "p50" }
op = ">="
right = { transport = "sysvshm-futex", link = "raw", mode = "latency", metric = "floor_cacheline_p50" }
`

// syntheticRecords makes the records of three runs of the synthetic
// experiment: shm p50 = shmP50[run], pipe p50 = 40 µs, and a drop link
// that balances except in run badRun (0: none).
func syntheticRecords(t *testing.T, env *record.Env, shmP50 []float64, badRun int) []record.Record {
	t.Helper()
	var recs []record.Record
	cost := record.Cost{UserNs: 1e6, SysNs: 1e6}
	for run := 1; run <= 3; run++ {
		for _, tr := range []string{"pipe", "sysvshm-futex"} {
			p50 := 40e3
			if tr == "sysvshm-futex" {
				p50 = shmP50[run-1]
			}
			s := &record.Summary{N: 100, Min: p50 * 0.9, P50: p50, P90: p50 * 1.1, P99: p50 * 1.5, Max: p50 * 2, Mean: p50}
			base := record.Record{Schema: 1, Run: run, Transport: tr, Impl: record.ImplGo, Size: 64, Placement: "split",
				Sender: cost, Receiver: cost, Env: env}
			lat := base
			lat.Mode, lat.Link, lat.Count, lat.RTT = record.Latency, "raw", 100, s
			thr := base
			thr.Mode, thr.Link, thr.Count, thr.ElapsedNs = record.Throughput, "raw", 1000, 1e6
			thr.MsgsPerSec, thr.MBPerSec = 1e6, 64
			drop := thr
			drop.Link = "cap-16-drop"
			drop.LinkSender = &record.LinkStats{Sent: 1001, Dropped: 400}
			drop.LinkReceiver = &record.LinkStats{Received: 601}
			if run == badRun {
				drop.LinkReceiver = &record.LinkStats{Received: 600}
			}
			drop.MsgsPerSec, drop.MBPerSec = 6e5, 6e5*64/1e6
			recs = append(recs, lat, thr, drop)
		}
	}
	return recs
}

func testEnv(t *testing.T, cpus int) *record.Env {
	f := floor.Floor{Pairs: []floor.Pair{{Placement: "split", CacheLine: floor.RoundTrip{P50Ns: 150}}}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return &record.Env{Kernel: "6.1", NumCPU: cpus, Commit: "abc123", Floor: b}
}

func outcomeByID(os []Outcome) map[string]Outcome {
	m := map[string]Outcome{}
	for _, o := range os {
		m[o.ID] = o
	}
	return m
}

// TestEvaluate: each relation on synthetic records, with its figures:
// medians over runs, run by run under per_run, skipped with the reason
// where the machine is too small.
func TestEvaluate(t *testing.T) {
	e, err := Parse([]byte(synthetic), "synthetic.toml")
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv(t, 2)
	// shm p50 of 500 ns, 3.5 µs (a disturbed run), 600 ns: the median
	// 600 ns < 4 µs passes though one run alone would not.
	got := outcomeByID(e.Evaluate(syntheticRecords(t, env, []float64{500, 3500, 600}, 0), env))
	want := map[string]Status{"shm-10x": Pass, "balance": Pass, "drops": Pass, "scales": Skipped, "above-floor": Pass}
	for id, st := range want {
		if got[id].Status != st {
			t.Errorf("%s: %s (%s), want %s", id, got[id].Status, got[id].Reason, st)
		}
	}
	if o := got["shm-10x"]; o.Left != 600 || o.Right != 4000 || o.Unit != "ns" {
		t.Errorf("shm-10x figures: %v %s %v %s; want the medians 600 < 4000 ns", o.Left, o.Op, o.Right, o.Unit)
	}
	if o := got["balance"]; len(o.PerRun) != 3 || o.PerRun[1].Left != 1001 || o.PerRun[1].Right != 1001 {
		t.Errorf("balance per run: %+v", o.PerRun)
	}
	if r := got["scales"].Reason; !strings.Contains(r, "needs 4 CPUs") || !strings.Contains(r, "has 2") {
		t.Errorf("scales skipped for %q", r)
	}

	// The relation fails: shm's median above pipe / 10; one run does not
	// balance.
	got = outcomeByID(e.Evaluate(syntheticRecords(t, env, []float64{5000, 6000, 500}, 2), env))
	if o := got["shm-10x"]; o.Status != Fail || !strings.Contains(o.Reason, "5.00 µs < 4.00 µs") {
		t.Errorf("shm-10x: %s %q; want a failure with its figures", o.Status, o.Reason)
	}
	if o := got["balance"]; o.Status != Fail || !strings.Contains(o.Reason, "run 2") {
		t.Errorf("balance: %s %q; want run 2's failure", o.Status, o.Reason)
	}
	// Enough CPUs: evaluated (pipe 1e6 >= 2 × 1e6 fails).
	env8 := testEnv(t, 8)
	if o := outcomeByID(e.Evaluate(syntheticRecords(t, env8, []float64{500, 500, 500}, 0), env8))["scales"]; o.Status != Fail {
		t.Errorf("scales on 8 CPUs: %s %q", o.Status, o.Reason)
	}

	// Another placement skips what holds at split; a case the harness
	// skipped skips what needs it; a missing case fails.
	recs := syntheticRecords(t, env, []float64{500, 500, 500}, 0)
	for i := range recs {
		recs[i].Placement = "same"
		if recs[i].Transport == "pipe" && recs[i].Link == "cap-16-drop" {
			recs[i].Skipped = "kernel.msgmax"
		}
	}
	got = outcomeByID(e.Evaluate(recs, env))
	if o := got["shm-10x"]; o.Status != Skipped || !strings.Contains(o.Reason, "at same") {
		t.Errorf("shm-10x at same: %s %q", o.Status, o.Reason)
	}
	if o := got["balance"]; o.Status != Skipped || !strings.Contains(o.Reason, "kernel.msgmax") {
		t.Errorf("balance on a skipped case: %s %q", o.Status, o.Reason)
	}
	if o := outcomeByID(e.Evaluate(recs[:1], env))["drops"]; o.Status != Fail || !strings.Contains(o.Reason, "no record") {
		t.Errorf("drops with no record: %s %q", o.Status, o.Reason)
	}
}

// writeSyntheticRun writes a run directory as Run does, from synthetic
// records.
func writeSyntheticRun(t *testing.T, recs []record.Record, env *record.Env) (string, *Experiment) {
	t.Helper()
	return writeRun(t, synthetic, recs, env)
}

// writeRun writes a run directory of the experiment src with recs, as
// Run leaves it.
func writeRun(t *testing.T, src string, recs []record.Record, env *record.Env) (string, *Experiment) {
	t.Helper()
	e, err := Parse([]byte(src), "experiment.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ExperimentFile), e.Source, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := record.WriteJSONL(filepath.Join(dir, record.RecordsFile), recs); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Schema: ManifestSchema, Experiment: e.Name, Commit: env.Commit, Env: *env,
		Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Finished: time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)}
	if _, err := finish(dir, e, m, recs, nil); err != nil {
		t.Fatal(err)
	}
	return dir, e
}

// copyEdited copies a run directory with every old in file name
// replaced by new.
func copyEdited(t *testing.T, dir, name, old, new string) string {
	t.Helper()
	d := t.TempDir()
	for _, f := range []string{ExperimentFile, record.RecordsFile, ExpectationsFile, ManifestFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == name {
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s has no %q", f, old)
			}
			b = []byte(strings.ReplaceAll(string(b), old, new))
		}
		os.WriteFile(filepath.Join(d, f), b, 0o644)
	}
	return d
}

// TestCheckFindsTampering: an intact directory passes; a figure edited
// in the records, an outcome edited to pass, a record from elsewhere and
// impossible figures are each found.
func TestCheckFindsTampering(t *testing.T) {
	env := testEnv(t, 2)
	recs := syntheticRecords(t, env, []float64{500, 500, 500}, 0)
	dir, _ := writeSyntheticRun(t, recs, env)
	c, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK() {
		t.Fatalf("an intact run: %+v", c.Problems)
	}

	edit := func(name, old, new string) string {
		t.Helper()
		return copyEdited(t, dir, name, old, new)
	}
	expectProblem := func(d, kind, text string) {
		t.Helper()
		c, err := Check(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range c.Problems {
			if p.Kind == kind && strings.Contains(p.Detail, text) {
				return
			}
		}
		t.Errorf("want a %s problem saying %q; got %+v", kind, text, c.Problems)
	}
	// A p50 made ten times better by hand.
	expectProblem(edit(record.RecordsFile, `"p50_ns":500`, `"p50_ns":50`), "integrity", record.RecordsFile+" differs")
	// A failed relation turned into a pass by editing the records.
	slow, _ := writeSyntheticRun(t, syntheticRecords(t, env, []float64{5000, 5000, 5000}, 0), env)
	expectProblem(copyEdited(t, slow, record.RecordsFile, `"p50_ns":5000,`, `"p50_ns":500,`), "expectation", "shm-10x: the run says fail")
	// An outcome turned into a pass.
	expectProblem(edit(ExpectationsFile, `"status": "skipped"`, `"status": "pass"`), "expectation", "scales")
	// The manifest's environment changed after the run.
	expectProblem(edit(ManifestFile, `"num_cpu": 2`, `"num_cpu": 8`), "integrity", "environment")

	// Impossible figures, sealed as if measured so.
	bad := syntheticRecords(t, env, []float64{40, 500, 500}, 0) // 40 ns: below the floor
	bad[1].MBPerSec = 2e5                                       // pipe throughput, run 1
	bad[1].MsgsPerSec = bad[1].MBPerSec * 1e6 / 64
	bad[0].Receiver = record.Cost{} // no CPU
	d, _ := writeSyntheticRun(t, bad, env)
	for _, want := range []string{"below half the machine's cache-line", "above memory bandwidth", "receiver used no CPU", "messages/s is more than"} {
		expectProblem(d, "implausible", want)
	}
	// Another commit's record mixed in.
	other := *env
	other.Commit = "fff999"
	mixed := syntheticRecords(t, env, []float64{500, 500, 500}, 0)
	mixed[4].Env = &other
	d, _ = writeSyntheticRun(t, mixed, env)
	expectProblem(d, "integrity", "commit fff999")
}

// TestAnswersAndReport: answers by question id, a typo refused, and the
// report, in Markdown and HTML, carrying the environment, each
// expectation with its verdict and figures, and the digest.
func TestAnswersAndReport(t *testing.T) {
	e, err := Load("capacity")
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAnswers([]byte("Nombre: Ana\n## q1\nDos mensajes.\n\n## q3: bloquear\nDepende.\n"), e)
	if err != nil || a["q1"] != "Dos mensajes." || a["q3"] != "Depende." || a["q2"] != "" {
		t.Fatalf("answers %q, %v", a, err)
	}
	if _, err := ParseAnswers([]byte("## q9\nx\n"), e); err == nil || !strings.Contains(err.Error(), "q1, q2, q3") {
		t.Fatalf("an unknown id: %v", err)
	}

	env := testEnv(t, 2)
	dir, _ := writeSyntheticRun(t, syntheticRecords(t, env, []float64{500, 500, 500}, 0), env)
	ans := filepath.Join(t.TempDir(), "answers.md")
	os.WriteFile(ans, []byte("## q1\nPorque la memoria compartida no duerme.\n"), 0o644)
	if _, err := BuildReport(dir, "es", ans); err == nil {
		t.Fatal("answers to questions the synthetic experiment does not have were accepted")
	}
	r, err := BuildReport(dir, "es", "")
	if err != nil {
		t.Fatal(err)
	}
	md, page := writeReport(t, r)
	for _, want := range []string{"# Informe de laboratorio", "## Entorno", "abc123", "## Expectativas", "| shm-10x |", "500 ns &lt; 4.00 µs",
		"| cumple |", "| omitida |", "needs 4 CPUs", "## Integridad", r.Manifest.Digest, "La comprobación no encuentra problemas."} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, want := range []string{`<html lang="es">`, "<h2>Entorno</h2>", "<td>abc123</td>", "<td>shm-10x</td>", "500 ns &lt; 4.00 µs",
		"<td>cumple</td>", "<td>omitida</td>", "needs 4 CPUs", r.Manifest.Digest} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, o := range r.Outcomes {
		if !strings.Contains(page, "<td>"+o.ID+"</td>") {
			t.Errorf("report.html has no row for %s", o.ID)
		}
	}
	// Writing the report changes nothing the digest covers.
	if c, err := Check(dir); err != nil || !c.OK() {
		t.Fatalf("after the report: %v %+v", err, c.Problems)
	}
}
