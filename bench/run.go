package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/shmchan"
	"github.com/ipclab/ipclab/transports"
)

// Run measures every case and hands each outcome to out as the case
// ends: a record, or a failure when the case ended in an error, after
// which the run goes on with the next case. It returns what it handed
// out. A cancelled ctx stops it between or inside cases, every object
// removed, and Run returns ctx's error with the finished cases; so does
// an out that cannot keep an outcome, with its error.
func Run(ctx context.Context, s Spec, env *record.Env, out Output) ([]record.Record, []record.Failure, error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	s = s.withDefaults()
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
		goCase.Impl = record.ImplGo
		satKey := Case{Run: c.Run, Transport: c.Transport, Link: c.Link, Size: c.Size, Mode: c.Mode}
		var floorNs float64
		var floorErr error
		if !(c.Mode == Load && (saturated[satKey] > 0 || failedAt[satKey] > 0)) {
			floorNs, floorErr = s.caseFloor(ctx, c, skipped[goCase] != "")
			if err := ctx.Err(); err != nil {
				return recs, fails, err
			}
		}
		switch {
		case c.Mode == Load && saturated[satKey] > 0:
			r = s.newRecord(c)
			r.Skipped = fmt.Sprintf("beyond saturation: %.0f msgs/s offered achieved %.0f", saturated[satKey], c.Rate)
		case c.Mode == Load && failedAt[satKey] > 0:
			r = s.newRecord(c)
			r.Skipped = fmt.Sprintf("not run: the case at %.0f msgs/s offered failed", failedAt[satKey])
		case record.IsC(c.Impl):
			if err = s.injectedFailure(c); err == nil {
				r, err = s.sizedByTime(c, func(c Case) (record.Record, error) { return s.runCCase(ctx, c, skipped[goCase]) })
			}
		default:
			r, err = modes[c.Mode].run(ctx, s, c)
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
		if r.Skipped == "" {
			r.FloorRTTNs = floorNs
			if floorErr != nil {
				r.FloorRTTError = floorErr.Error()
			}
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
// s has its defaults (Run fills them).
func (s Spec) newRecord(cs Case) record.Record {
	count, warm := modes[cs.Mode].counts(s, cs)
	if cs.Count > 0 {
		count, warm = cs.Count, max(cs.Count/10, 1)
	}
	r := record.Record{Schema: record.SchemaVersion, Time: time.Now().UTC(), Run: cs.Run, Transport: cs.Transport, Impl: cs.Impl,
		Mode: cs.Mode, Link: cs.Link.String(), Size: cs.Size, Count: count, Warmup: warm, Placement: string(s.Placement), OfferedRate: cs.Rate,
		SharedMemory: capsOf(cs.Transport).SharedMemory, Batch: cs.Batch, HeldWaits: cs.Held}
	if r.Impl == "" {
		r.Impl = record.ImplGo
	}
	if r.SharedMemory {
		r.RingBytes = shmchan.RingSizeFor(cs.transportOptions().MaxMessage)
	}
	return r
}

// transportOptions are what the harness asks of the transport it creates
// for cs: registered, and sized for its messages (with the link's header).
func (cs Case) transportOptions() transports.Options {
	o := transports.Options{Register: true, MaxMessage: cs.Size}
	if !cs.Link.IsRaw() {
		o.MaxMessage += link.HeaderLen
	}
	return o
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

// spinFor busy-waits: a sleep would be rounded up by the timer slack.
func spinFor(d time.Duration) {
	for t0 := time.Now(); time.Since(t0) < d; {
	}
}
