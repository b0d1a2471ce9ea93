// Package examples holds the course material's programs (../shared/seeds,
// in Spanish) as small Go programs, one directory each, beside their C
// originals in c/ with the seeds' bugs fixed. Each Go program meets its C
// original on the same kernel objects: the same key, the same struct
// layout, the same names. README.md lists the programs, the fixes and the
// pairings that examples_test.go runs.
package examples
