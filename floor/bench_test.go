package floor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/cpupin"
)

// benchWarmup round trips precede the timed ones of each benchmark run,
// as Measure warms up first: the first trips pay page faults and wake a
// CPU from idle.
const benchWarmup = 1000

// BenchmarkRoundTrip: the machine's floor as Go benchmarks, one op a round
// trip between this process and a peer process, each pinned as Measure
// pins them (split: the first two CPUs this process may use; same: both
// on the first, where the cache line is passed with sched_yield). ns/op
// is the mean round trip; p50-ns and p99-ns are of samples of Batch round
// trips (16 for the cache line, too short to time one by one, otherwise
// 1), each divided by its batch, as `ipclab floor` reports them.
//
//	go test -run '^$' -bench RoundTrip ./floor
func BenchmarkRoundTrip(b *testing.B) {
	for _, pin := range []string{"split", "same"} {
		for _, k := range []kind{cacheLine, futex, pipe} {
			b.Run(pin+"/"+string(k), func(b *testing.B) { benchRoundTrip(b, pin, k) })
		}
	}
}

func benchRoundTrip(b *testing.B, pin string, k kind) {
	allowed, err := cpupin.Allowed()
	if err != nil {
		b.Fatal(err)
	}
	places, err := parsePin(pin, allowed)
	if err != nil {
		b.Skip(err) // split on a machine that gives this process one CPU
	}
	pl := places[0]
	restore, err := cpupin.Current()
	if err != nil {
		b.Fatal(err)
	}
	if err := cpupin.ProcessTo(pl.a); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cpupin.Process(&restore) })
	s, err := startSide(k, pl)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.close)
	var progress atomic.Int64
	stopWatch := s.watch(context.Background(), &progress)
	b.Cleanup(func() { stopWatch() })
	fail := func(err error) {
		if stopWatch() {
			b.Fatalf("the peer answered nothing for %v and was killed (stderr: %s)", stallTimeout, s.peer.Stderr())
		}
		b.Fatalf("%v (peer: %s)", err, s.peer.Stderr())
	}
	for i := 0; i < benchWarmup; i += s.batch() {
		if err := s.roundTrips(s.batch()); err != nil {
			fail(err)
		}
		progress.Add(1)
	}
	batch := min(s.batch(), b.N)
	samples := make([]int64, 0, b.N/batch)
	b.ResetTimer()
	done := 0
	for ; done+batch <= b.N; done += batch {
		t0 := time.Now()
		if err := s.roundTrips(batch); err != nil {
			fail(err)
		}
		samples = append(samples, int64(time.Since(t0)))
		progress.Add(1)
	}
	if err := s.roundTrips(b.N - done); err != nil { // the rest, short of a batch
		fail(err)
	}
	b.StopTimer()
	if stopWatch() {
		b.Fatalf("the peer answered nothing for %v and was killed", stallTimeout)
	}
	s.stop()
	if err := s.peer.Wait(stallTimeout); err != nil {
		b.Fatal(err)
	}
	var rt RoundTrip
	if err := rt.quantiles(samples, batch); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(rt.P50Ns, "p50-ns")
	b.ReportMetric(rt.P99Ns, "p99-ns")
}
