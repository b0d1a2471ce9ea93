package lab

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/ipclab/ipclab/record"
)

// Problem is one thing `ipclab lab check` found wrong with a run
// directory.
type Problem struct {
	Kind   string `json:"kind"` // "integrity", "expectation" or "implausible"
	Detail string `json:"detail"`
}

// CheckResult is what Check found: the problems, and the expectations
// recomputed from the raw records.
type CheckResult struct {
	Manifest   *Manifest
	Experiment *Experiment
	Records    []record.Record
	Failures   []record.Failure
	Outcomes   []Outcome // recomputed
	Problems   []Problem
}

// OK reports whether the directory passed: intact, its expectations as
// recorded, nothing implausible. A failed expectation is the student's
// result, not a problem of the directory.
func (c *CheckResult) OK() bool { return len(c.Problems) == 0 }

func (c *CheckResult) add(kind, format string, a ...any) {
	c.Problems = append(c.Problems, Problem{Kind: kind, Detail: fmt.Sprintf(format, a...)})
}

// Check verifies a lab run directory for the instructor: the digest over
// records, environment, commit and experiment; every record's
// environment against the manifest's; the expectations recomputed from
// the raw records against those written at run time; and figures no
// machine produces. It returns an error only when the directory cannot
// be read at all.
func Check(dir string) (*CheckResult, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	c := &CheckResult{Manifest: m}
	files, digest, err := computeDigest(dir, m)
	if err != nil {
		return nil, err
	}
	if digest != m.Digest {
		changed := 0
		for i, f := range files {
			if i < len(m.Files) && f != m.Files[i] {
				changed++
				c.add("integrity", "%s differs from the run's (sha256 %s at the run, %s now)", f.Name, short(m.Files[i].SHA256), short(f.SHA256))
			}
		}
		if changed == 0 {
			c.add("integrity", "the manifest's environment, commit or times differ from those the digest was made over")
		}
	}
	src, err := os.ReadFile(filepath.Join(dir, ExperimentFile))
	if err != nil {
		return nil, err
	}
	if c.Experiment, err = Parse(src, ExperimentFile); err != nil {
		c.add("integrity", "the experiment cannot be read: %v", err)
		return c, nil
	}
	if c.Records, err = record.ReadJSONL(filepath.Join(dir, record.RecordsFile)); err != nil {
		c.add("integrity", "records: %v", err)
		return c, nil
	}
	if c.Failures, err = record.ReadFailures(dir); err != nil {
		c.add("integrity", "failures: %v", err)
	}
	envJSON, _ := json.Marshal(m.Env)
	for i := range c.Records {
		r := &c.Records[i]
		if r.Env == nil {
			c.add("integrity", "record %d (%s) has no environment", i+1, caseName(r))
			continue
		}
		if b, _ := json.Marshal(r.Env); string(b) != string(envJSON) {
			c.add("integrity", "record %d (%s) was measured in another environment than the run's (commit %s, kernel %s)", i+1, caseName(r), r.Env.Commit, r.Env.Kernel)
		}
	}
	c.Outcomes = c.Experiment.Evaluate(c.Records, &m.Env)
	c.compareOutcomes(dir)
	for i := range c.Records {
		for _, p := range implausible(&c.Records[i]) {
			c.add("implausible", "%s: %s", caseName(&c.Records[i]), p)
		}
	}
	return c, nil
}

// compareOutcomes compares the recomputed outcomes with those the run
// wrote.
func (c *CheckResult) compareOutcomes(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, ExpectationsFile))
	if err != nil {
		c.add("integrity", "%v", err)
		return
	}
	var stored []Outcome
	if err := json.Unmarshal(b, &stored); err != nil {
		c.add("integrity", "%s: %v", ExpectationsFile, err)
		return
	}
	byID := map[string]Outcome{}
	for _, o := range stored {
		byID[o.ID] = o
	}
	for _, o := range c.Outcomes {
		s, ok := byID[o.ID]
		switch {
		case !ok:
			c.add("expectation", "%s: not in %s", o.ID, ExpectationsFile)
		case s.Status != o.Status || !same(s.Left, o.Left) || !same(s.Right, o.Right):
			c.add("expectation", "%s: the run says %s (%s %s %s), the records say %s (%s %s %s)", o.ID,
				s.Status, fmtValue(s.Left, s.Unit), s.Op, fmtValue(s.Right, s.Unit),
				o.Status, fmtValue(o.Left, o.Unit), o.Op, fmtValue(o.Right, o.Unit))
		}
		delete(byID, o.ID)
	}
	for id := range byID {
		c.add("expectation", "%s: in %s but not in the experiment", id, ExpectationsFile)
	}
}

func same(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(none)"
	}
	return h
}

func caseName(r *record.Record) string {
	s := fmt.Sprintf("run %d %s %s %s %s", r.Run, r.Transport, r.Link, record.SizeLabel(r.Size), r.Mode)
	if r.Producers > 0 {
		s += fmt.Sprintf(" %d producers", r.Producers)
	}
	return s
}

// Bounds of figures no machine this lab runs on produces.
const (
	// minRoundTripNs: a round trip between two processes moves at least
	// two cache lines between cores (or two context switches on one);
	// used when the run measured no floor.
	minRoundTripNs = 50
	// maxMBPerSec: 100 GB/s is above the memory bandwidth one core can
	// copy at (every byte is written by one process and read by the
	// other), by a wide margin for any machine of this class.
	maxMBPerSec = 100_000
)

// implausible lists what is impossible in a measured record.
func implausible(r *record.Record) []string {
	if r.Skipped != "" {
		return nil
	}
	var out []string
	bad := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if s := r.RTT; s != nil {
		if !(s.Min <= s.P50 && s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max) {
			bad("round-trip quantiles out of order (min %.0f, p50 %.0f, p90 %.0f, p99 %.0f, max %.0f ns)", s.Min, s.P50, s.P90, s.P99, s.Max)
		}
		// record.RTTSamples of Count; Count in records made before the
		// echo timed only some arrivals (record.OneWayEvery).
		if s.N != record.RTTSamples(r.Count) && s.N != r.Count {
			bad("%d round-trip samples for a count of %d (want %d)", s.N, r.Count, record.RTTSamples(r.Count))
		}
		floor, what := minRoundTripNs*1.0, fmt.Sprintf("%d ns, below any round trip between two processes", minRoundTripNs)
		if f, err := metrics["floor_cacheline_p50"].of(r); err == nil && f > 0 {
			// Half the floor's median: its own spread, and a batch
			// of round trips averaged, stay well above that.
			floor, what = f/2, fmt.Sprintf("half the machine's cache-line round trip (%.0f ns)", f)
		}
		if s.P50 < floor {
			bad("round-trip p50 %.0f ns is below %s", s.P50, what)
		}
	}
	if r.MBPerSec > maxMBPerSec {
		bad("%.0f MB/s is above memory bandwidth (%d MB/s)", r.MBPerSec, maxMBPerSec)
	}
	if r.MsgsPerSec > 0 && r.Size > 0 && r.Mode != record.Load {
		if want := r.MsgsPerSec * float64(r.Size) / 1e6; !near(r.MBPerSec, want, 0.01) {
			bad("%.1f MB/s does not match %.0f messages/s of %d B (%.1f MB/s)", r.MBPerSec, r.MsgsPerSec, r.Size, want)
		}
	}
	if r.Mode == record.Throughput && r.ElapsedNs > 0 && r.Count > 0 {
		// At most every message counted was delivered (a drop link
		// delivers fewer).
		if most := float64(r.Count) / (float64(r.ElapsedNs) / 1e9); r.MsgsPerSec > most*1.01 {
			bad("%.0f messages/s is more than %d messages in %.3f ms", r.MsgsPerSec, r.Count, float64(r.ElapsedNs)/1e6)
		}
	}
	if r.Count > 0 && r.Impl == record.ImplGo {
		for _, side := range []struct {
			name string
			c    record.Cost
		}{{"sender", r.Sender}, {"receiver", r.Receiver}} {
			if side.name == "sender" && r.Mode == record.FanIn {
				continue // the producers' costs are not recorded (bench/fanin.go)
			}
			if side.c.UserNs+side.c.SysNs == 0 {
				bad("the %s used no CPU time for %d messages", side.name, r.Count)
			}
		}
	}
	return out
}

func near(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-9)
}
