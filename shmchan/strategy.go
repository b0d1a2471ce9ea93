package shmchan

import (
	"fmt"
	"strings"
)

// Strategy is how a side waits for data or room.
type Strategy uint32

const (
	// Futex (the default) spins for a bounded budget, then announces that
	// it sleeps and sleeps on a futex word in the segment; the other side
	// makes the wake system call only when that word says someone sleeps.
	// A busy channel costs no system call per message. The spin adapts:
	// after a few spins in a row that ran out (the peer shares our CPU,
	// is descheduled, or sends more slowly than the budget) a side sleeps
	// at once, probing with a spin now and then, so on one CPU it waits
	// like the kernel strategies instead of holding the CPU its peer needs.
	// While a side's spins succeed, its producer publishes each message
	// without a full barrier and the side makes one for it, a global
	// membarrier, before it sleeps (ring.publishTail).
	Futex Strategy = iota
	// SysVSem is the textbook bounded buffer of the course: per direction,
	// a counting semaphore "full" (messages ready) and "empty" (free units
	// of the ring), with P before and V after every message.
	SysVSem
	// Spin busy-waits and never sleeps: the lower bound of latency, at the
	// price of a core per waiting side, for as long as it waits.
	Spin
	// PosixSem is the course's bounded buffer with POSIX named semaphores
	// (sem_open, sem_wait, sem_post), in glibc's format so that a C
	// program is a peer (internal/posixsem). Per direction, "full" counts
	// messages: P before and V after every message, as the textbook does.
	// "empty" is posted once per message taken; a producer waits on it
	// only when the ring lacks room, after taking the tokens that piled up
	// while it did not wait and looking at the ring once more (a POSIX
	// semaphore cannot be decremented by n at once, as SysVSem's units are).
	// Only the posixshm transport has the names it needs.
	PosixSem
	// EventFD is Futex with eventfds in place of the futex words' sleep
	// and wake: the same adaptive spin and the same "I sleep" words in the
	// segment, but a side sleeps in ppoll on an eventfd and is woken by a
	// write to it (as ipc-bench's eventfd case, and any poller-driven
	// program, would). Eventfds are descriptors: the opener must inherit
	// them from the creator, so only posixshm's inherited memfd pair has it.
	EventFD

	numStrategies
)

var strategyNames = [...]string{Futex: "futex", SysVSem: "sysvsem", Spin: "spin", PosixSem: "posixsem", EventFD: "eventfd"}

func (s Strategy) String() string {
	if s < numStrategies {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", uint32(s))
}

// ParseStrategy parses a strategy name.
func ParseStrategy(name string) (Strategy, error) {
	for i, n := range strategyNames {
		if n == name {
			return Strategy(i), nil
		}
	}
	return 0, fmt.Errorf("shmchan: unknown wait strategy %q (want %s)", name, strings.Join(strategyNames[:], ", "))
}
