package bench

import (
	"context"

	"github.com/ipclab/ipclab/bench/cbaseline"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/transports"
)

// Modes of measurement, named as records name them.
const (
	Latency    = record.Latency    // ping-pong: round trips, and one-way from timestamps
	Throughput = record.Throughput // one-way streaming, every byte checksummed by the receiver
	Load       = record.Load       // open loop: one way at fixed rates, latency from each intended send time
	FanIn      = record.FanIn      // N producers into one consumer; Spec.Producers are their counts
)

// A mode is one kind of measurement: the cases it makes of a run,
// transport, link and size, how many messages each case sends, and how
// one Go case runs. (C cases run in runCCase, beside their Go case.)
type mode interface {
	cases(s Spec, base Case) []Case
	counts(s Spec, c Case) (count, warm int)
	run(ctx context.Context, s Spec, c Case) (record.Record, error)
}

var modes = map[string]mode{Latency: latency{}, Throughput: throughput{}, Load: load{}, FanIn: fanin{}}

// withC is base, its held-waits case (Spec.Held) where the transport has
// them, and its C cases when the C baseline has the mechanism (the second,
// waiting in ppoll, with Spec.CPoll where it has a descriptor); all but
// base only for a case with no link.
func withC(s Spec, base Case) []Case {
	cs := []Case{base}
	if s.Held && capsOf(base.Transport).HeldWaits && base.Link.IsRaw() {
		h := base
		h.Held = true
		cs = append(cs, h)
	}
	if mech := capsOf(base.Transport).CMechanism; mech != "" && s.CProgram != "" && base.Link.IsRaw() {
		c := base
		c.Impl = record.ImplC
		cs = append(cs, c)
		if s.CPoll && cbaseline.Polls(mech) {
			c.Impl = record.ImplCPoll
			cs = append(cs, c)
		}
	}
	return cs
}

// latency is the ping-pong: the sender times each round trip.
type latency struct{}

func (latency) cases(s Spec, base Case) []Case { return withC(s, base) }

func (latency) counts(s Spec, c Case) (int, int) { return s.Count, max(s.Count/10, 1) }

func (latency) run(ctx context.Context, s Spec, c Case) (record.Record, error) {
	return s.runPair(ctx, c, pingPong)
}

// throughput streams one way; the receiver checksums every byte.
type throughput struct{}

func (throughput) cases(s Spec, base Case) []Case {
	cs := withC(s, base)
	if s.Batch > 0 && capsOf(base.Transport).Batch && base.Link.IsRaw() {
		b := base
		b.Batch = s.Batch
		cs = append(cs, b)
	}
	return cs
}

func (throughput) counts(s Spec, c Case) (int, int) {
	count := min(max(s.Bytes/max(c.Size, 1), 500), 20000)
	return count, max(count/10, 1)
}

func (throughput) run(ctx context.Context, s Spec, c Case) (record.Record, error) {
	return s.sizedByTime(c, func(c Case) (record.Record, error) { return s.runPair(ctx, c, stream) })
}

// load sends one way at each offered rate (load.go).
type load struct{}

func (load) cases(s Spec, base Case) []Case {
	var cs []Case
	for _, rate := range s.Rates {
		c := base
		c.Rate = rate
		cs = append(cs, c)
	}
	return cs
}

func (load) counts(s Spec, c Case) (int, int) { return loadCounts(c.Rate) }

func (load) run(ctx context.Context, s Spec, c Case) (record.Record, error) {
	return s.runPair(ctx, c, openLoop)
}

// fanin sends from N producers into one consumer (fanin.go), raw only.
type fanin struct{}

func (fanin) cases(s Spec, base Case) []Case {
	if capsOf(base.Transport).FanIn == transports.NoFanIn || !base.Link.IsRaw() {
		return nil
	}
	var cs []Case
	for _, n := range s.Producers {
		c := base
		c.Producers = n
		cs = append(cs, c)
	}
	return cs
}

func (fanin) counts(Spec, Case) (int, int) { return 40000, 0 }

func (fanin) run(ctx context.Context, s Spec, c Case) (record.Record, error) {
	if err := s.injectedFailure(c); err != nil {
		return s.newRecord(c), err
	}
	return s.runFanIn(ctx, c)
}
