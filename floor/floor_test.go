package floor

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Main(m) }

func allowedCPUs(t *testing.T) []int {
	t.Helper()
	cpus, err := cpupin.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	return cpus
}

func TestParsePin(t *testing.T) {
	two := []int{2, 5}
	for _, c := range []struct {
		pin     string
		allowed []int
		want    []placement
	}{
		{"", two, []placement{{"split", 2, 5}, {"same", 2, 2}}},
		{"both", []int{7}, []placement{{"same", 7, 7}}},
		{"split", two, []placement{{"split", 2, 5}}},
		{"same", two, []placement{{"same", 2, 2}}},
		{"5,2", two, []placement{{"split", 5, 2}}},
		{"5, 5", two, []placement{{"same", 5, 5}}},
	} {
		got, err := parsePin(c.pin, c.allowed)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("parsePin(%q, %v) = %v, %v; want %v", c.pin, c.allowed, got, err, c.want)
		}
	}
	for _, c := range []struct {
		pin     string
		allowed []int
		say     string
	}{
		{"split", []int{0}, "needs two CPUs"},
		{"0,3", two, "CPU 0 is not one this process may use"},
		{"2,x", two, "want split, same, both"},
		{"sibling", two, "want split, same, both"},
		{"same", nil, "no CPU"},
	} {
		if _, err := parsePin(c.pin, c.allowed); err == nil || !strings.Contains(err.Error(), c.say) {
			t.Errorf("parsePin(%q, %v) error %v, want one saying %q", c.pin, c.allowed, err, c.say)
		}
	}
}

func TestQuantiles(t *testing.T) {
	var rt RoundTrip
	s := make([]int64, 0, 100)
	for i := 100; i >= 1; i-- {
		s = append(s, int64(i*16))
	}
	if err := rt.quantiles(s, 16); err != nil {
		t.Fatal(err)
	}
	if rt.MinNs != 1 || rt.P50Ns != 50 || rt.P99Ns != 99 || rt.MaxNs != 100 || rt.Samples != 100 || rt.Batch != 16 {
		t.Errorf("quantiles of 1..100 (batch 16): %+v", rt)
	}
	if err := rt.quantiles(nil, 1); err == nil {
		t.Error("no samples: no error")
	}
	if err := rt.quantiles([]int64{0, 5}, 1); err == nil {
		t.Error("a zero-length round trip: no error")
	}
}

func TestBudgetBelowMinimum(t *testing.T) {
	if _, err := Measure(context.Background(), Options{Budget: time.Millisecond}); err == nil || !strings.Contains(err.Error(), "minimum") {
		t.Errorf("1 ms budget: %v, want an error naming the minimum", err)
	}
}

// checkRoundTrip: positive, finite, ordered quantiles and a sane count.
func checkRoundTrip(t *testing.T, what string, rt RoundTrip, wait string) {
	t.Helper()
	for _, v := range []float64{rt.MinNs, rt.P50Ns, rt.P99Ns, rt.MaxNs} {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s: quantile %v is not positive and finite: %+v", what, v, rt)
		}
	}
	if !(rt.MinNs <= rt.P50Ns && rt.P50Ns <= rt.P99Ns && rt.P99Ns <= rt.MaxNs) {
		t.Errorf("%s: quantiles out of order: %+v", what, rt)
	}
	if rt.Samples < 1 || rt.Warmup < 1 || rt.Batch < 1 {
		t.Errorf("%s: samples %d, warm-up %d, batch %d", what, rt.Samples, rt.Warmup, rt.Batch)
	}
	if rt.Wait != wait {
		t.Errorf("%s: wait %q, want %q", what, rt.Wait, wait)
	}
}

func TestMeasure(t *testing.T) {
	testmain.Watchdog(t, 3*time.Minute)
	cpus := allowedCPUs(t)
	var peers []*peerproc.Proc
	before, _ := cpupin.Current()
	f, err := Measure(context.Background(), Options{Budget: 300 * time.Millisecond, onPeer: func(p *peerproc.Proc) { peers = append(peers, p) }})
	if err != nil {
		t.Fatal(err)
	}
	wantPairs := []string{"split", "same"}
	if len(cpus) < 2 {
		wantPairs = []string{"same"}
	}
	if len(f.Pairs) != len(wantPairs) {
		t.Fatalf("%d pairs, want %v: %+v", len(f.Pairs), wantPairs, f)
	}
	for i, p := range f.Pairs {
		if p.Placement != wantPairs[i] {
			t.Errorf("pair %d is %q, want %q", i, p.Placement, wantPairs[i])
		}
		same := p.Placement == "same"
		if p.Topology.SameCPU != same || (p.Topology.CPUs[0] == p.Topology.CPUs[1]) != same {
			t.Errorf("%s: topology %+v", p.Placement, p.Topology)
		}
		line := "spin"
		if same {
			line = "yield"
			if p.CacheLine.Note == "" {
				t.Errorf("same CPU: the cache-line figure carries no note saying what it is")
			}
		}
		checkRoundTrip(t, p.Placement+" cacheline", p.CacheLine, line)
		checkRoundTrip(t, p.Placement+" futex", p.Futex, "futex")
		checkRoundTrip(t, p.Placement+" pipe", p.Pipe, "read")
	}
	if f.BudgetNs != int64(300*time.Millisecond) {
		t.Errorf("budget %d ns recorded", f.BudgetNs)
	}
	if len(peers) != 3*len(wantPairs) {
		t.Errorf("%d peers started, want %d", len(peers), 3*len(wantPairs))
	}
	for i, p := range peers {
		if !p.Exited() {
			t.Errorf("peer %d (pid %d) still running after Measure", i, p.Pid())
		}
	}
	if after, _ := cpupin.Current(); after != before {
		t.Errorf("Measure left the process pinned: mask %v, was %v", after, before)
	}
	// The JSON form round-trips.
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back Floor
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Pairs[0].Pipe != f.Pairs[0].Pipe || back.Pairs[0].Topology.CPUs != f.Pairs[0].Topology.CPUs {
		t.Errorf("JSON round trip changed the floor:\n%s", b)
	}
}

// TestNothingLeft: a measurement closes every descriptor it opened (the
// shared page, the pipes, the peer's stdout) and leaves no process.
func TestNothingLeft(t *testing.T) {
	testmain.Watchdog(t, 2*time.Minute)
	measure := func() {
		if _, err := Measure(context.Background(), Options{Pin: "same", Budget: MinBudget}); err != nil {
			t.Fatal(err)
		}
	}
	measure() // the runtime opens its poller's descriptors on first use
	fds := openFDs(t)
	measure()
	if after := openFDs(t); !slices.Equal(after, fds) {
		t.Errorf("open descriptors before %v, after %v", fds, after)
	}
	if kids := children(t); len(kids) != 0 {
		t.Errorf("child processes left: %v", kids)
	}
}

func openFDs(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		out = append(out, e.Name()+"→"+target)
	}
	// ReadDir's own descriptor on /proc/self/fd shows up once, the same
	// way each time.
	return out
}

// children lists the pids of this process's children.
func children(t *testing.T) []string {
	t.Helper()
	var out []string
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if err != nil {
			continue
		}
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

// TestKilledPeer: a peer killed mid-measurement ends it with an error,
// promptly, whatever the kind of round trip is waiting on.
func TestKilledPeer(t *testing.T) {
	testmain.Watchdog(t, 2*time.Minute)
	pin := "split"
	if len(allowedCPUs(t)) < 2 {
		pin = "same"
	}
	for _, k := range []kind{cacheLine, futex, pipe} {
		t.Run(string(k), func(t *testing.T) {
			cpus := allowedCPUs(t)
			pls, err := parsePin(pin, cpus)
			if err != nil {
				t.Fatal(err)
			}
			var victim *peerproc.Proc
			kill := func(p *peerproc.Proc) {
				victim = p
				go func() { // after the parent is in its loop
					time.Sleep(20 * time.Millisecond)
					syscall.Kill(p.Pid(), syscall.SIGKILL)
				}()
			}
			// A long budget: the error must come from the death, not
			// from the budget running out.
			_, err = measureOne(context.Background(), k, pls[0], time.Minute, kill)
			if err == nil || !strings.Contains(err.Error(), "exited mid-measurement") {
				t.Errorf("killed peer: error %v, want one saying the peer exited", err)
			}
			if victim == nil || !victim.Exited() {
				t.Errorf("the killed peer was not reaped")
			}
		})
	}
}

// TestCancel: cancelling the context stops a measurement with its error.
func TestCancel(t *testing.T) {
	testmain.Watchdog(t, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Measure(ctx, Options{Pin: "same", Budget: time.Hour, onPeer: func(*peerproc.Proc) {
		time.AfterFunc(20*time.Millisecond, cancel)
	}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

// TestStoppedPeer: a peer that lives but never answers (SIGSTOP) is killed
// by the watchdog after stallTimeout, and the measurement fails.
func TestStoppedPeer(t *testing.T) {
	testmain.Watchdog(t, time.Minute)
	defer func(d time.Duration) { stallTimeout = d }(stallTimeout)
	stallTimeout = 300 * time.Millisecond
	for _, k := range []kind{cacheLine, futex, pipe} {
		t.Run(string(k), func(t *testing.T) {
			pls, err := parsePin("same", allowedCPUs(t))
			if err != nil {
				t.Fatal(err)
			}
			stop := func(p *peerproc.Proc) { syscall.Kill(p.Pid(), syscall.SIGSTOP) }
			_, err = measureOne(context.Background(), k, pls[0], time.Minute, stop)
			if err == nil || !strings.Contains(err.Error(), "answered nothing") {
				t.Errorf("stopped peer: error %v, want one saying it answered nothing", err)
			}
		})
	}
}

// CacheLine measures the cache-line round trip alone, at one placement,
// in two processes, and leaves this process's CPU mask as it found it.
func TestCacheLine(t *testing.T) {
	testmain.Watchdog(t, 2*time.Minute)
	before, _ := cpupin.Current()
	pins := map[string]string{"same": "yield"}
	if len(allowedCPUs(t)) >= 2 {
		pins["split"] = "spin"
	}
	for pin, wait := range pins {
		t0 := time.Now()
		rt, err := CacheLine(context.Background(), pin, MinCacheLineBudget) // what bench takes beside each case
		if err != nil {
			t.Fatalf("%s: %v", pin, err)
		}
		t.Logf("%s: %v in %v, peer start-up included (functional check, not a measurement)", pin, rt, time.Since(t0))
		checkRoundTrip(t, pin, rt, wait)
	}
	if after, _ := cpupin.Current(); after != before {
		t.Errorf("CPU mask %v after CacheLine, was %v", after, before)
	}
	for _, c := range []struct {
		pin    string
		budget time.Duration
		say    string
	}{
		{"same", time.Millisecond, "minimum"},
		{"both", 20 * time.Millisecond, "one placement"},
		{"", 20 * time.Millisecond, "one placement"},
		{"x", 20 * time.Millisecond, "want split, same, both"},
	} {
		if _, err := CacheLine(context.Background(), c.pin, c.budget); err == nil || !strings.Contains(err.Error(), c.say) {
			t.Errorf("CacheLine(%q, %v): %v, want an error saying %q", c.pin, c.budget, err, c.say)
		}
	}
}
