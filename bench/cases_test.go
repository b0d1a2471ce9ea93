package bench

import (
	"reflect"
	"testing"
	"time"

	"github.com/ipclab/ipclab/link"
)

func TestCasesInterleave(t *testing.T) {
	s := Spec{Transports: []string{"a", "b"}, Sizes: []int{8, 64}, Modes: []string{Latency}, Runs: 2}
	cs := s.Cases()
	want := []Case{{1, "a", link.Raw, 8, Latency, "go", 0, 0}, {1, "a", link.Raw, 64, Latency, "go", 0, 0}, {1, "b", link.Raw, 8, Latency, "go", 0, 0}, {1, "b", link.Raw, 64, Latency, "go", 0, 0},
		{2, "a", link.Raw, 8, Latency, "go", 0, 0}, {2, "a", link.Raw, 64, Latency, "go", 0, 0}, {2, "b", link.Raw, 8, Latency, "go", 0, 0}, {2, "b", link.Raw, 64, Latency, "go", 0, 0}}
	if !reflect.DeepEqual(cs, want) {
		t.Fatalf("cases %v", cs)
	}
}

// With a C program, each raw case of a transport with a C counterpart is
// followed by its C case; link modes and C-less transports are Go only.
func TestCasesPairGoWithC(t *testing.T) {
	seq, err := link.NewMode("seq")
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Transports: []string{"pipe", "other"}, Links: []link.Mode{link.Raw, seq}, Runs: 1, Sizes: []int{8}, Modes: []string{Latency}, CProgram: "ipcbench"}
	want := []Case{{1, "pipe", link.Raw, 8, Latency, "go", 0, 0}, {1, "pipe", link.Raw, 8, Latency, "c", 0, 0}, {1, "pipe", seq, 8, Latency, "go", 0, 0},
		{1, "other", link.Raw, 8, Latency, "go", 0, 0}, {1, "other", seq, 8, Latency, "go", 0, 0}}
	if cs := s.Cases(); !reflect.DeepEqual(cs, want) {
		t.Fatalf("cases %v", cs)
	}
}

func TestClockAgreesAcrossReadings(t *testing.T) {
	c := NewClock()
	if c.ErrorBound > 100*time.Microsecond {
		t.Fatalf("clock pairing error %v; a vDSO clock and one system call should bracket far tighter", c.ErrorBound)
	}
	a := c.Now()
	time.Sleep(time.Millisecond)
	if d := c.Now() - a; d < int64(time.Millisecond) {
		t.Fatalf("clock advanced %d ns over a 1 ms sleep", d)
	}
}
