//go:build !race

package posixshm

const raceEnabled = false
