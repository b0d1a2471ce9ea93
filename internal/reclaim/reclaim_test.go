package reclaim

import (
	"runtime"
	"testing"
)

// fakeTB records a failure instead of stopping the test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }

func TestWatch(t *testing.T) {
	dropped := new([64]byte)
	gone := Watch(dropped)
	dropped = nil
	gone(t, "a value nothing holds")

	held := new([64]byte)
	f := &fakeTB{}
	Watch(held)(f, "a value the test keeps")
	if !f.failed {
		t.Error("Watch passed a value that is still referenced")
	}
	runtime.KeepAlive(held)
}
