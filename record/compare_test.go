package record

import "testing"

func latencyRuns(transport string, p50s ...float64) []Record {
	var rs []Record
	for i, v := range p50s {
		rs = append(rs, Record{Schema: SchemaVersion, Run: i + 1, Transport: transport, Impl: "go", Mode: Latency, Link: "raw", Size: 64,
			RTT: &Summary{P50: v, P99: 10 * v}})
	}
	return rs
}

func TestCompare(t *testing.T) {
	old := append(latencyRuns("slowed", 10, 11, 12, 13, 14), latencyRuns("same", 10, 11, 12, 13, 14)...)
	old = append(old, latencyRuns("few", 10, 11, 12)...)
	new := append(latencyRuns("slowed", 20, 21, 22, 23, 24), latencyRuns("same", 10.5, 11.5, 12.5, 9.5, 13.5)...)
	new = append(new, latencyRuns("few", 30, 31, 32)...)
	got := map[string]Delta{}
	for _, d := range Compare(old, new, 0.05) {
		got[d.Transport+" "+d.Metric] = d
	}
	if len(got) != 6 {
		t.Fatalf("%d deltas, want 6 (3 cases x p50, p99): %v", len(got), got)
	}
	if d := got["slowed p50"]; !d.Significant || d.Change < 0.7 || d.Change > 0.9 {
		t.Errorf("slowed: %+v, want a significant +83%%", d)
	}
	if d := got["same p50"]; d.Significant || d.TooFewRuns {
		t.Errorf("same: %+v, want no significant change", d)
	}
	if d := got["few p99"]; d.Significant || !d.TooFewRuns {
		t.Errorf("3 runs against 3: %+v, want too few runs", d)
	}
}
