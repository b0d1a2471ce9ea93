package bench

import (
	"runtime"
	"runtime/metrics"
)

// collectBeforeCase runs a garbage collection now, in a Go process of a
// case, before its messages flow (as testing.B does before each run).
//
// Why: the harness allocates about 3 MB between cases (peer start-up,
// records), so its heap reached the 4 MB goal of the next collection in
// nearly every case, and that collection ran among the measured messages:
// a concurrent mark of several milliseconds, whose worker takes the CPU
// the two ends share at placement same, and whose stops signal a held
// wait every few hundred microseconds until it reaches a safe point
// (perf record -e syscalls:sys_enter_tgkill -g showed gcMarkDone's
// preemptall doing so for 11 ms). Collected first, the next goal is 4 MB
// away; the records' gc_cycles say whether a case still met one.
func collectBeforeCase() { runtime.GC() }

// gcCycles is how many garbage collections this process has completed.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
