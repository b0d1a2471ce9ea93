//go:build race

package ipclab_test

// raceEnabled: this test binary has the race detector, whose
// instrumentation changes what allocates.
const raceEnabled = true
