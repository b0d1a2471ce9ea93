package record

import (
	"encoding/json"
	"fmt"
	"slices"
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

// envWithFloor is an environment whose floor has a cache-line round trip
// of p50 ns at placement.
func envWithFloor(t *testing.T, placement string, p50 float64) *Env {
	t.Helper()
	fl, err := json.Marshal(map[string]any{"pairs": []map[string]any{{"placement": placement, "cacheline": map[string]any{"p50_ns": p50}}}})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Floor: fl}
}

// A case is flagged when its own floor is more than twice the run's low
// floor at its placement (here, with few cases, their lowest, or the
// environment's if lower); never without a floor of its own, nor when
// skipped.
func TestSlowSpells(t *testing.T) {
	env := envWithFloor(t, "split", 300) // the run's floor, itself taken in a spell
	rec := func(run int, placement string, mode string, floor float64) Record {
		return Record{Run: run, Transport: "sysvshm-spin", Impl: ImplGo, Mode: mode, Link: RawLink, Size: 4096, Placement: placement,
			SharedMemory: true, FloorRTTNs: floor, Env: env}
	}
	skipped := rec(5, "split", Latency, 900)
	skipped.Skipped = "too big"
	recs := []Record{
		rec(1, "split", Latency, 80),
		rec(2, "split", Latency, 161),    // 2.01x the lowest: flagged
		rec(3, "split", Throughput, 410), // every mode alike
		rec(4, "split", Latency, 160),    // 2x exactly: not more than 2x
		rec(4, "split", Latency, 0),      // no floor of its own
		skipped,                          // not measured
		rec(1, "same", Latency, 3000),    // judged against same's lowest, not split's
		rec(2, "same", Latency, 2000),
		rec(3, "same", Latency, 4100), // 2.05x same's lowest
	}
	var got []string
	for _, s := range SlowSpells(recs) {
		got = append(got, fmt.Sprintf("%d %s %.0f/%.0f", s.Run, s.Case, s.FloorNs, s.LowestNs))
	}
	want := []string{"2 sysvshm-spin 4 KiB latency 161/80", "3 sysvshm-spin 4 KiB throughput 410/80", "3 sysvshm-spin 4 KiB latency 4100/2000"}
	if !slices.Equal(got, want) {
		t.Errorf("slow spells\n%q\nwant\n%q", got, want)
	}

	// The environment's floor counts when it is the lowest.
	low := envWithFloor(t, "split", 70)
	a, b := rec(1, "split", Latency, 150), rec(2, "split", Latency, 145)
	a.Env, b.Env = low, low
	if s := SlowSpells([]Record{a, b}); len(s) != 2 || s[0].LowestNs != 70 {
		t.Errorf("case floors of 150 and 145 ns with env.floor 70 ns: %v, want both flagged against 70 ns", s)
	}
	if s := SlowSpells([]Record{rec(1, "split", Latency, 0), {Run: 2, Transport: "pipe", Placement: "split", Env: env}}); s != nil {
		t.Errorf("records without a floor of their own flagged: %v", s)
	}
}

// With floors of their own, the floor table divides each run by its own
// floor, names the runs taken in a slow spell, and the summary lists
// every flagged case run (throughput too) under SLOW SPELL.
func TestFloorTableOwnFloors(t *testing.T) {
	env := envWithFloor(t, "split", 90)
	rec := func(run int, mode string, p50, floor float64) Record {
		r := Record{Run: run, Transport: "sysvshm-spin", Impl: ImplGo, Mode: mode, Link: RawLink, Size: 64, Placement: "split",
			SharedMemory: true, FloorRTTNs: floor, Env: env}
		if mode == Latency {
			r.RTT = &Summary{P50: p50}
		} else {
			r.MsgsPerSec, r.MBPerSec = p50, p50/1e6*64
		}
		return r
	}
	recs := []Record{
		rec(1, Latency, 400, 80),   // 5x
		rec(2, Latency, 1600, 400), // 4x, in a spell
		rec(3, Latency, 450, 90),   // 5x
		rec(1, Throughput, 3e7, 81),
		rec(2, Throughput, 1e7, 420), // in a spell
		rec(3, Throughput, 3e7, 85),
	}
	var b strings.Builder
	WriteSummary(&b, recs, nil)
	out := b.String()
	var row []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "sysvshm-spin" && strings.HasSuffix(line, "run 2") {
			row = f
		}
	}
	// transport size impl p50 cache-line x-floor "run 2"
	if want := []string{"sysvshm-spin", "64", "B", "go", "450ns", "90ns", "5.0", "run", "2"}; !slices.Equal(row, want) {
		t.Errorf("floor row %q, want %q (each run over its own floor, median 5.0; run 2 in a spell) in\n%s", row, want, out)
	}
	for _, want := range []string{"SLOW SPELL: 2 case run(s)", "run 2 sysvshm-spin 64 B latency: cache-line round trip 400ns before it, 5.0× the low floor, 80ns",
		"run 2 sysvshm-spin 64 B throughput: cache-line round trip 420ns", "floor_rtt_ns"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}

	// No spell: no such column, no such list.
	b.Reset()
	WriteSummary(&b, []Record{recs[0], recs[2]}, nil)
	if out := b.String(); strings.Contains(out, "slow spell") || strings.Contains(out, "SLOW SPELL") {
		t.Errorf("a spell named in a run without one:\n%s", out)
	}
}

// TestSlowSpellsIgnoreALuckyFloor: one case floor far below the rest (a
// lucky draw among hundreds of short measurements) must not make the
// ordinary upper end of the spread a slow spell; a real spell still is.
func TestSlowSpellsIgnoreALuckyFloor(t *testing.T) {
	var recs []Record
	add := func(floor float64) {
		recs = append(recs, Record{Run: len(recs) + 1, Transport: "sysvshm-futex", Impl: ImplGo, Mode: Latency, Link: RawLink, Size: 64,
			Placement: "split", SharedMemory: true, FloorRTTNs: floor})
	}
	for f := 70.0; f < 110; f++ { // the usual spread, 70-109 ns
		add(f)
	}
	add(45)  // one lucky draw
	add(400) // a spell
	var got []float64
	for _, s := range SlowSpells(recs) {
		got = append(got, s.FloorNs)
	}
	if !slices.Equal(got, []float64{400}) {
		t.Errorf("flagged floors %v, want only the spell's 400 ns (floors of 70-109 ns, one of 45 ns, one of 400 ns)", got)
	}
}

// TestRingNote: the summary names each ring size the shared-memory cases
// used and the message sizes it carried, and says nothing without them.
func TestRingNote(t *testing.T) {
	recs := []Record{
		{Transport: "sysvshm-futex", SharedMemory: true, RingBytes: 256 << 10, Size: 64},
		{Transport: "sysvshm-futex", SharedMemory: true, RingBytes: 256 << 10, Size: 64 << 10},
		{Transport: "posixshm-spin", SharedMemory: true, RingBytes: 8 << 20, Size: 1 << 20},
		{Transport: "pipe", Size: 4 << 10},
	}
	want := "shared memory: each direction's ring (ring_bytes) 256 KiB for 64 B to 64 KiB messages, 8 MiB for 1 MiB messages"
	if got := ringNote(recs); got != want {
		t.Errorf("ringNote:\n got %q\nwant %q", got, want)
	}
	if got := ringNote(recs[3:]); got != "" {
		t.Errorf("ringNote without shared memory: %q", got)
	}
	old := []Record{{Transport: "sysvshm-futex", SharedMemory: true, Size: 64}} // before ring_bytes
	if got := ringNote(old); got != "" {
		t.Errorf("ringNote of records without ring_bytes: %q", got)
	}
}
