package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/record"
)

// A run directory holds everything a run is: records, the CSV, the
// summary as text and Markdown, the benchmark-format file and a manifest
// that lists them, the command line and the options in force; stdout has
// the chosen format, and stderr, not a terminal here, a plain line per
// finished case.
func TestBenchRunDirectoryIsComplete(t *testing.T) {
	dir := t.TempDir()
	args := quickBench("-transports", "pipe,sysvmsg", "-testing-fail", "sysvmsg raw 64 B throughput", "-format", "csv", "-out", dir)
	out, errOut, code := runCLI(t, "", args...)
	if code != 1 {
		t.Fatalf("exit %d (want 1: one case fails on purpose): %s", code, errOut)
	}
	recs, err := record.ReadJSONL(filepath.Join(dir, record.RecordsFile))
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}

	// stdout: the records as CSV, nothing else.
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != len(recs)+1 || !slices.Equal(rows[0], record.CSVHeader) {
		t.Fatalf("-format csv: %d rows, %v:\n%s", len(rows), err, out)
	}
	if csvFile, _ := os.ReadFile(filepath.Join(dir, "results.csv")); string(csvFile) != out {
		t.Error("-format csv prints other than results.csv")
	}

	// stderr: a line per finished case, the failure, no terminal codes.
	for _, want := range []string{"[1/4] run 1 pipe raw 64 B latency go: round trip p50 ", "[2/4] run 1 pipe raw 64 B throughput go: ",
		"[3/4] run 1 sysvmsg raw 64 B latency go: ", "ipclab bench: run 1 sysvmsg raw 64 B throughput go failed, going on: "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.ContainsAny(errOut, "\r\033") {
		t.Errorf("terminal codes on a stderr that is not a terminal: %q", errOut)
	}

	m, err := record.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Command) != len(args)+1 || !slices.Equal(m.Command[1:], args) {
		t.Errorf("manifest command %q, want the command line %q", m.Command, args)
	}
	if m.Options["transports"] != "pipe,sysvmsg" || m.Options["out"] != dir || m.Options["count"] != "200" || m.Options["pin"] != "none" {
		t.Errorf("manifest options %v", m.Options)
	}
	if m.Cases != (record.CaseCount{Planned: 4, Finished: 3, Failed: 1}) || m.Interrupted || m.End.Before(m.Start) || m.Start.IsZero() {
		t.Errorf("manifest cases %+v, interrupted %v, %v..%v", m.Cases, m.Interrupted, m.Start, m.End)
	}
	if !strings.HasPrefix(m.Version, "ipclab ") || m.Commit == "" {
		t.Errorf("manifest version %q commit %q", m.Version, m.Commit)
	}
	spec, _ := json.Marshal(m.Spec)
	var sp struct {
		Transports []string
		Runs       int
		Count      int
		Links      []string
	}
	if err := json.Unmarshal(spec, &sp); err != nil || !slices.Equal(sp.Transports, []string{"pipe", "sysvmsg"}) || sp.Runs != 1 || sp.Count != 200 || !slices.Equal(sp.Links, []string{"raw"}) {
		t.Errorf("manifest spec %s (%v)", spec, err)
	}
	for _, f := range []string{record.RecordsFile, record.FailuresFile, "results.csv", "summary.txt", "summary.md", "results.bench",
		"latency_vs_size.png", record.ManifestFile} {
		if !slices.Contains(m.Files, f) {
			t.Errorf("manifest files %q lack %s", m.Files, f)
		}
	}
	for _, f := range m.Files {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s, in the manifest: %v", f, err)
		}
	}
	for _, r := range recs {
		if r.Env == nil || !slices.Equal(r.Env.Command, m.Command) || !reflect.DeepEqual(r.Env.Options, m.Options) {
			t.Errorf("record env: command %q options %v; the manifest has %q %v", r.Env.Command, r.Env.Options, m.Command, m.Options)
			break
		}
	}

	// Each file is its format of the records, and plot -summary -format
	// prints it again from the directory.
	fails, err := record.ReadFailures(dir)
	if err != nil {
		t.Fatal(err)
	}
	for format, file := range map[string]string{"table": "summary.txt", "markdown": "summary.md", "benchfmt": "results.bench", "csv": "results.csv"} {
		var b bytes.Buffer
		if err := writeFormat(&b, format, recs, fails); err != nil {
			t.Fatal(err)
		}
		if want, _ := os.ReadFile(filepath.Join(dir, file)); b.String() != string(want) {
			t.Errorf("%s is not the %s format of the records:\n%s", file, format, want)
		}
	}
	got, errOut, code := runCLI(t, "", "plot", "-summary", "-format", "markdown", dir)
	if want, _ := os.ReadFile(filepath.Join(dir, "summary.md")); code != 0 || got != string(want) {
		t.Errorf("plot -summary -format markdown (exit %d, %s) differs from summary.md:\n%s", code, errOut, got)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	bf, _ := os.ReadFile(filepath.Join(dir, "results.bench"))
	if !strings.Contains(string(md), "### LATENCY (round trip)\n\n| transport | size |") || !strings.Contains(string(md), "FAILED") {
		t.Errorf("summary.md:\n%s", md)
	}
	if !strings.Contains(string(bf), "\nplacement: none\n") || !strings.Contains(string(bf), "\nBenchmarkIPC/transport=pipe/link=raw/size=64/mode=latency/impl=go") {
		t.Errorf("results.bench:\n%s", bf)
	}

	if _, errOut, code := runCLI(t, "", "bench", "-format", "benchstat"); code != 2 || !strings.Contains(errOut, "did you mean benchfmt?") {
		t.Errorf("-format benchstat: exit %d, %q", code, errOut)
	}
}
