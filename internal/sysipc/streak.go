package sysipc

import "time"

// WaitStreak decides whether a receive waits in ppoll before it tries to
// take a message, or tries first. In a ping-pong every receive finds
// nothing and waits, so trying first is a system call per message that
// says only EAGAIN; in a stream a message is there and the try is all it
// takes. So a receive that waited last time polls first, and every 16th
// in a streak of waits tries first anyway.
//
// A ppoll asked first that returns at once found a message already there:
// that receive did not wait, and the next one tries first. Counting it as
// a wait kept a stream on one CPU, where the reader takes a burst of
// messages after each wake-up, polling before 7 receives in 10 (posixmq,
// 64 B: a system call a message that C does not make). Telling the two
// apart takes two clock readings (about 90 ns here), so a caller times
// only the ppoll Measure names: the first one asked first after a wait,
// which in a stream is the one right after the wake-up; a ping-pong's long
// streak times none. (Timing every one cost a 64-byte round trip on one
// CPU 2%; timing it through the time ppoll writes back, which needs a
// timeout and so a timer armed for every sleep, 8-10%.)
type WaitStreak struct{ n int }

// Measure says whether to time this receive's ppoll, asked first, against
// PollSlept.
func (s *WaitStreak) Measure() bool { return s.n == 1 }

// PollFirst says whether this receive should ppoll before it tries.
func (s *WaitStreak) PollFirst() bool { return s.n > 0 && s.n%16 != 0 }

// Done records a receive that returned a message: whether it waited.
func (s *WaitStreak) Done(waited bool) {
	if waited {
		s.n++
	} else {
		s.n = 0
	}
}

// PollSlept is the shortest ppoll that slept: one that finds its
// descriptor ready returns in well under a microsecond here (0.4-0.6 us
// with two descriptors), and a sleep and a wake-up take at least a pair of
// context switches (3 us on one CPU, more across).
const PollSlept = 1500 * time.Nanosecond
