package sysipc

import "testing"

// TestCanHold: without asynchronous preemption nothing stops a held wait,
// so holding is refused; otherwise it is allowed.
func TestCanHold(t *testing.T) {
	for _, c := range []struct {
		godebug string
		ok      bool
	}{{"", true}, {"asyncpreemptoff=0", true}, {"asyncpreemptoff=1", false}, {"gctrace=1, asyncpreemptoff=1", false}, {"asyncpreemptoff=1,asyncpreemptoff=0", true}} {
		t.Setenv("GODEBUG", c.godebug)
		if err := CanHold(); (err == nil) != c.ok {
			t.Errorf("GODEBUG=%q: CanHold() = %v, want ok %v", c.godebug, err, c.ok)
		}
	}
}
