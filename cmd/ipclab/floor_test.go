package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/floor"
)

func TestFloorJSON(t *testing.T) {
	out, errOut, code := runCLI(t, "", "floor", "-time", "200ms", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var f floor.Floor
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if len(f.Pairs) == 0 || f.BudgetNs != 200e6 {
		t.Fatalf("no pairs or wrong budget: %s", out)
	}
	if last := f.Pairs[len(f.Pairs)-1]; last.Placement != "same" || !last.Topology.SameCPU {
		t.Errorf("the default -pin both ends with same: %+v", last)
	}
	for _, p := range f.Pairs {
		for _, rt := range []floor.RoundTrip{p.CacheLine, p.Futex, p.Pipe} {
			if !(rt.MinNs > 0 && rt.MinNs <= rt.P50Ns && rt.P50Ns <= rt.P99Ns) || rt.Samples == 0 {
				t.Errorf("%s: %+v", p.Placement, rt)
			}
		}
	}
}

func TestFloorText(t *testing.T) {
	out, errOut, code := runCLI(t, "", "floor", "-pin", "same", "-time", "60ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"machine: ", "same: CPU ", "cache line", "futex", "pipe", "p50", "sched_yield"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestFloorBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		say  string
	}{
		{[]string{"-pin", "0,99999"}, "CPU 99999 is not one this process may use"},
		{[]string{"-pin", "left"}, "want split, same, both"},
		{[]string{"-time", "1ms"}, "minimum"},
	} {
		_, errOut, code := runCLI(t, "", append([]string{"floor"}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.say) {
			t.Errorf("floor %v: exit %d, stderr %q; want an error saying %q", c.args, code, errOut, c.say)
		}
	}
}
