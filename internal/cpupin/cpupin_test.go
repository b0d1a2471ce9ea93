package cpupin

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPinAndRestore(t *testing.T) {
	cpus, err := Allowed()
	if err != nil || len(cpus) == 0 {
		t.Fatalf("Allowed() = %v, %v", cpus, err)
	}
	before, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	defer Process(&before)
	last := cpus[len(cpus)-1]
	if err := ProcessTo(last); err != nil {
		t.Fatal(err)
	}
	// Every thread, not only the calling one, is on that CPU alone.
	tids, _ := os.ReadDir("/proc/self/task")
	for _, d := range tids {
		tid, _ := strconv.Atoi(d.Name())
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); err != nil {
			continue // the thread exited
		}
		if set.Count() != 1 || !set.IsSet(last) {
			t.Errorf("thread %d: %d CPUs in its mask, want only CPU %d", tid, set.Count(), last)
		}
	}
	if got, _ := Allowed(); len(got) != 1 || got[0] != last {
		t.Errorf("Allowed() after ProcessTo(%d) = %v", last, got)
	}
	if err := Process(&before); err != nil {
		t.Fatal(err)
	}
	if got, _ := Allowed(); len(got) != len(cpus) {
		t.Errorf("after restore: %v, want %v", got, cpus)
	}
}
