//go:build race

package posixshm

// raceEnabled: the race detector's instrumentation changes what allocates.
const raceEnabled = true
