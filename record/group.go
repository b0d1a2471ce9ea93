package record

// Key identifies a case across runs.
type Key struct {
	Transport string
	Link      string
	Size      int
	Mode      string
	Impl      string
	Rate      float64 // load: offered messages/s
	Producers int     // fanin
	Batch     int     // throughput: messages per SendBatch, 0 for single Sends
	Held      bool    // Go ends with held waits (Record.HeldWaits)
}

// KeyOf is the key of a record.
func KeyOf(r Record) Key {
	k := Key{r.Transport, r.Link, r.Size, r.Mode, r.Impl, r.OfferedRate, r.Producers, r.Batch, r.HeldWaits}
	if k.Link == "" {
		k.Link = RawLink
	}
	if k.Impl == "" {
		k.Impl = ImplGo
	}
	return k
}

// Group is the records of one case over runs.
type Group struct {
	Key
	Records []Record
}

// Skipped is why the case was skipped in every run ("" if it was
// measured in any: a load rate can saturate in one run and not another).
func (g *Group) Skipped() string {
	for _, r := range g.Records {
		if r.Skipped == "" {
			return ""
		}
	}
	return g.Records[0].Skipped
}

// Spread is the median and range of f over the runs that measured it.
func (g *Group) Spread(f func(Record) float64) Spread {
	v := make([]float64, 0, len(g.Records))
	for _, r := range g.Records {
		if r.Skipped == "" {
			v = append(v, f(r))
		}
	}
	return SpreadOf(v)
}

// GroupRecords groups records by case, in the order cases first appear.
func GroupRecords(recs []Record) []*Group {
	var out []*Group
	by := map[Key]*Group{}
	for _, r := range recs {
		k := KeyOf(r)
		g := by[k]
		if g == nil {
			g = &Group{Key: k}
			by[k] = g
			out = append(out, g)
		}
		g.Records = append(g.Records, r)
	}
	return out
}

// Overhead is Go's figure over C's for one mechanism, size and mode,
// from the medians over runs: above 1 Go's latency is longer (P50, P99),
// below 1 its throughput lower (Throughput).
type Overhead struct {
	Key                          // the Go case
	P50, P99, Throughput float64 // 0 where the mode does not have it
}

// Overheads pairs each measured Go case with its C case.
func Overheads(recs []Record) []Overhead { return OverheadsVs(recs, ImplC) }

// OverheadsVs pairs each measured Go case with the case of the C
// baseline impl (ImplC or ImplCPoll).
func OverheadsVs(recs []Record, impl string) []Overhead {
	groups := GroupRecords(recs)
	by := map[Key]*Group{}
	for _, g := range groups {
		by[g.Key] = g
	}
	var out []Overhead
	for _, g := range groups {
		ck := g.Key
		ck.Impl, ck.Held = impl, false // held waits are measured against the same C
		c := by[ck]
		if g.Impl != ImplGo || c == nil || g.Skipped() != "" || c.Skipped() != "" {
			continue
		}
		o := Overhead{Key: g.Key}
		med := func(g *Group, f func(Record) float64) float64 { return g.Spread(f).Median }
		switch g.Mode {
		case Latency:
			p50 := func(r Record) float64 { return r.RTT.P50 }
			p99 := func(r Record) float64 { return r.RTT.P99 }
			o.P50 = med(g, p50) / med(c, p50)
			o.P99 = med(g, p99) / med(c, p99)
		case Throughput:
			mbs := func(r Record) float64 { return r.MsgsPerSec }
			o.Throughput = med(g, mbs) / med(c, mbs)
		}
		out = append(out, o)
	}
	return out
}
