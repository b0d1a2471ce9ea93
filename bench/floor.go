package bench

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/ipclab/ipclab/floor"
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
