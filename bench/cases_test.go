package bench

import (
	"reflect"
	"testing"
	"time"

	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/record"
)

func TestCasesInterleave(t *testing.T) {
	s := Spec{Transports: []string{"a", "b"}, Sizes: []int{8, 64}, Modes: []string{Latency}, Runs: 2}
	cs := s.Cases()
	want := []Case{{1, "a", link.Raw, 8, Latency, "go", 0, 0, 0, 0, false}, {1, "a", link.Raw, 64, Latency, "go", 0, 0, 0, 0, false}, {1, "b", link.Raw, 8, Latency, "go", 0, 0, 0, 0, false}, {1, "b", link.Raw, 64, Latency, "go", 0, 0, 0, 0, false},
		{2, "a", link.Raw, 8, Latency, "go", 0, 0, 0, 0, false}, {2, "a", link.Raw, 64, Latency, "go", 0, 0, 0, 0, false}, {2, "b", link.Raw, 8, Latency, "go", 0, 0, 0, 0, false}, {2, "b", link.Raw, 64, Latency, "go", 0, 0, 0, 0, false}}
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
	want := []Case{{1, "pipe", link.Raw, 8, Latency, "go", 0, 0, 0, 0, false}, {1, "pipe", link.Raw, 8, Latency, "c", 0, 0, 0, 0, false}, {1, "pipe", seq, 8, Latency, "go", 0, 0, 0, 0, false},
		{1, "other", link.Raw, 8, Latency, "go", 0, 0, 0, 0, false}, {1, "other", seq, 8, Latency, "go", 0, 0, 0, 0, false}}
	if cs := s.Cases(); !reflect.DeepEqual(cs, want) {
		t.Fatalf("cases %v", cs)
	}
}

// With CPoll, a mechanism with a descriptor also gets its case by the C
// baseline waiting in ppoll; one without (sysvmsg) does not.
func TestCasesPairGoWithCPoll(t *testing.T) {
	s := Spec{Transports: []string{"pipe", "sysvmsg"}, Links: []link.Mode{link.Raw}, Runs: 1, Sizes: []int{8}, Modes: []string{Throughput}, CProgram: "ipcbench", CPoll: true}
	var got []string
	for _, c := range s.Cases() {
		got = append(got, c.Transport+" "+c.Impl)
	}
	if want := []string{"pipe go", "pipe c", "pipe c-poll", "sysvmsg go", "sysvmsg c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("cases %q, want %q", got, want)
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

func TestStreamCount(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		d    time.Duration
		want int
	}{
		{10e6, 200 * time.Millisecond, 2_000_000},
		{1000, 200 * time.Millisecond, minStream}, // a slow mechanism still sends enough to have a rate
		{1e12, time.Second, maxStream},
		{0, time.Second, minStream},
	} {
		if got := streamCount(tc.rate, tc.d); got != tc.want {
			t.Errorf("streamCount(%g, %v) = %d, want %d", tc.rate, tc.d, got, tc.want)
		}
	}
}

// A throughput case sized by time runs a pilot first and then the case
// with the count the pilot's rate gives; a volume-sized Spec, and any
// other mode, runs the case once as it is.
func TestSizedByTime(t *testing.T) {
	s := Spec{StreamTime: 100 * time.Millisecond}
	var counts []int
	// A mechanism whose pilot ran at 50,000/s and whose real rate is
	// 10 M/s: sized again until a run lasts half of StreamTime.
	rates := []float64{50_000, 5e6, 10e6, 10e6}
	measure := func(c Case) (record.Record, error) {
		rate := rates[len(counts)]
		counts = append(counts, c.Count)
		return record.Record{MsgsPerSec: rate, ElapsedNs: int64(float64(c.Count) / rate * 1e9)}, nil
	}
	if _, err := s.sizedByTime(Case{Mode: Throughput, Size: 64}, measure); err != nil {
		t.Fatal(err)
	}
	if want := []int{pilotMax, 5000, 500_000}; !reflect.DeepEqual(counts, want) {
		t.Fatalf("counts measured %v, want %v (pilot, 50,000/s x 100 ms, then 5 M/s x 100 ms)", counts, want)
	}
	counts = nil
	s.StreamTime = -1
	s.sizedByTime(Case{Mode: Throughput, Size: 64}, measure)
	s.StreamTime = time.Second
	s.sizedByTime(Case{Mode: Latency, Size: 64}, measure)
	if want := []int{0, 0}; !reflect.DeepEqual(counts, want) {
		t.Fatalf("counts measured %v, want one unsized run each", counts)
	}
}

// -batch adds a batched Go case to raw throughput cases of transports
// that can send in batches, and to nothing else.
func TestBatchCases(t *testing.T) {
	s := Spec{Transports: []string{"sysvshm-spin", "pipe"}, Runs: 1, Sizes: []int{64}, Modes: []string{Latency, Throughput}, Batch: 32}
	var got []string
	for _, c := range s.Cases() {
		got = append(got, c.String())
	}
	want := []string{"run 1 sysvshm-spin raw 64 B latency go", "run 1 sysvshm-spin raw 64 B throughput go",
		"run 1 sysvshm-spin raw 64 B throughput go batch 32", "run 1 pipe raw 64 B latency go", "run 1 pipe raw 64 B throughput go"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("cases\n%q\nwant\n%q", got, want)
	}
}

// -held adds a held-waits Go case to raw latency and throughput cases of
// transports whose ends can hold their waits, before the C case, and to
// nothing else: not to spinning shared memory, not to a link mode.
func TestHeldCases(t *testing.T) {
	seq, err := link.NewMode("seq")
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Transports: []string{"sysvshm-spin", "sysvshm-sysvsem", "pipe"}, Links: []link.Mode{link.Raw, seq}, Runs: 1, Sizes: []int{64},
		Modes: []string{Latency}, Held: true, CProgram: "ipcbench"}
	var got []string
	for _, c := range s.Cases() {
		got = append(got, c.String())
	}
	want := []string{
		"run 1 sysvshm-spin raw 64 B latency go", "run 1 sysvshm-spin raw 64 B latency c", "run 1 sysvshm-spin seq 64 B latency go",
		"run 1 sysvshm-sysvsem raw 64 B latency go", "run 1 sysvshm-sysvsem raw 64 B latency go held", "run 1 sysvshm-sysvsem raw 64 B latency c", "run 1 sysvshm-sysvsem seq 64 B latency go",
		"run 1 pipe raw 64 B latency go", "run 1 pipe raw 64 B latency go held", "run 1 pipe raw 64 B latency c", "run 1 pipe seq 64 B latency go",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("cases\n%q\nwant\n%q", got, want)
	}
}
