package plot

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ipclab/ipclab/record"
)

// placementWords say what each placement means, for captions.
var placementWords = map[string]string{
	"split": "split (one CPU each)",
	"same":  "same (both on one CPU)",
	"none":  "none (the scheduler places them)",
}

// context is the line under every figure: where and when it was
// measured, so a figure cut out of its directory still says what it is.
// "placement split (one CPU each) · AMD EPYC, 2 vCPUs, virtual machine
// (host steal time seen) · Linux 6.18.44 · 2026-11-22 · 5 runs"
func context(recs []record.Record) string {
	var parts []string
	var placements, cpus, kernels, days []string
	runs := map[int]bool{}
	virt := false
	for _, r := range recs {
		if r.Skipped != "" {
			continue
		}
		runs[r.Run] = true
		if r.StealMs > 0 {
			virt = true
		}
		add := func(list *[]string, v string) {
			if v != "" && !slices.Contains(*list, v) {
				*list = append(*list, v)
			}
		}
		p := r.Placement
		if w, ok := placementWords[p]; ok {
			p = w
		}
		add(&placements, p)
		if !r.Time.IsZero() {
			add(&days, r.Time.UTC().Format("2006-01-02"))
		}
		if e := r.Env; e != nil {
			cpu := e.CPUModel
			if cpu == "" {
				cpu = "CPU model unknown"
			}
			if e.NumCPU > 0 {
				cpu += fmt.Sprintf(", %d vCPUs", e.NumCPU)
			}
			add(&cpus, cpu)
			if k := strings.Fields(e.Kernel); len(k) >= 2 {
				add(&kernels, k[0]+" "+k[1])
			}
		}
	}
	if len(placements) > 0 {
		parts = append(parts, "placement "+strings.Join(placements, ", "))
	}
	machine := strings.Join(cpus, "; ")
	if machine == "" {
		machine = "machine not recorded"
	}
	// The records have no field that says "virtual machine"; host steal
	// time (/proc/stat) exists only under a hypervisor, so seeing any
	// proves one, while none proves nothing.
	if virt {
		machine += ", virtual machine (host steal time seen)"
	} else {
		machine += ", no host steal time seen"
	}
	parts = append(parts, machine)
	if len(kernels) > 0 {
		parts = append(parts, strings.Join(kernels, ", "))
	}
	slices.Sort(days)
	switch len(days) {
	case 0:
	case 1:
		parts = append(parts, days[0])
	default:
		parts = append(parts, days[0]+" to "+days[len(days)-1])
	}
	if n := len(runs); n == 1 {
		parts = append(parts, "1 run")
	} else if n > 1 {
		parts = append(parts, fmt.Sprintf("%d runs", n))
	}
	return strings.Join(parts, " · ")
}

// barsNote says what the run-to-run error bars are.
const barsNote = "Points: median over runs; error bars: lowest to highest run (min..max)"
