// Package reclaim lets a test check that a value it dropped becomes
// unreachable: that nothing (a timer, a goroutine, a registry) still
// holds it.
package reclaim

import (
	"runtime"
	"testing"
	"time"
)

// Watch registers p with the garbage collector and returns the check:
// once the caller has dropped every reference to p, Gone fails tb, saying
// why, unless p has been collected within 100 collections.
func Watch[T any](p *T) (gone func(tb testing.TB, why string)) {
	done := make(chan struct{})
	runtime.AddCleanup(p, func(c chan struct{}) { close(c) }, done)
	return func(tb testing.TB, why string) {
		tb.Helper()
		for i := 0; ; i++ {
			runtime.GC()
			select {
			case <-done:
				return
			default:
			}
			if i == 100 {
				tb.Fatalf("100 collections later, still reachable: %s", why)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}
