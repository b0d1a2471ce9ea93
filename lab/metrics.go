package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/floor"
	"github.com/ipclab/ipclab/record"
)

// metric is one figure of a record an expectation can compare.
type metric struct {
	name string
	unit string // "ns", "msgs/s", "MB/s", "" (a count or ratio)
	// fits says whether a case of this kind has the figure at all, so a
	// file asking for a throughput's p50 fails at Load, not after the run.
	fits func(bench.Case) error
	of   func(*record.Record) (float64, error)
}

var errNoLink = errors.New("a raw case has no link counters")

func needMode(modes ...string) func(bench.Case) error {
	return func(c bench.Case) error {
		for _, m := range modes {
			if c.Mode == m {
				return nil
			}
		}
		return fmt.Errorf("a %s case does not have it (it is of mode %v)", c.Mode, modes)
	}
}

func needLink(c bench.Case) error {
	if c.Link.IsRaw() {
		return errNoLink
	}
	return nil
}

func anyCase(bench.Case) error { return nil }

// rtt is a round-trip statistic of a latency case.
func rtt(name string, f func(*record.Summary) float64) metric {
	return metric{name: name, unit: "ns", fits: needMode(bench.Latency), of: func(r *record.Record) (float64, error) {
		if r.RTT == nil {
			return 0, errors.New("the record has no round trips")
		}
		return f(r.RTT), nil
	}}
}

func oneWay(name string, f func(*record.Summary) float64) metric {
	return metric{name: name, unit: "ns", fits: needMode(bench.Latency, bench.Load), of: func(r *record.Record) (float64, error) {
		if r.OneWay == nil {
			return 0, errors.New("the record has no one-way latency")
		}
		return f(r.OneWay), nil
	}}
}

// linkStat is a counter of the sender's (or the receiver's) link.
func linkStat(name string, receiver bool, f func(*record.LinkStats) float64) metric {
	return metric{name: name, fits: needLink, of: func(r *record.Record) (float64, error) {
		s := r.LinkSender
		if receiver {
			s = r.LinkReceiver
		}
		if s == nil {
			return 0, errNoLink
		}
		return f(s), nil
	}}
}

// floorStat is a round trip of the machine's floor measured before the
// run (record.Env.Floor) at the record's placement.
func floorStat(name string, f func(*floor.Pair) float64) metric {
	return metric{name: name, unit: "ns", fits: anyCase, of: func(r *record.Record) (float64, error) {
		if r.Env == nil || len(r.Env.Floor) == 0 {
			why := "the run measured no floor (floor_time = 0s, or no shared-memory transport in the run)"
			if r.Env != nil && r.Env.FloorError != "" {
				why = "the floor could not be measured: " + r.Env.FloorError
			}
			return 0, errors.New(why)
		}
		var fl floor.Floor
		if err := json.Unmarshal(r.Env.Floor, &fl); err != nil {
			return 0, fmt.Errorf("the record's floor: %w", err)
		}
		for i := range fl.Pairs {
			if p := &fl.Pairs[i]; p.Placement == r.Placement || r.Placement == string(bench.PinNone) && p.Placement == string(bench.PinSplit) {
				return f(p), nil
			}
		}
		return 0, fmt.Errorf("the floor has no %s pair", r.Placement)
	}}
}

var metrics = func() map[string]metric {
	list := []metric{
		rtt("p50", func(s *record.Summary) float64 { return s.P50 }),
		rtt("p90", func(s *record.Summary) float64 { return s.P90 }),
		rtt("p99", func(s *record.Summary) float64 { return s.P99 }),
		rtt("min", func(s *record.Summary) float64 { return s.Min }),
		rtt("mean", func(s *record.Summary) float64 { return s.Mean }),
		oneWay("one_way_p50", func(s *record.Summary) float64 { return s.P50 }),
		oneWay("one_way_p99", func(s *record.Summary) float64 { return s.P99 }),
		{name: "msgs_per_sec", unit: "msgs/s", fits: needMode(bench.Throughput, bench.FanIn, bench.Load),
			of: func(r *record.Record) (float64, error) { return r.MsgsPerSec, nil }},
		{name: "mb_per_sec", unit: "MB/s", fits: needMode(bench.Throughput, bench.FanIn),
			of: func(r *record.Record) (float64, error) { return r.MBPerSec, nil }},
		{name: "cpu_ns_per_msg", unit: "ns", fits: anyCase,
			of: func(r *record.Record) (float64, error) { return r.Sender.CPUNsPerMsg + r.Receiver.CPUNsPerMsg, nil }},
		{name: "ctxsw_per_msg", fits: anyCase,
			of: func(r *record.Record) (float64, error) { return r.Sender.CtxSwPerMsg + r.Receiver.CtxSwPerMsg, nil }},
		{name: "order_errors", fits: anyCase, of: func(r *record.Record) (float64, error) { return float64(r.OrderErrors), nil }},
		linkStat("sent", false, func(s *record.LinkStats) float64 { return float64(s.Sent) }),
		linkStat("dropped", false, func(s *record.LinkStats) float64 { return float64(s.Dropped) }),
		linkStat("acked", false, func(s *record.LinkStats) float64 { return float64(s.Acked) }),
		linkStat("credit_waits", false, func(s *record.LinkStats) float64 { return float64(s.CreditWaits) }),
		linkStat("max_in_flight", false, func(s *record.LinkStats) float64 { return float64(s.MaxInFlight) }),
		linkStat("capacity", false, func(s *record.LinkStats) float64 { return float64(s.Capacity) }),
		linkStat("received", true, func(s *record.LinkStats) float64 { return float64(s.Received) }),
		linkStat("lost", true, func(s *record.LinkStats) float64 { return float64(s.Lost) }),
		linkStat("duplicates", true, func(s *record.LinkStats) float64 { return float64(s.Duplicates) }),
		linkStat("reordered", true, func(s *record.LinkStats) float64 { return float64(s.Reordered) }),
		floorStat("floor_cacheline_p50", func(p *floor.Pair) float64 { return p.CacheLine.P50Ns }),
		floorStat("floor_futex_p50", func(p *floor.Pair) float64 { return p.Futex.P50Ns }),
		floorStat("floor_pipe_p50", func(p *floor.Pair) float64 { return p.Pipe.P50Ns }),
	}
	m := map[string]metric{}
	for _, x := range list {
		m[x.name] = x
	}
	return m
}()

// metricNames lists the metrics an expectation can use.
func metricNames() []string {
	var out []string
	for n := range metrics {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
