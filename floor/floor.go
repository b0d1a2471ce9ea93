// Package floor measures what this machine itself costs for the three
// things every IPC figure is built from: moving a cache line between the
// two CPUs in use (an atomic ping-pong over shared memory), waking a
// process through a process-shared futex, and waking it through a pipe.
// Each is a round trip between two real OS processes, each pinned to its
// CPU, so a shared-memory channel's latency can be read as a multiple of
// the machine's floor rather than as an absolute that hides whether the
// two ends were SMT siblings on one core, cores sharing a last-level
// cache, or sockets apart. The pair's topology and whether the machine is
// virtual are recorded beside the figures, for the same reason.
//
// The figures come from Go with ordinary system calls (no runtime
// tricks), which is what ipclab's own transports pay too.
package floor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/internal/peerproc"
)

// Floor is the machine's floor at one or more CPU placements. It is what
// `ipclab floor -json` prints and what a bench run's environment carries.
type Floor struct {
	Virtualization Virtualization `json:"virtualization"`
	Pairs          []Pair         `json:"pairs"`
	// BudgetNs is the total time the measurement was allowed.
	BudgetNs int64 `json:"budget_ns"`
}

// Pair is the floor between two CPUs.
type Pair struct {
	// Placement is "split" (two different CPUs) or "same" (one CPU).
	Placement string   `json:"placement"`
	Topology  Topology `json:"topology"`
	// CacheLine is the round trip of one cache line: each side waits for
	// the other's store and answers with its own.
	CacheLine RoundTrip `json:"cacheline"`
	// Futex is the round trip of a process-shared futex wake-up: each side
	// sleeps in FUTEX_WAIT until the other stores and calls FUTEX_WAKE.
	// A side that sees the answer before it is asleep does not sleep, as
	// in any futex-based wait, so at split the min may be such a trip.
	Futex RoundTrip `json:"futex"`
	// Pipe is the round trip of one byte over a pair of pipes, with
	// blocking read and write.
	Pipe RoundTrip `json:"pipe"`
}

// RoundTrip is the distribution of one kind of round trip, in ns.
type RoundTrip struct {
	// Wait is how a side waits: "spin" (re-reading the line), "yield"
	// (sched_yield between reads, when both ends share a CPU and a spin
	// could never see the answer), "futex" or "read".
	Wait string `json:"wait"`
	// Samples were measured after Warmup round trips. A sample times
	// Batch consecutive round trips and is divided by Batch: a cache-line
	// round trip is short enough that reading the clock around each one
	// would be a large part of what is measured.
	Samples int `json:"samples"`
	Warmup  int `json:"warmup"`
	Batch   int `json:"batch"`
	// MinNs, P50Ns and P99Ns are per round trip; MaxNs too, to show
	// when a few samples (a peer descheduled by other load) took much of
	// the time.
	MinNs float64 `json:"min_ns"`
	P50Ns float64 `json:"p50_ns"`
	P99Ns float64 `json:"p99_ns"`
	MaxNs float64 `json:"max_ns"`
	// Note qualifies the figure, e.g. that a same-CPU cache-line round
	// trip is a pair of context switches, not a cache-line transfer.
	Note string `json:"note,omitempty"`
}

// Options for Measure.
type Options struct {
	// Pin is "split" (the first two CPUs this process may use), "same"
	// (the first one, for both ends), "both" (split then same; the
	// default) or "A,B" (CPUs A and B).
	Pin string
	// Budget bounds the time spent measuring, over all placements and
	// kinds (peer start-up not included); 0 means DefaultBudget.
	Budget time.Duration
	// Sys is the sysfs root for the topology; "" means /sys.
	Sys string

	// onPeer, for tests, is called with each peer once it is ready.
	onPeer func(*peerproc.Proc)
}

// DefaultBudget is the measuring time when Options.Budget is 0.
const DefaultBudget = 3 * time.Second

// MinBudget is the least budget Measure accepts: below it a placement's
// three round trips get too few samples for a p99.
const MinBudget = 30 * time.Millisecond

// placement is one pair of CPUs to measure.
type placement struct {
	name string
	a, b int
}

// parsePin turns Options.Pin into placements, given the CPUs allowed.
func parsePin(pin string, allowed []int) ([]placement, error) {
	if len(allowed) == 0 {
		return nil, errors.New("this process may run on no CPU")
	}
	split := func() (placement, error) {
		if len(allowed) < 2 {
			return placement{}, fmt.Errorf("placement split needs two CPUs; this process may use only %v", allowed)
		}
		return placement{"split", allowed[0], allowed[1]}, nil
	}
	same := placement{"same", allowed[0], allowed[0]}
	switch pin {
	case "", "both":
		if p, err := split(); err == nil {
			return []placement{p, same}, nil
		}
		return []placement{same}, nil
	case "split":
		p, err := split()
		return []placement{p}, err
	case "same":
		return []placement{same}, nil
	}
	as, bs, ok := strings.Cut(pin, ",")
	a, errA := strconv.Atoi(strings.TrimSpace(as))
	b, errB := strconv.Atoi(strings.TrimSpace(bs))
	if !ok || errA != nil || errB != nil {
		return nil, fmt.Errorf("bad -pin %q: want split, same, both or two CPU numbers A,B", pin)
	}
	for _, c := range []int{a, b} {
		if !slices.Contains(allowed, c) {
			return nil, fmt.Errorf("bad -pin %q: CPU %d is not one this process may use (%v; see taskset)", pin, c, allowed)
		}
	}
	if a == b {
		return []placement{{"same", a, a}}, nil
	}
	return []placement{{"split", a, b}}, nil
}

// Measure measures the floor at the placements opt.Pin names. It pins this
// process to each pair's first CPU while it measures, and restores its
// CPU mask before returning. Cancelling ctx stops it with ctx's error.
func Measure(ctx context.Context, opt Options) (*Floor, error) {
	budget := opt.Budget
	if budget == 0 {
		budget = DefaultBudget
	}
	if budget < MinBudget {
		return nil, fmt.Errorf("floor budget %v is below the minimum %v", budget, MinBudget)
	}
	sys := opt.Sys
	if sys == "" {
		sys = "/sys"
	}
	allowed, err := cpupin.Allowed()
	if err != nil {
		return nil, err
	}
	places, err := parsePin(opt.Pin, allowed)
	if err != nil {
		return nil, err
	}
	f := &Floor{BudgetNs: int64(budget)}
	if ci, err := os.Open("/proc/cpuinfo"); err == nil {
		f.Virtualization = DetectVirtualization(ci, sys)
		ci.Close()
	} else {
		f.Virtualization = DetectVirtualization(nil, sys)
	}
	restore, err := cpupin.Current()
	if err != nil {
		return nil, err
	}
	defer cpupin.Process(&restore)
	each := budget / time.Duration(3*len(places))
	for _, pl := range places {
		p := Pair{Placement: pl.name, Topology: ReadTopology(sys, pl.a, pl.b)}
		if err := cpupin.ProcessTo(pl.a); err != nil {
			return nil, err
		}
		for _, k := range []struct {
			kind kind
			dst  *RoundTrip
		}{{cacheLine, &p.CacheLine}, {futex, &p.Futex}, {pipe, &p.Pipe}} {
			rt, err := measureOne(ctx, k.kind, pl, each, opt.onPeer)
			if err != nil {
				return nil, fmt.Errorf("%s round trip, %s placement (CPUs %d,%d): %w", k.kind, pl.name, pl.a, pl.b, err)
			}
			*k.dst = rt
		}
		f.Pairs = append(f.Pairs, p)
	}
	return f, nil
}

// quantiles fills the min, p50 and p99 of samples (ns per batch) divided
// by batch. It sorts samples.
func (rt *RoundTrip) quantiles(samples []int64, batch int) error {
	if len(samples) == 0 {
		return errors.New("no samples")
	}
	slices.Sort(samples)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(samples)))) - 1 // nearest rank
		return float64(samples[max(i, 0)]) / float64(batch)
	}
	rt.Samples, rt.Batch = len(samples), batch
	rt.MinNs, rt.P50Ns, rt.P99Ns, rt.MaxNs = float64(samples[0])/float64(batch), at(0.50), at(0.99), at(1)
	if rt.MinNs <= 0 {
		return fmt.Errorf("a round trip took %v ns: the clock did not advance", rt.MinNs)
	}
	return nil
}

// String formats the distribution for a table.
func (rt RoundTrip) String() string {
	return fmt.Sprintf("min %s  p50 %s  p99 %s  (%d samples)", ns(rt.MinNs), ns(rt.P50Ns), ns(rt.P99Ns), rt.Samples)
}

// ns formats a duration in ns with a unit that keeps 3 significant digits.
func ns(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3g ms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3g µs", v/1e3)
	}
	return fmt.Sprintf("%.3g ns", v)
}
