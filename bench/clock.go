package bench

import "github.com/ipclab/ipclab/internal/monoclock"

// Clock is the shared monotonic clock of the harness (see monoclock).
type Clock = monoclock.Clock

// NewClock pairs Go's clock with CLOCK_MONOTONIC.
func NewClock() *Clock { return monoclock.New() }
