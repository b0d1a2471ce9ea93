package bench

import (
	"runtime"
	"testing"
)

// TestCostCountsCollections: a collection between the two snapshots of a
// case's cost shows in its gc_cycles.
func TestCostCountsCollections(t *testing.T) {
	u0 := readUsage()
	runtime.GC()
	if c := costSince(u0, 1); c.GCCycles < 1 {
		t.Errorf("gc_cycles after a collection: %d, want at least 1", c.GCCycles)
	}
}
