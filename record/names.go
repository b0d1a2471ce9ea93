package record

import "strconv"

// Modes of measurement, as records name them.
const (
	Latency    = "latency"    // ping-pong: round trips, and one-way from timestamps
	Throughput = "throughput" // one-way streaming, every byte checksummed by the receiver
	Load       = "load"       // open loop: one way at fixed rates, latency from each intended send time
	FanIn      = "fanin"      // N producer processes into one consumer
)

// Implementations a record can measure.
const (
	ImplGo = "go"
	ImplC  = "c" // the C baseline
	// ImplCPoll is the C baseline waiting as ipclab's Go ends must: on
	// non-blocking descriptors, in ppoll(2) on the object and an eventfd
	// (which is how Close and deadlines can stop a wait). It shows what an
	// interruptible wait costs in C, so that a Go/C ratio can be split
	// into the price of the wait and the price of Go.
	ImplCPoll = "c-poll"
)

// IsC says whether impl is one of the C baseline's.
func IsC(impl string) bool { return impl == ImplC || impl == ImplCPoll }

// ImplSuffix marks a case's name with the C baseline that measured it:
// "" for Go.
func ImplSuffix(impl string) string {
	switch impl {
	case ImplC:
		return " [C]"
	case ImplCPoll:
		return " [C ppoll]"
	}
	return ""
}

// RawLink is the link mode of a case with no link on top of the
// transport.
const RawLink = "raw"

// SizeLabel prints a message size as 64 B, 4 KiB, 1 MiB.
func SizeLabel(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}
