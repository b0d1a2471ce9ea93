package sysipc

import "testing"

// TestWaitStreak: a receive polls first after one that waited, tries
// first every 16th time in a streak of waits, and after one that did not
// wait.
func TestWaitStreak(t *testing.T) {
	var s WaitStreak
	if s.PollFirst() {
		t.Fatal("a first receive polls first: want it to try")
	}
	var got []bool
	for i := 0; i < 33; i++ {
		s.Done(true)
		got = append(got, s.PollFirst())
	}
	for i, pf := range got {
		if want := (i+1)%16 != 0; pf != want {
			t.Fatalf("after %d waits in a row: poll first %v, want %v", i+1, pf, want)
		}
	}
	s.Done(false)
	if s.PollFirst() {
		t.Fatal("after a receive that did not wait: polls first, want a try")
	}
}
