package bench

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ipclab/ipclab/floor"
	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/transports"
)

// Spec is what to measure. A zero field takes DefaultSpec's value.
type Spec struct {
	Transports []string // bare names of the transport table (transports.Distinct)
	// Links are the link modes; empty means raw only.
	Links     []link.Mode
	Sizes     []int
	Modes     []string // Latency, Throughput, Load, FanIn
	Runs      int
	Placement Placement
	// Rates are the offered loads of the load mode (messages/s), run in
	// order until one is not achieved.
	Rates []float64
	// Producers are the fan-in mode's producer counts.
	Producers []int
	// Count is the measured round trips of a latency case.
	Count int
	// StreamTime is how long a throughput case streams: a short pilot
	// stream measures the rate, and the case sends as many messages as
	// take about this long at that rate (at least 500). Negative: stream
	// Bytes instead, whatever time it takes.
	StreamTime time.Duration
	// Batch, when above 0, adds to every raw throughput case of a
	// transport that can send in batches (ipclab.BatchSender) a case that
	// sends Batch messages per call: the tuned figure beside the
	// idiomatic one-Send-per-message figure.
	Batch int
	// Held adds to every raw latency and throughput case of a transport
	// whose ends can hold their waits (ipclab.WaitHolder) a case where
	// both Go ends do: the tuned figure beside the default's.
	Held bool
	// Bytes is the volume streamed per throughput case when StreamTime
	// is negative, within 500..20,000 messages.
	Bytes int
	// CaseTimeout bounds one case.
	CaseTimeout time.Duration
	// CaseFloor is how long the machine's cache-line round trip is
	// measured right before each shared-memory case, Go and C, for the
	// case's record (floor_rtt_ns): it shows a case measured during a slow
	// spell of the machine. Negative: not at all.
	CaseFloor time.Duration
	// CProgram is the built C baseline (package bench/cbaseline); when
	// set, every raw latency and throughput case whose transport has a C
	// counterpart is measured twice, Go then C, recorded as impl "go" and
	// "c".
	CProgram string
	// CPoll, with CProgram, measures those of the cases whose mechanism
	// has a descriptor (cbaseline.Polls) a third time, by the C baseline
	// waiting in ppoll as the Go ends do, recorded as impl "c-poll".
	CPoll bool
	// Delay, for testing the analysis only, adds a busy wait of the given
	// length before every measured Go send of a transport; records say so
	// (injected_delay_ns). It is how a deliberately slowed case is made
	// to check that ipclab compare finds it.
	Delay map[string]time.Duration
	// FailCases, for testing the harness only, makes every case whose
	// name (Case.String) contains one of these strings fail with
	// ErrInjected: a Go case once its peer runs, so it is torn down as on
	// any error midway.
	FailCases []string
	// Progress, if set, is told before each case.
	Progress func(done, total int, c Case)
}

// DefaultSizes are the message sizes of a default run.
var DefaultSizes = []int{8, 64, 512, 4 << 10, 32 << 10, 64 << 10}

// DefaultRates are the offered loads of the load mode, in messages per
// second, until a transport saturates.
var DefaultRates = []float64{1e3, 1e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6}

// DefaultProducers are the fan-in's producer counts.
var DefaultProducers = []int{1, 2, 4, 8}

// DefaultSpec is what `ipclab bench` measures without flags: every
// transport, raw, latency and throughput, five interleaved runs.
func DefaultSpec() Spec {
	return Spec{
		Transports: transports.Distinct(),
		Links:      []link.Mode{link.Raw},
		Sizes:      DefaultSizes,
		Modes:      []string{Latency, Throughput},
		Runs:       5, // enough for compare to call a change significant
		Placement:  PinNone,
		Rates:      DefaultRates,
		Producers:  DefaultProducers,
		Count:      5000,
		Bytes:      16 << 20,
		// Long enough that process start, the first page faults and one
		// scheduler tick are a few percent of it, short enough that a
		// default run of every transport stays within minutes.
		StreamTime:  200 * time.Millisecond,
		CaseTimeout: time.Minute,
		CaseFloor:   DefaultCaseFloor,
	}
}

// withDefaults fills the zero fields from DefaultSpec.
func (s Spec) withDefaults() Spec {
	d := DefaultSpec()
	fill := func(set bool, apply func()) {
		if !set {
			apply()
		}
	}
	fill(len(s.Transports) > 0, func() { s.Transports = d.Transports })
	fill(len(s.Links) > 0, func() { s.Links = d.Links })
	fill(len(s.Sizes) > 0, func() { s.Sizes = d.Sizes })
	fill(len(s.Modes) > 0, func() { s.Modes = d.Modes })
	fill(s.Runs > 0, func() { s.Runs = d.Runs })
	fill(s.Placement != "", func() { s.Placement = d.Placement })
	fill(len(s.Rates) > 0, func() { s.Rates = d.Rates })
	fill(len(s.Producers) > 0, func() { s.Producers = d.Producers })
	fill(s.Count > 0, func() { s.Count = d.Count })
	fill(s.Bytes > 0, func() { s.Bytes = d.Bytes })
	fill(s.StreamTime != 0, func() { s.StreamTime = d.StreamTime })
	fill(s.CaseTimeout > 0, func() { s.CaseTimeout = d.CaseTimeout })
	fill(s.CaseFloor != 0, func() { s.CaseFloor = d.CaseFloor })
	return s
}

// Validate reports the first thing in s the harness cannot measure, as
// an error naming it; zero fields are fine (they take the defaults).
func (s Spec) Validate() error {
	if s.Runs < 0 || s.Count < 0 || s.Bytes < 0 || s.CaseTimeout < 0 {
		return errors.New("runs, count, bytes and the case timeout must be positive")
	}
	if s.CaseFloor > 0 && s.CaseFloor < floor.MinCacheLineBudget {
		return fmt.Errorf("case floor %v: want at least %v (or negative: none)", s.CaseFloor, floor.MinCacheLineBudget)
	}
	for _, t := range s.Transports {
		if tr, err := transports.Lookup(t); err != nil || tr.Name != t {
			known := append(append([]string{}, transports.Names...), transports.Variants...)
			return fmt.Errorf("unknown transport %q (known: %s)", t, strings.Join(known, ", "))
		}
	}
	for _, m := range s.Modes {
		if modes[m] == nil {
			return fmt.Errorf("unknown mode %q (want %s, %s, %s or %s)", m, Latency, Throughput, Load, FanIn)
		}
		if m == Load && slices.ContainsFunc(s.Sizes, func(z int) bool { return z < 8 }) {
			return errors.New("the load mode stamps each message: sizes must all be 8 bytes or more")
		}
	}
	for _, z := range s.Sizes {
		if z < 0 {
			return fmt.Errorf("message size %d: want 0 or more", z)
		}
	}
	for _, r := range s.Rates {
		if !(r > 0) {
			return fmt.Errorf("load rate %v: want a rate above 0 messages/s", r)
		}
	}
	for _, n := range s.Producers {
		if n < 1 {
			return fmt.Errorf("fan-in with %d producers: want 1 or more", n)
		}
	}
	if _, err := ParsePlacement(string(s.withDefaults().Placement)); err != nil {
		return err
	}
	if len(s.Cases()) == 0 {
		// Only fan-in can select nothing: it runs raw links, over the
		// transports several producers can share.
		var shared []string
		for _, t := range transports.Distinct() {
			if capsOf(t).FanIn != transports.NoFanIn {
				shared = append(shared, t)
			}
		}
		return fmt.Errorf("no case to run: mode %s measures raw links (-links raw) over a transport several producers can share (%s)",
			FanIn, strings.Join(shared, ", "))
	}
	return nil
}

// Case is one measurement.
type Case struct {
	Run       int
	Transport string
	Link      link.Mode
	Size      int
	Mode      string
	Impl      string  // record.ImplGo, or record.ImplC or ImplCPoll for the C baseline
	Rate      float64 // load: offered messages per second
	Producers int     // fanin: producer processes
	// Count, when set, replaces the mode's message count: a throughput
	// case sized by its pilot stream (streamtime.go).
	Count int
	Batch int  // throughput: messages per SendBatch call, 0 for one Send each
	Held  bool // both Go ends hold their waits (Spec.Held)
}

func (c Case) String() string {
	switch c.Mode {
	case Load:
		return fmt.Sprintf("run %d %s %s %s load %.0f/s", c.Run, c.Transport, c.Link, record.SizeLabel(c.Size), c.Rate)
	case FanIn:
		return fmt.Sprintf("run %d %s %s %s fanin %d producers", c.Run, c.Transport, c.Link, record.SizeLabel(c.Size), c.Producers)
	}
	if c.Batch > 0 {
		return fmt.Sprintf("run %d %s %s %s %s %s batch %d", c.Run, c.Transport, c.Link, record.SizeLabel(c.Size), c.Mode, c.Impl, c.Batch)
	}
	if c.Held {
		return fmt.Sprintf("run %d %s %s %s %s %s held", c.Run, c.Transport, c.Link, record.SizeLabel(c.Size), c.Mode, c.Impl)
	}
	return fmt.Sprintf("run %d %s %s %s %s %s", c.Run, c.Transport, c.Link, record.SizeLabel(c.Size), c.Mode, c.Impl)
}

// Cases lists the cases in the order they run: run, then transport, then
// link mode, then size, then mode (each mode's own cases: Go before C,
// rates, producer counts), so drift on a noisy machine hits every case
// alike.
func (s Spec) Cases() []Case {
	s = s.withDefaults()
	var cs []Case
	for r := 1; r <= s.Runs; r++ {
		for _, t := range s.Transports {
			for _, l := range s.Links {
				for _, z := range s.Sizes {
					for _, m := range s.Modes {
						if md := modes[m]; md != nil {
							cs = append(cs, md.cases(s, Case{Run: r, Transport: t, Link: l, Size: z, Mode: m, Impl: record.ImplGo})...)
						}
					}
				}
			}
		}
	}
	return cs
}

// capsOf is what the table says transport t can do; nothing for a name
// it does not know (Validate refuses those).
func capsOf(t string) transports.Caps {
	if tr, err := transports.Lookup(t); err == nil {
		return tr.Caps
	}
	return transports.Caps{}
}

// LinksHelp is the -links flag's description.
const LinksHelp = `comma-separated link modes (package link): raw (none); seq (sequence numbers, no
reverse traffic); rendezvous (hand-shake: data, then the receiver's
acknowledgement of the take); strict (strict rendezvous: the receiver's
grant, then the data, so a failed Send never delivers); ack-N (each Send waits
for its acknowledgement: the same messages on the wire as rendezvous, one of
each per message, so the two measure alike); cap-N, cap-N-block, cap-N-drop,
cap-N-fail (at most N untaken; a full link waits, drops and counts, or fails
and the harness retries). The window may be smaller than N where the transport
holds less (a POSIX queue of 10 messages: 4); records carry both ends' link
counters (link_sender, link_receiver)`
