package floor

import (
	"context"
	"fmt"
	"time"

	"github.com/ipclab/ipclab/internal/cpupin"
)

// MinCacheLineBudget is the least budget CacheLine accepts: a few thousand
// batched samples across CPUs, a thousand or so on one CPU, plenty for a
// p50 that tells a slow spell (several times the usual round trip) apart.
const MinCacheLineBudget = 5 * time.Millisecond

// CacheLine measures the cache-line round trip alone, the first of
// Measure's three, at the one placement pin names ("split", "same" or
// "A,B"; not "both"), for about budget: a quick look at the floor that a
// harness can take beside each shared-memory case, where Measure's three
// kinds at two placements would cost seconds. Like Measure it pins this
// process to the pair's first CPU while it measures and restores its CPU
// mask before returning; the peer process's start-up is not in budget.
func CacheLine(ctx context.Context, pin string, budget time.Duration) (RoundTrip, error) {
	if budget < MinCacheLineBudget {
		return RoundTrip{}, fmt.Errorf("cache-line floor budget %v is below the minimum %v", budget, MinCacheLineBudget)
	}
	if pin == "" || pin == "both" {
		return RoundTrip{}, fmt.Errorf("cache-line floor at %q: want one placement (split, same or A,B)", pin)
	}
	allowed, err := cpupin.Allowed()
	if err != nil {
		return RoundTrip{}, err
	}
	places, err := parsePin(pin, allowed)
	if err != nil {
		return RoundTrip{}, err
	}
	pl := places[0]
	restore, err := cpupin.Current()
	if err != nil {
		return RoundTrip{}, err
	}
	defer cpupin.Process(&restore)
	if err := cpupin.ProcessTo(pl.a); err != nil {
		return RoundTrip{}, err
	}
	rt, err := measureOne(ctx, cacheLine, pl, budget, nil)
	if err != nil {
		return rt, fmt.Errorf("%s round trip, %s placement (CPUs %d,%d): %w", cacheLine, pl.name, pl.a, pl.b, err)
	}
	return rt, nil
}
