package shmchan

// WaitStats count how one side of a channel waited in one direction: for
// data (its Recvs) or for room (its Sends). They show what a strategy did
// where latency alone cannot: whether the adaptive wait spun or slept,
// how often a spin ran out, how many wake-ups it owed the peer.
type WaitStats struct {
	// Waits are the calls that found the ring empty (or full) and waited;
	// a call that found its message (or room) at once does not wait.
	Waits uint64 `json:"waits"`
	// Spins are the waits that spun first (every wait under Spin; under
	// Futex, those the adaptive wait let spin); SpinsLost ran out of
	// their budget and slept after all.
	Spins     uint64 `json:"spins"`
	SpinsLost uint64 `json:"spins_lost"`
	// SpinTurns are the spinning loop's turns in all: each looks at the
	// ring once (tens of nanoseconds), a measure of CPU burnt spinning.
	SpinTurns uint64 `json:"spin_turns"`
	// Sleeps are the futex waits (one wait can sleep more than once).
	Sleeps uint64 `json:"sleeps"`
	// Barriers are the global memory barriers (membarrier) this side
	// made, waiting for data, so that its producer need not make one per
	// message: one before each sleep while the producer skips its own,
	// and one each time it is told to stop (ring.publishTail).
	Barriers uint64 `json:"barriers,omitempty"`
	// LateWakes are sleeps that ran to their bound (peerCheckInterval, or
	// the deadline) unwoken, and then found what they waited for: a
	// wake-up the peer owed and did not make (lost by a broken protocol,
	// or by a peer that died between publishing and waking). Zero in a
	// healthy channel.
	LateWakes uint64 `json:"late_wakes,omitempty"`
	// Wakes are the futex wake-ups this side made for the peer's sleeps
	// in this direction: for data by its Sends, for room by its Recvs.
	Wakes uint64 `json:"wakes"`
}

// WaitStats returns this side's counts for its Recvs (data) and its Sends
// (room). Under SysVSem and PosixSem the waits are in the semaphores and
// not counted.
func (c *Chan) WaitStats() (recv, send WaitStats) {
	c.recvMu.Lock()
	recv = c.recvStats
	c.recvMu.Unlock()
	c.sendMu.Lock()
	send = c.sendStats
	c.sendMu.Unlock()
	return recv, send
}
