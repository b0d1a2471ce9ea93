package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/bench/cbaseline"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/record"
)

// The tests that run cases start peers and create IPC objects: the peer
// roles run first, the tests under the leak check, with a /dev/shm of
// their own (posixshm).
func TestMain(m *testing.M) { testmain.MainWith(m, testmain.Options{PrivateDevShm: true}) }

// kept is an Output that keeps every outcome in memory.
type kept struct {
	recs  []record.Record
	fails []record.Failure
}

func (k *kept) Record(r record.Record) error   { k.recs = append(k.recs, r); return nil }
func (k *kept) Failure(f record.Failure) error { k.fails = append(k.fails, f); return nil }

// A small run takes the machine's floor right before each shared-memory
// case, Go and C alike, and its record keeps it; a case of another
// transport gets none, and neither does any case with CaseFloor negative.
func TestRunTakesCaseFloor(t *testing.T) {
	testmain.Watchdog(t, 3*time.Minute)
	s := Spec{Transports: []string{"sysvshm-futex", "pipe"}, Sizes: []int{64}, Modes: []string{Latency}, Runs: 1, Count: 200,
		Placement: PinNone, CaseTimeout: time.Minute}
	switch prog, _, err := cbaseline.Build(t.TempDir()); {
	case errors.Is(err, cbaseline.ErrNoCompiler):
		t.Log("no gcc: Go cases only")
	case err != nil:
		t.Fatal(err)
	default:
		s.CProgram = prog
	}
	run := func(s Spec) []record.Record {
		t.Helper()
		var out kept
		recs, fails, err := Run(context.Background(), s, &record.Env{}, &out)
		if err != nil || len(fails) > 0 {
			t.Fatalf("run: %v, failures %+v", err, fails)
		}
		want := 2
		if s.CProgram != "" {
			want = 4
		}
		if len(recs) != want || len(out.recs) != want {
			t.Fatalf("%d records (%d handed out), want %d", len(recs), len(out.recs), want)
		}
		return recs
	}
	for _, r := range run(s) {
		switch {
		case r.Skipped != "":
			t.Errorf("%s %s skipped: %s", r.Transport, r.Impl, r.Skipped)
		case r.SharedMemory && (!(r.FloorRTTNs > 0) || r.FloorRTTError != ""):
			t.Errorf("%s %s: case floor %v ns, error %q; want a positive floor", r.Transport, r.Impl, r.FloorRTTNs, r.FloorRTTError)
		case !r.SharedMemory && (r.FloorRTTNs != 0 || r.FloorRTTError != ""):
			t.Errorf("%s %s: a case floor (%v ns, %q) beside a transport without shared memory", r.Transport, r.Impl, r.FloorRTTNs, r.FloorRTTError)
		default:
			t.Logf("%s %s: case floor %.0f ns (functional check, not a measurement)", r.Transport, r.Impl, r.FloorRTTNs)
		}
	}
	s.CaseFloor = -1
	for _, r := range run(s) {
		if r.FloorRTTNs != 0 || r.FloorRTTError != "" {
			t.Errorf("%s %s: case floor %v ns, %q with CaseFloor negative", r.Transport, r.Impl, r.FloorRTTNs, r.FloorRTTError)
		}
	}
}

func TestCaseFloorBelowMinimum(t *testing.T) {
	if err := (Spec{CaseFloor: time.Millisecond}).Validate(); err == nil || !strings.Contains(err.Error(), "at least 5ms") {
		t.Errorf("a 1 ms case floor: %v, want an error naming the minimum", err)
	}
}
