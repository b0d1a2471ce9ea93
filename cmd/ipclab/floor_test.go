package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/floor"
	"github.com/ipclab/ipclab/record"
)

func TestFloorJSON(t *testing.T) {
	out, errOut, code := runCLI(t, "", "floor", "-time", "200ms", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var f floor.Floor
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if len(f.Pairs) == 0 || f.BudgetNs != 200e6 {
		t.Fatalf("no pairs or wrong budget: %s", out)
	}
	if last := f.Pairs[len(f.Pairs)-1]; last.Placement != "same" || !last.Topology.SameCPU {
		t.Errorf("the default -pin both ends with same: %+v", last)
	}
	for _, p := range f.Pairs {
		for _, rt := range []floor.RoundTrip{p.CacheLine, p.Futex, p.Pipe} {
			if !(rt.MinNs > 0 && rt.MinNs <= rt.P50Ns && rt.P50Ns <= rt.P99Ns) || rt.Samples == 0 {
				t.Errorf("%s: %+v", p.Placement, rt)
			}
		}
	}
}

func TestFloorText(t *testing.T) {
	out, errOut, code := runCLI(t, "", "floor", "-pin", "same", "-time", "60ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"machine: ", "same: CPU ", "cache line", "futex", "pipe", "p50", "sched_yield"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestFloorBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		say  string
	}{
		{[]string{"-pin", "0,99999"}, "CPU 99999 is not one this process may use"},
		{[]string{"-pin", "left"}, "want split, same, both"},
		{[]string{"-time", "1ms"}, "minimum"},
	} {
		_, errOut, code := runCLI(t, "", append([]string{"floor"}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.say) {
			t.Errorf("floor %v: exit %d, stderr %q; want an error saying %q", c.args, code, errOut, c.say)
		}
	}
}

// TestBenchRecordsFloor: a run with a shared-memory transport carries the
// floor in every record's environment and prints it in one line; a run
// without one measures no floor.
func TestBenchRecordsFloor(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI(t, "", quickBench("-modes", "latency", "-transports", "pipe,sysvshm-spin", "-pin", "same",
		"-floor-time", "60ms", "-out", dir, noFigureFiles)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "floor, p50 round trips: same (CPU ") {
		t.Errorf("the summary does not give the floor:\n%s", out)
	}
	recs, err := record.ReadJSONL(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	for _, r := range recs {
		if r.Env == nil || r.Env.Floor == nil || r.Env.FloorError != "" {
			t.Fatalf("%s: no floor in the environment: %+v", r.Transport, r.Env)
		}
		var f floor.Floor
		if err := json.Unmarshal(r.Env.Floor, &f); err != nil {
			t.Fatalf("%s: floor: %v", r.Transport, err)
		}
		if len(f.Pairs) != 1 || f.Pairs[0].Placement != "same" || !(f.Pairs[0].CacheLine.P50Ns > 0) {
			t.Errorf("%s: floor %+v, want one pair at placement same", r.Transport, f)
		}
	}

	out, errOut, code = runCLI(t, "", quickBench("-modes", "latency", "-transports", "pipe", "-json", "-out", t.TempDir(), noFigureFiles)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, `"floor"`) || strings.Contains(out, "floor_error") {
		t.Errorf("a run without shared memory measured a floor:\n%s", out)
	}
	if _, errOut, code := runCLI(t, "", quickBench("-floor-time", "1ms")...); code == 0 || !strings.Contains(errOut, "-floor-time") {
		t.Errorf("-floor-time 1ms: exit %d, %s", code, errOut)
	}
}

// TestBenchCaseFloor: a shared-memory case's record carries the floor
// taken right before it; -case-floor=false takes none.
func TestBenchCaseFloor(t *testing.T) {
	for _, on := range []bool{true, false} {
		dir := t.TempDir()
		_, errOut, code := runCLI(t, "", quickBench("-modes", "latency", "-transports", "sysvshm-futex", "-floor-time", "0",
			fmt.Sprintf("-case-floor=%v", on), "-out", dir, noFigureFiles)...)
		if code != 0 {
			t.Fatalf("-case-floor=%v: exit %d: %s", on, code, errOut)
		}
		recs, err := record.ReadJSONL(filepath.Join(dir, "results.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 {
			t.Fatalf("-case-floor=%v: %d records, want 1", on, len(recs))
		}
		if r := recs[0]; on != (r.FloorRTTNs > 0) || r.FloorRTTError != "" {
			t.Errorf("-case-floor=%v: floor_rtt_ns %v, floor_rtt_error %q", on, r.FloorRTTNs, r.FloorRTTError)
		}
		// The hidden flag this test runs with: no figure files, but the
		// report still draws the figures inline.
		figs, _ := filepath.Glob(filepath.Join(dir, "*.[ps][nv]g"))
		page, err := os.ReadFile(filepath.Join(dir, "report.html"))
		if len(figs) != 0 || err != nil || !strings.Contains(string(page), `<img src="data:image/svg`) {
			t.Errorf("%s: figure files %v; report.html: %v, inline figure %v", noFigureFiles, figs, err, strings.Contains(string(page), `<img src="data:image/svg`))
		}
	}
}
