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
