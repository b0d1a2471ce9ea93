package record

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
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

// FloorNs is the floor the record is read against: its own, taken right
// before the case (FloorRTTNs), or else its run's (CacheLineNs).
func (r Record) FloorNs() (float64, bool) {
	if r.FloorRTTNs > 0 {
		return r.FloorRTTNs, true
	}
	return r.CacheLineNs()
}

// SlowSpellRatio: a case whose own floor (Record.FloorRTTNs) is more than
// this many times the run's low floor at its placement (lowFloors: the
// lower of the environment's floor and the cases' own floors' 10th
// percentile) was measured during a slow spell: a stretch of seconds in which this
// machine moves a cache line between the two CPUs several times slower
// than usual, and every shared-memory figure with it. On the 2-vCPU VM
// of the reference study the floor is 73-96 ns normally and 400-430 ns
// in a spell: 2 is far from both.
const SlowSpellRatio = 2.0

// SlowSpell is one run of a case measured during a slow spell.
type SlowSpell struct {
	Case     string  `json:"case"` // Key.String of the case
	Run      int     `json:"run"`
	FloorNs  float64 `json:"floor_ns"`  // the case's own floor
	LowestNs float64 `json:"lowest_ns"` // the run's low floor at its placement (lowFloors)
}

func (s SlowSpell) String() string {
	return fmt.Sprintf("run %d %s: cache-line round trip %s before it, %.1f× the low floor, %s",
		s.Run, s.Case, ns(s.FloorNs), s.FloorNs/s.LowestNs, ns(s.LowestNs))
}

// SlowSpellRule says in one line when a case is flagged, and why.
var SlowSpellRule = fmt.Sprintf("a shared-memory case is flagged when the cache-line round trip taken right before it (floor_rtt_ns) is more than %.0f× the run's low floor at its placement (env.floor, or the cases' own floors' 10th percentile if lower): the machine, not the channel, was slow then; read it against its own floor, not beside the other runs",
	SlowSpellRatio)

// lowFloors is the run's low cache-line round trip at each placement in
// recs, what a case's own floor is held against: the lower of the
// environments' floors (each the p50 of a second) and the 10th
// percentile (nearest rank) of the measured cases' own floors (each the
// p50 of a few ms). Not the cases' lowest: the least of hundreds of short
// measurements is their luckiest draw, and twice it can fall inside the
// usual spread, flagging ordinary cases; the 10th percentile is the low
// end of that spread, and stays there while spells are fewer than 9 in
// 10 cases (a run spent in a spell throughout is caught by a lower
// env.floor only).
func lowFloors(recs []Record) map[string]float64 {
	low := map[string]float64{}
	keep := func(placement string, v float64) {
		if l, ok := low[placement]; v > 0 && (!ok || v < l) {
			low[placement] = v
		}
	}
	own := map[string][]float64{}
	seen := map[*Env]bool{} // records of one run share their Env
	for _, r := range recs {
		if r.Skipped == "" && r.FloorRTTNs > 0 {
			own[r.Placement] = append(own[r.Placement], r.FloorRTTNs)
		}
		if r.Env != nil && !seen[r.Env] {
			seen[r.Env] = true
			if v, ok := r.CacheLineNs(); ok {
				keep(r.Placement, v)
			}
		}
	}
	for placement, v := range own {
		slices.Sort(v)
		keep(placement, v[int(math.Ceil(0.1*float64(len(v))))-1])
	}
	return low
}

// inSlowSpell says whether measured record r was taken during a slow
// spell, given the low floors (lowFloors).
func (r Record) inSlowSpell(low map[string]float64) bool {
	l := low[r.Placement]
	return r.Skipped == "" && r.FloorRTTNs > 0 && l > 0 && r.FloorRTTNs > SlowSpellRatio*l
}

// SlowSpells lists the measured records of recs taken during a slow
// spell (SlowSpellRatio), in their order. Records without a floor of
// their own (a run from before bench took one, -case-floor=false, other
// transports) are never flagged.
func SlowSpells(recs []Record) []SlowSpell {
	low := lowFloors(recs)
	var out []SlowSpell
	for _, r := range recs {
		if r.inSlowSpell(low) {
			out = append(out, SlowSpell{Case: KeyOf(r).String(), Run: r.Run, FloorNs: r.FloorRTTNs, LowestNs: low[r.Placement]})
		}
	}
	return out
}

// slowSpellTable lists the slow spells under the summary, nil if none.
func slowSpellTable(recs []Record) *Table {
	spells := SlowSpells(recs)
	if len(spells) == 0 {
		return nil
	}
	// The title is not wrapped: it fits 100 columns with any count.
	t := Table{Title: fmt.Sprintf("SLOW SPELL: %d case run(s) measured while this machine was slow:", len(spells))}
	for _, s := range spells {
		t.Notes = append(t.Notes, "  "+s.String())
	}
	t.Notes = append(t.Notes, "  their figures are the machine's, not the channel's; rule: "+SlowSpellRule)
	return &t
}

// floorTable shows each shared-memory latency case against the machine's
// floor: its round trip as a multiple of one cache line's round trip
// between the same CPUs, the least any shared-memory message can cost.
// Absolute figures hide whether the two ends shared a core, a cache or a
// socket; the multiple does not. Each run is divided by its own floor,
// taken right before it, when it has one (else by its run's), so a run
// measured during a slow spell is set against the machine as it was
// then; a column names such runs. Nil when no such case has a floor.
func floorTable(groups []*Group, names func(*Group) []string, heads func(...string) []string) *Table {
	var all []Record
	for _, g := range groups {
		all = append(all, g.Records...)
	}
	low := lowFloors(all)
	t := Table{Title: "SHARED MEMORY against this machine's floor (round trip p50, median over 3+ runs)",
		Columns: heads("impl", "p50", "cache line", "x floor", "slow spell")}
	t.Left = len(heads()) - 1 // the names but the size
	spells, own := false, false
	for _, g := range groups {
		if g.Mode != Latency || g.Skipped() != "" || len(g.Records) == 0 || !g.Records[0].SharedMemory {
			continue
		}
		var p50s, lines, xs []float64
		var hot []string
		for _, r := range g.Records {
			line, ok := r.FloorNs()
			if r.Skipped != "" || r.RTT == nil || !ok {
				continue
			}
			own = own || r.FloorRTTNs > 0
			p50s, lines, xs = append(p50s, r.RTT.P50), append(lines, line), append(xs, r.RTT.P50/line)
			if r.inSlowSpell(low) {
				hot = append(hot, fmt.Sprint(r.Run))
			}
		}
		if len(xs) == 0 {
			continue
		}
		spell := ""
		switch {
		case len(hot) == 1:
			spell = "run " + hot[0]
		case len(hot) > 1:
			spell = "runs " + strings.Join(hot, ",")
		}
		spells = spells || spell != ""
		x := func(v float64) string { return fmt.Sprintf("%.1f", v) }
		t.Rows = append(t.Rows, append(names(g), g.Impl, SpreadOf(p50s).Value(ns), SpreadOf(lines).Value(ns), SpreadOf(xs).Value(x), spell))
	}
	if len(t.Rows) == 0 {
		return nil
	}
	if !spells { // a column only when some row has something in it
		t.Columns = t.Columns[:len(t.Columns)-1]
		for i := range t.Rows {
			t.Rows[i] = t.Rows[i][:len(t.Rows[i])-1]
		}
	}
	if own {
		t.Notes = []string{"cache line: an atomic ping-pong between the two processes' CPUs, taken right before each case (floor_rtt_ns; ipclab floor); x floor: each run's p50 over its own cache line, median over runs"}
	} else {
		t.Notes = []string{"cache line: an atomic ping-pong between the two processes' CPUs (env.floor, ipclab floor)"}
	}
	if spells {
		t.Notes = append(t.Notes, "slow spell: the runs measured while this machine was slow (listed under SLOW SPELL)")
	}
	return &t
}

// ringNote says how large the shared-memory cases' rings were (each
// direction's, RingBytes), and for which message sizes: the ring is part
// of what a shared-memory figure measures (a producer that runs ahead by
// a whole ring makes its consumer read from further away). "" when no
// record says.
func ringNote(recs []Record) string {
	sizes := map[int][]int{} // ring bytes -> message sizes
	for _, r := range recs {
		if r.SharedMemory && r.RingBytes > 0 && !slices.Contains(sizes[r.RingBytes], r.Size) {
			sizes[r.RingBytes] = append(sizes[r.RingBytes], r.Size)
		}
	}
	if len(sizes) == 0 {
		return ""
	}
	var parts []string
	for _, ring := range slices.Sorted(maps.Keys(sizes)) {
		ms := sizes[ring]
		lo, hi := slices.Min(ms), slices.Max(ms)
		of := SizeLabel(lo)
		if hi != lo {
			of = SizeLabel(lo) + " to " + SizeLabel(hi)
		}
		parts = append(parts, fmt.Sprintf("%s for %s messages", SizeLabel(ring), of))
	}
	return "shared memory: each direction's ring (ring_bytes) " + strings.Join(parts, ", ")
}
