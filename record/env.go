package record

import "encoding/json"

// Env is the environment a run was measured in; every record carries it.
type Env struct {
	Kernel      string            `json:"kernel"`
	CPUModel    string            `json:"cpu_model"`
	NumCPU      int               `json:"num_cpu"`
	GoVersion   string            `json:"go_version"`
	Commit      string            `json:"commit"`
	GOMAXPROCS  int               `json:"gomaxprocs"`
	ClockSource string            `json:"clocksource"`
	Limits      map[string]string `json:"limits"`
	// TimerNs is what one reading of the monotonic clock costs here, and
	// SampleOverheadNs what the harness adds to each latency sample (one
	// reading and a store: a round trip ends where the next begins),
	// measured at start-up.
	TimerNs          float64 `json:"timer_ns"`
	SampleOverheadNs float64 `json:"sample_overhead_ns"`
	// ClockPairErrorNs bounds the error of the harness's absolute
	// monotonic clock (internal/monoclock), on which one-way latency relies.
	ClockPairErrorNs float64 `json:"clock_pair_error_ns"`
	// CCompiler is gcc's version line when the C baseline was measured.
	CCompiler string `json:"c_compiler,omitempty"`
	// Floor is the machine's floor at the run's placement, measured once
	// when a shared-memory transport is in the run (bench.RecordFloor), or
	// FloorError why it could not be. It is a floor.Floor as JSON: kept
	// in that form so the data model (and plot) does not link the code
	// that measures it; decode it with json.Unmarshal into a floor.Floor.
	Floor      json.RawMessage `json:"floor,omitempty"`
	FloorError string          `json:"floor_error,omitempty"`
	// Command is the command line of the run (os.Args), and Options every
	// option of it in force, given or defaulted, by flag name: what
	// repeats the run.
	Command []string          `json:"command,omitempty"`
	Options map[string]string `json:"options,omitempty"`
}
