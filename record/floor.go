package record

import (
	"encoding/json"
	"fmt"
)

// envFloor is what the summary reads of Env.Floor (a floor.Floor as
// JSON): the cache-line round trip at each placement. The measuring
// package owns the full type; the data model needs these fields alone.
type envFloor struct {
	Pairs []struct {
		Placement string `json:"placement"`
		CacheLine struct {
			P50Ns float64 `json:"p50_ns"`
		} `json:"cacheline"`
	} `json:"pairs"`
}

// CacheLineNs is the machine's cache-line round trip (p50, ns) at the
// record's placement, from its environment's floor; false if the run
// measured none there.
func (r Record) CacheLineNs() (float64, bool) {
	if r.Env == nil || len(r.Env.Floor) == 0 {
		return 0, false
	}
	var f envFloor
	if json.Unmarshal(r.Env.Floor, &f) != nil {
		return 0, false
	}
	for _, p := range f.Pairs {
		if p.Placement == r.Placement && p.CacheLine.P50Ns > 0 {
			return p.CacheLine.P50Ns, true
		}
	}
	return 0, false
}

// floorTable shows each shared-memory latency case against the machine's
// floor: its round trip as a multiple of one cache line's round trip
// between the same CPUs, the least any shared-memory message can cost.
// Absolute figures hide whether the two ends shared a core, a cache or a
// socket; the multiple does not. Nil when no such case has a floor.
func floorTable(groups []*Group, names func(*Group) []string, heads func(...string) []string) *Table {
	t := Table{Title: "SHARED MEMORY against this machine's floor (round trip p50, median over 3+ runs)",
		Columns: heads("impl", "p50", "cache line", "x floor")}
	t.Left = len(heads()) - 1 // the names but the size
	for _, g := range groups {
		if g.Mode != Latency || g.Skipped() != "" || len(g.Records) == 0 || !g.Records[0].SharedMemory {
			continue
		}
		line, ok := g.Records[0].CacheLineNs()
		if !ok {
			continue
		}
		p50 := g.Spread(func(r Record) float64 { return r.RTT.P50 })
		x := func(v float64) string { return fmt.Sprintf("%.1f", v/line) }
		t.Rows = append(t.Rows, append(names(g), g.Impl, p50.Value(ns), ns(line), p50.Value(x)))
	}
	if len(t.Rows) == 0 {
		return nil
	}
	t.Notes = []string{"cache line: an atomic ping-pong between the two processes' CPUs (env.floor, ipclab floor)"}
	return &t
}
