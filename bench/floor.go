package bench

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/ipclab/ipclab/floor"
	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/transports"
)

// RecordFloor measures the machine's floor (package floor) into env, once
// per run, when a shared-memory transport is in s: its figures are best
// read as a multiple of the cache-line round trip between the same CPUs.
// It measures at the run's placement (none: split and same), for budget
// (0: not at all). A floor that cannot be measured does not stop the run;
// env.FloorError says why it is missing. The record keeps the floor as
// its JSON (see record.Env.Floor).
func RecordFloor(ctx context.Context, s Spec, env *record.Env, budget time.Duration) {
	if budget == 0 || !slices.ContainsFunc(s.Transports, transports.SharedMemory) {
		return
	}
	pin := "both"
	switch s.Placement {
	case PinSplit:
		pin = "split"
	case PinSame:
		pin = "same"
	}
	f, err := floor.Measure(ctx, floor.Options{Pin: pin, Budget: budget})
	if err != nil {
		env.FloorError = err.Error()
		return
	}
	b, err := json.Marshal(f)
	if err != nil {
		env.FloorError = err.Error()
		return
	}
	env.Floor = b
}

// DefaultCaseFloor is how long the floor beside each shared-memory case
// measures (Spec.CaseFloor): enough for a p50 of a thousand samples or
// more, which tells a slow spell (the cache-line round trip at 4-5 times
// its usual) from the usual, and little enough that with the floor
// peer's start-up (about 3 ms here) it stays near 2% of a reference run
// (scripts/reproduce.sh: about 10 ms a case, 810 shared-memory cases in
// the 450 s of placement split). A slow or busy machine stretches it to
// at most four times the budget, for a thousand samples.
const DefaultCaseFloor = floor.MinCacheLineBudget

// caseFloor takes the machine's cache-line round trip (p50, ns) right
// before case c (package floor's ping-pong, at c's CPUs), which the case's
// record keeps (record.Record.FloorRTTNs): the floor taken once per run
// cannot say whether a slow spell of the machine came or went between
// cases. 0 and no error when c gets none: not shared memory, a C case
// whose Go case was skipped, Spec.CaseFloor negative. Placement none
// measures across the first two CPUs (split), where the scheduler puts
// two busy processes, or on the one CPU there is.
func (s Spec) caseFloor(ctx context.Context, c Case, goSkipped bool) (float64, error) {
	if s.CaseFloor < 0 || !capsOf(c.Transport).SharedMemory || record.IsC(c.Impl) && goSkipped {
		return 0, nil
	}
	pin := "split"
	switch s.Placement {
	case PinSame:
		pin = "same"
	case PinNone:
		if allowed, err := cpupin.Allowed(); err == nil && len(allowed) < 2 {
			pin = "same"
		}
	}
	rt, err := floor.CacheLine(ctx, pin, s.CaseFloor)
	if err != nil {
		return 0, err
	}
	return rt.P50Ns, nil
}
