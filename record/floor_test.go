package record

import (
	"encoding/json"
	"strings"
	"testing"
)

// A shared-memory latency case is shown against the cache-line round trip
// measured at its own placement; other transports and a run without a
// floor get no such table.
func TestFloorTable(t *testing.T) {
	fl, _ := json.Marshal(map[string]any{"pairs": []map[string]any{
		{"placement": "same", "cacheline": map[string]any{"p50_ns": 900}},
		{"placement": "split", "cacheline": map[string]any{"p50_ns": 150}},
	}})
	env := &Env{Floor: fl}
	rec := func(tr string, shm bool, p50 float64) Record {
		return Record{Transport: tr, Impl: ImplGo, Mode: Latency, Link: RawLink, Size: 64, Placement: "split",
			SharedMemory: shm, RTT: &Summary{P50: p50}, Env: env}
	}
	recs := []Record{rec("sysvshm-spin", true, 300), rec("sysvshm-spin", true, 330), rec("sysvshm-spin", true, 360), rec("pipe", false, 40000)}
	var b strings.Builder
	WriteSummary(&b, recs, nil)
	var row string
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "sysvshm-spin") && strings.HasSuffix(line, "2.2") {
			row = line
		}
	}
	if f := strings.Fields(row); len(f) != 7 || f[3] != "go" || f[4] != "330ns" || f[5] != "150ns" {
		t.Fatalf("no floor row of 330 ns over 150 ns = 2.2x in\n%s", b.String())
	}
	if strings.Contains(b.String(), "pipe  64 B  go") {
		t.Errorf("a pipe case against the cache-line floor:\n%s", b.String())
	}
	env.Floor = nil
	b.Reset()
	WriteSummary(&b, recs, nil)
	if strings.Contains(b.String(), "floor") {
		t.Errorf("a floor table without a floor:\n%s", b.String())
	}
}
