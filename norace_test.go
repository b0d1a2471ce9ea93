//go:build !race

package ipclab_test

const raceEnabled = false
