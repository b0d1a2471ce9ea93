package floor

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Topology is how two CPUs relate, read from sysfs. A field whose file
// could not be read is left at its zero value and named in Unknown, so a
// reader never mistakes "not shared" for "not known".
type Topology struct {
	CPUs [2]int `json:"cpus"`
	// SameCPU: both ends run on one CPU (placement same).
	SameCPU bool `json:"same_cpu"`
	// SMTSiblings: two hardware threads of one core
	// (topology/thread_siblings_list), which share L1 and L2.
	SMTSiblings bool `json:"smt_siblings"`
	// ThreadSiblings is each CPU's thread_siblings_list as read.
	ThreadSiblings [2]string `json:"thread_siblings,omitempty"`
	// SharedCaches are the caches of the first CPU that the second also
	// uses (cache/index*/shared_cpu_list), innermost first.
	SharedCaches []Cache `json:"shared_caches,omitempty"`
	// LLCLevel is the level of the first CPU's last-level cache, and
	// SharedLLC whether the second CPU shares it.
	LLCLevel  int  `json:"llc_level,omitempty"`
	SharedLLC bool `json:"shared_llc"`
	// Packages are the CPUs' physical_package_id (socket), SameSocket
	// whether they are equal.
	Packages   [2]int `json:"packages"`
	SameSocket bool   `json:"same_socket"`
	// Unknown lists what could not be read (e.g. "cache" in a container
	// that hides sysfs caches).
	Unknown []string `json:"unknown,omitempty"`
}

// Cache is one CPU cache, as sysfs describes it.
type Cache struct {
	Level int    `json:"level"`
	Type  string `json:"type"` // Data, Instruction, Unified
	// SharedWith is the cache's shared_cpu_list.
	SharedWith string `json:"shared_with"`
}

// ReadTopology reads how CPUs a and b relate from the sysfs tree rooted at
// sys ("/sys" on a live system; tests pass a fixture tree).
func ReadTopology(sys string, a, b int) Topology {
	t := Topology{CPUs: [2]int{a, b}, SameCPU: a == b}
	cpuDir := func(c int) string { return filepath.Join(sys, "devices/system/cpu", "cpu"+strconv.Itoa(c)) }
	for i, c := range t.CPUs {
		s, err := readTrim(filepath.Join(cpuDir(c), "topology/thread_siblings_list"))
		if err != nil {
			t.Unknown = appendOnce(t.Unknown, "thread_siblings")
			continue
		}
		t.ThreadSiblings[i] = s
		if i == 0 && a != b {
			if set, err := ParseCPUList(s); err == nil {
				t.SMTSiblings = slices.Contains(set, b)
			} else {
				t.Unknown = appendOnce(t.Unknown, "thread_siblings")
			}
		}
	}
	for i, c := range t.CPUs {
		s, err := readTrim(filepath.Join(cpuDir(c), "topology/physical_package_id"))
		n, err2 := strconv.Atoi(s)
		if err != nil || err2 != nil {
			t.Unknown = appendOnce(t.Unknown, "physical_package_id")
			t.Packages[i] = -1
			continue
		}
		t.Packages[i] = n
	}
	t.SameSocket = t.Packages[0] >= 0 && t.Packages[0] == t.Packages[1]

	caches, err := readCaches(filepath.Join(cpuDir(a), "cache"))
	if err != nil || len(caches) == 0 {
		t.Unknown = appendOnce(t.Unknown, "cache")
		return t
	}
	var llc *Cache
	for i := range caches {
		c := &caches[i]
		set, err := ParseCPUList(c.SharedWith)
		if err != nil {
			t.Unknown = appendOnce(t.Unknown, "cache")
			continue
		}
		shared := slices.Contains(set, b)
		if shared {
			t.SharedCaches = append(t.SharedCaches, *c)
		}
		if c.Type != "Instruction" && (llc == nil || c.Level > llc.Level) {
			llc = c
			t.SharedLLC = shared
		}
	}
	if llc != nil {
		t.LLCLevel = llc.Level
	}
	return t
}

// readCaches reads the index* entries under dir, innermost level first.
func readCaches(dir string) ([]Cache, error) {
	idx, err := filepath.Glob(filepath.Join(dir, "index*"))
	if err != nil {
		return nil, err
	}
	var out []Cache
	for _, d := range idx {
		lv, err1 := readTrim(filepath.Join(d, "level"))
		typ, err2 := readTrim(filepath.Join(d, "type"))
		shared, err3 := readTrim(filepath.Join(d, "shared_cpu_list"))
		level, err4 := strconv.Atoi(lv)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
		out = append(out, Cache{Level: level, Type: typ, SharedWith: shared})
	}
	slices.SortStableFunc(out, func(x, y Cache) int { return x.Level - y.Level })
	return out, nil
}

// maxCPU bounds the CPU numbers ParseCPUList accepts, so a corrupt list
// cannot make it allocate without limit.
const maxCPU = 1 << 16

// ParseCPUList parses a kernel CPU list such as "0-3,8,10-11".
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 || first >= maxCPU {
			return nil, fmt.Errorf("bad CPU list %q: %q is not a CPU number below %d", s, lo, maxCPU)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first || last >= maxCPU {
				return nil, fmt.Errorf("bad CPU list %q: bad range %q", s, part)
			}
		}
		for c := first; c <= last; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// String describes the pair in a few words, e.g. "CPUs 0,1: SMT
// siblings, share L3, socket 0".
func (t Topology) String() string {
	if t.SameCPU {
		return fmt.Sprintf("CPU %d, both ends", t.CPUs[0])
	}
	var parts []string
	if t.SMTSiblings {
		parts = append(parts, "SMT siblings")
	} else if !slices.Contains(t.Unknown, "thread_siblings") {
		parts = append(parts, "separate cores")
	}
	switch {
	case slices.Contains(t.Unknown, "cache"):
		parts = append(parts, "caches unknown")
	case t.SharedLLC:
		parts = append(parts, fmt.Sprintf("share L%d", t.LLCLevel))
	default:
		parts = append(parts, fmt.Sprintf("no shared L%d", t.LLCLevel))
	}
	switch {
	case slices.Contains(t.Unknown, "physical_package_id"):
		parts = append(parts, "sockets unknown")
	case t.SameSocket:
		parts = append(parts, fmt.Sprintf("socket %d", t.Packages[0]))
	default:
		parts = append(parts, fmt.Sprintf("sockets %d and %d", t.Packages[0], t.Packages[1]))
	}
	return fmt.Sprintf("CPUs %d,%d: %s", t.CPUs[0], t.CPUs[1], strings.Join(parts, ", "))
}
