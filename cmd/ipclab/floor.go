package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ipclab/ipclab/floor"
	"github.com/ipclab/ipclab/record"
)

func runFloor(args []string) error {
	fs := newFlags("floor", "[flags]", `Measure this machine's floor between two processes, each pinned to its CPU:
the round trip of one cache line (an atomic ping-pong over shared memory;
with both ends on one CPU each side yields instead of spinning, so it is a
pair of context switches), of a process-shared futex wake-up and of a
1-byte pipe wake-up; min, p50 and p99 after a warm-up. Also records the
CPU pair's topology (SMT siblings, shared last-level cache, socket) and
whether the machine is virtual. Shared-memory figures are best read as a
multiple of this floor.`)
	pin := fs.String("pin", "both", "placement: split (two CPUs), same (one CPU), both, or CPU numbers A,B")
	budget := fs.Duration("time", floor.DefaultBudget, "total measuring time, over all placements and round trips")
	asJSON := fs.Bool("json", false, "print the floor as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErrorf("unexpected arguments %q", fs.Args())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := floor.Measure(ctx, floor.Options{Pin: *pin, Budget: *budget})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	}
	return f.WriteText(os.Stdout)
}

// printFloorLine says in one line what floor a bench run measured, or why
// it has none.
func printFloorLine(w io.Writer, env *record.Env) {
	switch {
	case env.Floor != nil:
		var f floor.Floor
		if err := json.Unmarshal(env.Floor, &f); err != nil {
			fmt.Fprintf(w, "floor: unreadable: %v\n", err)
			return
		}
		fmt.Fprintln(w, f.Line())
	case env.FloorError != "":
		fmt.Fprintf(w, "floor: not measured: %s\n", env.FloorError)
	}
}

// checkFloorTime checks bench's -floor-time.
func checkFloorTime(d time.Duration) error {
	if d != 0 && d < floor.MinBudget {
		return fmt.Errorf("-floor-time %v: want 0 (skip) or at least %v", d, floor.MinBudget)
	}
	return nil
}
