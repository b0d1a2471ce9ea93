package shmchan

import (
	"errors"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
)

// A Recv on an empty ring waits once: under Spin it spins (and is not
// counted as sleeping); under Futex with no spin budget it sleeps. A Recv
// that finds its message does not wait at all. SysVSem waits in semop,
// which the counts leave out.
func TestWaitStatsCountWaits(t *testing.T) {
	for _, tc := range []struct {
		s      Strategy
		budget time.Duration
		spins  uint64
		sleeps bool
	}{
		{Spin, 0, 1, false},
		{Futex, -1, 0, true},
	} {
		t.Run(tc.s.String(), func(t *testing.T) {
			c, o := pair(t, Config{Strategy: tc.s, RingSize: 4096, SpinBudget: tc.budget})
			o.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, err := o.Recv(make([]byte, 8)); !errors.Is(err, ipclab.ErrTimeout) {
				t.Fatalf("recv on an empty ring: %v, want a timeout", err)
			}
			recv, _ := o.WaitStats()
			if recv.Waits != 1 || recv.Spins != tc.spins || (recv.Sleeps > 0) != tc.sleeps {
				t.Fatalf("after one timed-out Recv: %+v, want 1 wait, %d spins, sleeps %v", recv, tc.spins, tc.sleeps)
			}
			o.SetReadDeadline(time.Time{})
			if err := c.Send([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := o.Recv(make([]byte, 8)); err != nil {
				t.Fatal(err)
			}
			if again, _ := o.WaitStats(); again.Waits != 1 {
				t.Fatalf("a Recv that found its message counted a wait: %+v", again)
			}
		})
	}
}
