package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/transports"
	"golang.org/x/sys/unix"
)

// Spec is what to measure.
type Spec struct {
	Transports []string // names transports.Create takes
	// Links are the link modes (package link; "raw" is none); empty means
	// raw only. Drop and fail policies are left to go test -bench Link:
	// streaming through them needs loss accounting this harness keeps out
	// of its throughput numbers.
	Links     []string
	Sizes     []int
	Modes     []string
	Runs      int
	Placement Placement
	// Rates are the offered loads of the load mode (messages/s), run in
	// order until one is not achieved; empty means DefaultRates.
	Rates []float64
	// Producers are the fan-in mode's producer counts; empty means
	// DefaultProducers.
	Producers []int
	// Count is the measured round trips (latency); 0 picks 2,000.
	Count int
	// Bytes is the volume streamed per throughput case; 0 picks 16 MiB,
	// within 500..20,000 messages.
	Bytes int
	// CaseTimeout bounds one case; 0 means one minute.
	CaseTimeout time.Duration
	// CProgram is the built C baseline (package cbaseline); when set,
	// every raw case whose transport has a C counterpart is measured
	// twice, Go then C, and recorded as impl "go" and "c".
	CProgram string
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

// Case is one measurement.
type Case struct {
	Run       int
	Transport string
	Link      string
	Size      int
	Mode      string
	Impl      string  // "go", or "c" for the C baseline
	Rate      float64 // load: offered messages per second
	Producers int     // fanin: producer processes
}

func (c Case) String() string {
	if c.Mode == Load {
		return fmt.Sprintf("run %d %s %s %s load %.0f/s", c.Run, c.Transport, c.Link, record.SizeLabel(c.Size), c.Rate)
	}
	if c.Mode == FanIn {
		return fmt.Sprintf("run %d %s %s %s fanin %d producers", c.Run, c.Transport, c.Link, record.SizeLabel(c.Size), c.Producers)
	}
	return fmt.Sprintf("run %d %s %s %s %s %s", c.Run, c.Transport, c.Link, record.SizeLabel(c.Size), c.Mode, c.Impl)
}

func (s Spec) links() []string {
	if len(s.Links) == 0 {
		return []string{"raw"}
	}
	return s.Links
}

// CheckLinks reports a link mode the harness cannot measure.
func CheckLinks(modes []string) error {
	for _, m := range modes {
		if _, _, err := link.ParseMode(m); err != nil {
			return err
		}
	}
	return nil
}

// Cases lists the cases in the order they run: run, then transport, then
// link mode, then size, then mode, then Go before C, so drift on a noisy machine hits every
// case alike.
func (s Spec) Cases() []Case {
	var cs []Case
	for r := 1; r <= max(s.Runs, 1); r++ {
		for _, t := range s.Transports {
			for _, l := range s.links() {
				for _, z := range s.Sizes {
					for _, m := range s.Modes {
						caps := capsOf(t)
						if m == FanIn {
							if caps.FanIn != transports.NoFanIn && l == "raw" {
								for _, n := range s.producers() {
									cs = append(cs, Case{Run: r, Transport: t, Link: l, Size: z, Mode: m, Impl: "go", Producers: n})
								}
							}
							continue
						}
						if m == Load {
							for _, rate := range s.rates() {
								cs = append(cs, Case{Run: r, Transport: t, Link: l, Size: z, Mode: m, Impl: "go", Rate: rate})
							}
							continue
						}
						cs = append(cs, Case{r, t, l, z, m, "go", 0, 0})
						if caps.CMechanism != "" && s.CProgram != "" && l == "raw" {
							cs = append(cs, Case{r, t, l, z, m, "c", 0, 0})
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

func (s Spec) counts(c Case) (count, warm int) {
	if c.Mode == Load {
		return loadCounts(c.Rate)
	}
	if c.Mode == FanIn {
		return 40000, 0
	}
	if c.Mode == Latency {
		count = s.Count
		if count == 0 {
			count = 2000
		}
		return count, max(count/10, 1)
	}
	bytes := s.Bytes
	if bytes == 0 {
		bytes = 16 << 20
	}
	count = min(max(bytes/max(c.Size, 1), 500), 20000)
	return count, max(count/10, 1)
}

// Run measures every case and hands each outcome to out as the case
// ends: a record, or a failure when the case ended in an error, after
// which the run goes on with the next case. It returns what it handed
// out. A cancelled ctx stops it between or inside cases, every object
// removed, and Run returns ctx's error with the finished cases; so does
// an out that cannot keep an outcome, with its error.
func Run(ctx context.Context, s Spec, env *record.Env, out Output) ([]record.Record, []record.Failure, error) {
	for _, m := range s.Modes {
		if m != Latency && m != Throughput && m != Load && m != FanIn {
			return nil, nil, fmt.Errorf("unknown mode %q (want %s, %s, %s or %s)", m, Latency, Throughput, Load, FanIn)
		}
	}
	if err := CheckLinks(s.links()); err != nil {
		return nil, nil, err
	}
	cases := s.Cases()
	var recs []record.Record
	var fails []record.Failure
	skipped := map[Case]string{}    // Go's reason, which the C case shares
	saturated := map[Case]float64{} // load: the achieved rate once one fell short of the offered
	failedAt := map[Case]float64{}  // load: the offered rate that failed; higher ones would too
	for i, c := range cases {
		if err := ctx.Err(); err != nil {
			return recs, fails, err
		}
		if s.Progress != nil {
			s.Progress(i, len(cases), c)
		}
		var r record.Record
		var err error
		goCase := c
		goCase.Impl = "go"
		satKey := Case{Run: c.Run, Transport: c.Transport, Link: c.Link, Size: c.Size, Mode: c.Mode}
		switch {
		case c.Mode == Load && saturated[satKey] > 0:
			r = s.newRecord(c)
			r.Skipped = fmt.Sprintf("beyond saturation: %.0f msgs/s offered achieved %.0f", saturated[satKey], c.Rate)
		case c.Mode == Load && failedAt[satKey] > 0:
			r = s.newRecord(c)
			r.Skipped = fmt.Sprintf("not run: the case at %.0f msgs/s offered failed", failedAt[satKey])
		case c.Mode == FanIn:
			if err = s.injectedFailure(c); err == nil {
				r, err = s.runFanIn(ctx, c)
			}
		case c.Impl == "c":
			if err = s.injectedFailure(c); err == nil {
				r, err = s.runCCase(ctx, c, skipped[goCase])
			}
		default:
			r, err = s.runCase(ctx, c)
			if r.Skipped != "" {
				skipped[goCase] = r.Skipped
			}
			if err == nil && c.Mode == Load && r.Skipped == "" && r.MsgsPerSec < saturationShare*c.Rate {
				saturated[satKey] = r.MsgsPerSec
			}
		}
		if err != nil {
			if ctx.Err() != nil { // the case was stopped, not failed
				return recs, fails, ctx.Err()
			}
			f := newFailure(c, err)
			if err := out.Failure(f); err != nil {
				return recs, fails, err
			}
			fails = append(fails, f)
			if c.Mode == Load {
				failedAt[satKey] = c.Rate
			}
			continue
		}
		r.Env = env
		if err := out.Record(r); err != nil {
			return recs, fails, err
		}
		recs = append(recs, r)
	}
	if s.Progress != nil {
		s.Progress(len(cases), len(cases), Case{})
	}
	return recs, fails, nil
}

// ErrInjected is the failure Spec.FailCases injects.
var ErrInjected = errors.New("failure injected for testing (bench -testing-fail)")

// injectedFailure is ErrInjected for a case Spec.FailCases names.
func (s Spec) injectedFailure(c Case) error {
	name := c.String()
	for _, f := range s.FailCases {
		if strings.Contains(name, f) {
			return ErrInjected
		}
	}
	return nil
}

// newRecord is the record of a case before it is measured.
func (s Spec) newRecord(cs Case) record.Record {
	count, warm := s.counts(cs)
	r := record.Record{Schema: record.SchemaVersion, Time: time.Now().UTC(), Run: cs.Run, Transport: cs.Transport, Impl: cs.Impl,
		Mode: cs.Mode, Link: cs.Link, Size: cs.Size, Count: count, Warmup: warm, Placement: string(s.Placement), OfferedRate: cs.Rate}
	if s.Placement == "" {
		r.Placement = string(PinNone)
	}
	if r.Link == "" {
		r.Link = "raw"
	}
	if r.Impl == "" {
		r.Impl = "go"
	}
	return r
}

func (s Spec) runCase(ctx context.Context, cs Case) (record.Record, error) {
	r := s.newRecord(cs)
	count, warm := r.Count, r.Warmup
	lopt, raw, err := link.ParseMode(r.Link)
	if err != nil {
		return r, err
	}
	c, files, err := transports.Create(cs.Transport)
	if err != nil {
		return r, err
	}
	defer c.Close()
	limit := c.MaxMessageSize()
	if !raw {
		if limit, err = link.MaxMessageSize(c, lopt); err != nil {
			return r, err
		}
	}
	if cs.Size > limit {
		// Send says which limit and how to raise it, and sends nothing.
		var tl *ipclab.TooLargeError
		switch {
		case !raw:
			r.Skipped = fmt.Sprintf("message of %d bytes exceeds the link's maximum %d: the transport's %d less the %d-byte link header, and what its buffer holds with the acknowledgements",
				cs.Size, limit, c.MaxMessageSize(), link.HeaderLen)
		case errors.As(c.Send(make([]byte, cs.Size)), &tl):
			r.Skipped = tl.Error()
		default:
			r.Skipped = fmt.Sprintf("message of %d bytes exceeds the transport's maximum %d", cs.Size, c.MaxMessageSize())
		}
		for _, f := range files {
			f.Close()
		}
		return r, nil
	}
	senderCPU, receiverCPU, err := s.Placement.cpus()
	if err != nil {
		return r, err
	}
	if senderCPU >= 0 {
		var all, one unix.CPUSet
		unix.SchedGetaffinity(0, &all)
		one.Set(senderCPU)
		if err := pinProcess(&one); err != nil {
			return r, err
		}
		defer pinProcess(&all)
	}
	args := PeerArgs(c.Addr().String(), cs.Mode, count, warm, cs.Size, receiverCPU, r.Link)
	p, err := peerproc.Start(PeerRole, args, peerproc.Options{ExtraFiles: files})
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		return r, err
	}
	defer func() {
		if !p.Exited() {
			p.Kill()
		}
	}()
	if w, ok := c.(ipclab.PeerWatcher); ok {
		if err := w.WatchPeer(p.Pid()); err != nil {
			return r, err
		}
	}
	if !raw {
		l, err := link.New(c, lopt)
		if err != nil {
			return r, err
		}
		defer l.Close()
		c = l
	}
	stop := context.AfterFunc(ctx, func() { c.Close() }) // Ctrl-C: unblock and remove now
	defer stop()
	if err := s.injectedFailure(cs); err != nil {
		return r, err
	}
	timeout := s.caseTimeout()
	c.SetDeadline(time.Now().Add(timeout))

	clock := NewClock()
	delay := s.Delay[cs.Transport]
	r.InjectedDelayNs = int64(delay)
	steal0 := stealTicks()
	msg := message(cs.Size)
	var u0 usage
	var firstNs int64
	delivered := count // less what a Drop link dropped
	switch cs.Mode {
	case Latency:
		buf := make([]byte, cs.Size)
		rtt := make([]float64, count)
		for i := 0; i < warm+count; i++ {
			if i == warm {
				u0 = readUsage()
			}
			t0 := time.Now()
			if delay > 0 {
				spinFor(delay)
			}
			if cs.Size >= 8 {
				binary.LittleEndian.PutUint64(msg, uint64(clock.Now()))
			}
			if err := sendOnLink(c, msg); err != nil {
				return r, fmt.Errorf("send %d: %w (peer: %s)", i, err, p.Stderr())
			}
			n, err := c.Recv(buf)
			d := time.Since(t0)
			if err != nil || n != cs.Size {
				return r, fmt.Errorf("reply %d: %d bytes, %v (peer: %s)", i, n, err, p.Stderr())
			}
			if i >= warm {
				rtt[i-warm] = float64(d.Nanoseconds())
			}
		}
		sum, err := record.Summarize(rtt)
		if err != nil {
			return r, err
		}
		r.RTT = &sum
	case Load:
		var late []float64
		if firstNs, u0, late, err = sendOpenLoop(c, msg, count, warm, cs.Rate, clock, p); err != nil {
			return r, err
		}
		if dropsMessages(r.Link) {
			if err := endStream(c, cs.Size); err != nil {
				return r, err
			}
		}
		sum, err := record.Summarize(late)
		if err != nil {
			return r, err
		}
		r.SendLateness = &sum
	case Throughput:
		for i := 0; i < warm+count; i++ {
			if i == warm {
				u0 = readUsage()
				firstNs = clock.Now()
			}
			if delay > 0 {
				spinFor(delay)
			}
			if err := sendOnLink(c, msg); err != nil {
				return r, fmt.Errorf("send %d: %w (peer: %s)", i, err, p.Stderr())
			}
		}
		drops := dropsMessages(r.Link)
		if drops {
			if err := endStream(c, cs.Size); err != nil {
				return r, err
			}
		}
		buf := make([]byte, 64)
		n, err := c.Recv(buf)
		if err != nil {
			return r, fmt.Errorf("receiver's confirmation: %w (peer: %s)", err, p.Stderr())
		}
		if delivered, err = checkConfirmation(string(buf[:n]), c, count, warm, msg, drops); err != nil {
			return r, err
		}
	}
	r.Sender = costSince(u0, count)
	r.StealMs = (stealTicks() - steal0) * 10
	line, err := p.ReadLine(timeout)
	if err != nil {
		return r, err
	}
	var rep peerReport
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		return r, fmt.Errorf("peer report %q: %w", line, err)
	}
	if err := p.Wait(timeout); err != nil {
		return r, err
	}
	r.Receiver = rep.Cost
	r.OneWay = rep.OneWay
	r.LinkSender, r.LinkReceiver = linkStats(c), rep.Link
	if cs.Mode == Load && dropsMessages(r.Link) {
		delivered = rep.Measured
	}
	if cs.Mode == Throughput || cs.Mode == Load {
		r.ElapsedNs = rep.LastNs - firstNs
		if r.ElapsedNs <= 0 {
			return r, fmt.Errorf("throughput clock went backwards: first send %d, last receive %d", firstNs, rep.LastNs)
		}
		sec := float64(r.ElapsedNs) / 1e9
		r.MsgsPerSec = float64(delivered) / sec
		r.MBPerSec = float64(delivered*cs.Size) / sec / 1e6
	}
	return r, nil
}

// message is the contents every case sends (the C baseline too): bytes
// that differ, so the receiver's checksum sees a misplaced one.
func message(size int) []byte {
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i*7 + 1)
	}
	return msg
}

func (s Spec) caseTimeout() time.Duration {
	if s.CaseTimeout == 0 {
		return time.Minute
	}
	return s.CaseTimeout
}

// spinFor busy-waits: a sleep would be rounded up by the timer slack.
func spinFor(d time.Duration) {
	for t0 := time.Now(); time.Since(t0) < d; {
	}
}
