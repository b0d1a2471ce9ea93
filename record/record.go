// Package record is ipclab's data model: the records a bench run writes
// (one measured or skipped case each, with its environment and costs),
// the failures beside them, their statistics (summaries, spreads over
// runs, the Mann–Whitney test), grouping by case, comparison of two sets
// of runs, the summary table, and reading and writing them as JSON lines
// and CSV. It measures nothing and links no transport: plot, compare and
// report read records through it alone.
package record

import "time"

// SchemaVersion changes when a record field changes meaning.
const SchemaVersion = 1

// Record is one measured (or skipped) case of one run: one JSON line.
// Field names are stable and documented in results/README.md.
type Record struct {
	Schema    int       `json:"schema"`
	Time      time.Time `json:"time"`
	Run       int       `json:"run"`
	Transport string    `json:"transport"`
	Impl      string    `json:"impl"` // ImplGo, or ImplC or ImplCPoll for the C baseline
	Mode      string    `json:"mode"` // Latency, Throughput, Load or FanIn
	Link      string    `json:"link"` // link semantics on top of the transport; RawLink is none
	Size      int       `json:"size"`
	Count     int       `json:"count"`  // measured messages (round trips for latency)
	Warmup    int       `json:"warmup"` // messages before measuring
	Placement string    `json:"placement"`
	// Batch is, for a throughput case, how many messages the sender hands
	// the transport per call (ipclab.BatchSender); 0 is one Send each,
	// the idiomatic figure beside it.
	Batch int `json:"batch,omitempty"`
	// HeldWaits: both Go ends made their system calls held
	// (ipclab.WaitHolder), the tuned figure beside the default's.
	HeldWaits bool `json:"held_waits,omitempty"`
	// SharedMemory: the transport moves messages through shared memory,
	// so its latency is also read against the machine's floor (FloorOf).
	SharedMemory bool `json:"shared_memory,omitempty"`
	// RingBytes is each direction's ring of a shared-memory case, Go and
	// C alike (shmchan.RingSizeFor of the largest message it sends).
	RingBytes int `json:"ring_bytes,omitempty"`
	// FloorRTTNs is the machine's cache-line round trip (p50, ns) between
	// the case's CPUs, taken for a few milliseconds right before a
	// shared-memory case (bench's case floor: Env.Floor's cache line, for
	// this case alone): a case whose floor is well above the run's low floor
	// was measured during a slow spell of the machine (SlowSpells). 0 when
	// not taken; FloorRTTError says why, when it was tried and failed.
	FloorRTTNs    float64 `json:"floor_rtt_ns,omitempty"`
	FloorRTTError string  `json:"floor_rtt_error,omitempty"`
	// OfferedRate is the load mode's send rate in messages per second;
	// MsgsPerSec is then the rate achieved, and OneWay the latency of
	// each message from its intended send time.
	OfferedRate float64 `json:"offered_rate,omitempty"`
	// Producers (fan-in) is how many processes sent; MsgsPerSec is then
	// what the one consumer received from all, and OrderErrors the
	// messages that arrived out of their producer's order (0 for every
	// mechanism here: each keeps a producer's messages in order).
	Producers   int `json:"producers,omitempty"`
	OrderErrors int `json:"order_errors,omitempty"`
	// SendLateness (load) is how late the sender got to each intended
	// send time: the part of OneWay the sender, not the channel, caused.
	SendLateness *Summary `json:"send_lateness,omitempty"`

	// Skipped says why the case was not measured (a limit, with how to
	// raise it); nothing else but the parameters is set then.
	Skipped string `json:"skipped,omitempty"`

	// Latency: the round trips (RTTSamples of Count), and the one-way
	// latency, sender's timestamp to receiver's clock, of the others
	// (OneWaySampled).
	RTT    *Summary `json:"rtt,omitempty"`
	OneWay *Summary `json:"one_way,omitempty"`

	ElapsedNs  int64   `json:"elapsed_ns,omitempty"` // throughput: first send to the receiver's last byte
	MsgsPerSec float64 `json:"msgs_per_sec,omitempty"`
	MBPerSec   float64 `json:"mb_per_sec,omitempty"` // 10^6 bytes per second

	// InjectedDelayNs is a delay added before every send on purpose, to
	// test the analysis (bench -testing-delay); 0 in any real measurement.
	InjectedDelayNs int64 `json:"injected_delay_ns,omitempty"`

	// LinkSender and LinkReceiver are the link's counters at each end
	// (credit waits, acknowledgements, drops, window in force, order
	// errors); nil for raw cases.
	LinkSender   *LinkStats `json:"link_sender,omitempty"`
	LinkReceiver *LinkStats `json:"link_receiver,omitempty"`

	// SenderWaits and ReceiverWaits count how each end's shared-memory
	// channel waited over the measured messages (spins, spins that ran
	// out, futex sleeps, wake-ups); nil for other transports and links.
	SenderWaits   *Waits `json:"sender_waits,omitempty"`
	ReceiverWaits *Waits `json:"receiver_waits,omitempty"`

	Sender   Cost  `json:"sender"` // the process that drives the case
	Receiver Cost  `json:"receiver"`
	StealMs  int64 `json:"steal_ms"` // host steal time during the case, all CPUs (/proc/stat)

	Env *Env `json:"env"`
}

// Cost is what one process spent during the measured part of a case.
type Cost struct {
	UserNs       int64   `json:"user_ns"`
	SysNs        int64   `json:"sys_ns"`
	VolCtxSw     int64   `json:"vol_ctxsw"`
	InvolCtxSw   int64   `json:"invol_ctxsw"`
	CPUNsPerMsg  float64 `json:"cpu_ns_per_msg"`
	CtxSwPerMsg  float64 `json:"ctxsw_per_msg"`
	CPUs         []int   `json:"cpus"` // last CPU of each thread that ran during the case
	PID          int     `json:"pid"`
	MaxRSSKiB    int64   `json:"max_rss_kib"`
	ThreadsAtEnd int     `json:"threads"`
	// GCCycles is how many garbage collections this Go process ran while
	// it measured: each stops its goroutines for a moment and takes CPU
	// for milliseconds, which shows in the figures. The harness collects
	// before every case so that it is 0 unless the case itself allocated.
	GCCycles int64 `json:"gc_cycles,omitempty"`
	// PollWaits is how many times the C baseline waiting in ppoll
	// (ImplCPoll) waited in ppoll: after a call that found the object not
	// ready, or, for a pipe, fifo or posixmq receive that follows one that
	// waited, before it tries, as the Go ends do (sysipc.WaitStreak).
	PollWaits int64 `json:"poll_waits,omitempty"`
}

// PerMessage sets CPUNsPerMsg and CtxSwPerMsg from the totals, spread over
// msgs messages (left 0 when there were none).
func (c *Cost) PerMessage(msgs int) {
	if msgs > 0 {
		c.CPUNsPerMsg = float64(c.UserNs+c.SysNs) / float64(msgs)
		c.CtxSwPerMsg = float64(c.VolCtxSw+c.InvolCtxSw) / float64(msgs)
	}
}

// Waits are one end's wait counts, for its Recvs (waiting for data) and
// its Sends (waiting for room): shmchan.WaitStats, as recorded.
type Waits struct {
	Recv WaitCounts `json:"recv"`
	Send WaitCounts `json:"send"`
}

// WaitCounts: see shmchan.WaitStats for each count's meaning.
type WaitCounts struct {
	Waits     uint64 `json:"waits"`
	Spins     uint64 `json:"spins"`
	SpinsLost uint64 `json:"spins_lost"`
	SpinTurns uint64 `json:"spin_turns"`
	Sleeps    uint64 `json:"sleeps"`
	Barriers  uint64 `json:"barriers,omitempty"`
	LateWakes uint64 `json:"late_wakes,omitempty"`
	Wakes     uint64 `json:"wakes"`
}

// Plus is w and o counted together (two directions, two ends).
func (w WaitCounts) Plus(o WaitCounts) WaitCounts {
	return WaitCounts{Waits: w.Waits + o.Waits, Spins: w.Spins + o.Spins, SpinsLost: w.SpinsLost + o.SpinsLost,
		SpinTurns: w.SpinTurns + o.SpinTurns, Sleeps: w.Sleeps + o.Sleeps, Barriers: w.Barriers + o.Barriers,
		LateWakes: w.LateWakes + o.LateWakes, Wakes: w.Wakes + o.Wakes}
}

// Minus is what was counted since o, an earlier reading of the same counts.
func (w WaitCounts) Minus(o WaitCounts) WaitCounts {
	return WaitCounts{Waits: w.Waits - o.Waits, Spins: w.Spins - o.Spins, SpinsLost: w.SpinsLost - o.SpinsLost,
		SpinTurns: w.SpinTurns - o.SpinTurns, Sleeps: w.Sleeps - o.Sleeps, Barriers: w.Barriers - o.Barriers,
		LateWakes: w.LateWakes - o.LateWakes, Wakes: w.Wakes - o.Wakes}
}

// Tuned says the record measures a tuned Go figure (batches, held waits),
// which the tables set beside the default one and the figures leave out.
func (r Record) Tuned() bool { return r.Batch > 0 || r.HeldWaits }

// OneWayEvery: in a latency case the echo reads its clock (OneWay) on one
// measured round trip in this many, and the sender leaves those round
// trips out of RTT. A clock reading on the echo's path waits for the
// message's loads (the vDSO orders its RDTSC after them): read on every
// message it added 50-70 ns to a 450-650 ns shared-memory round trip
// (without it 0.89-0.91x, sysvshm-spin and posixshm-futex, 6 rounds
// interleaved), the harness's cost, not the channel's. (Records before
// this rule timed every arrival, and RTT had Count samples.)
const OneWayEvery = 8

// OneWaySampled reports whether measured round trip i (0 is the first
// after the warm-up) is one whose arrival the echo times.
func OneWaySampled(i int) bool { return i >= 0 && i%OneWayEvery == OneWayEvery-1 }

// RTTSamples is how many round trips of a latency case of count RTT holds.
func RTTSamples(count int) int { return count - count/OneWayEvery }
