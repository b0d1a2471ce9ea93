package bench

import "github.com/ipclab/ipclab/record"

// Modes of measurement, named as records name them.
const (
	Latency    = record.Latency    // ping-pong: round trips, and one-way from timestamps
	Throughput = record.Throughput // one-way streaming, every byte checksummed by the receiver
	Load       = record.Load       // open loop: one way at fixed rates, latency from each intended send time
	FanIn      = record.FanIn      // N producers into one consumer; Spec.Producers are their counts
)
