package floor

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"0", []int{0}},
		{"0-1", []int{0, 1}},
		{"0,8", []int{0, 8}},
		{"0-3,8-9,12", []int{0, 1, 2, 3, 8, 9, 12}},
		{" 4-5\n", []int{4, 5}},
		{"", nil},
	} {
		got, err := ParseCPUList(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"x", "3-1", "-1", "0-", "1,,2", "0-999999999"} {
		if got, err := ParseCPUList(bad); err == nil {
			t.Errorf("ParseCPUList(%q) = %v, want an error", bad, got)
		}
	}
}

func TestReadTopologyFixtures(t *testing.T) {
	for _, c := range []struct {
		tree                       string
		a, b                       int
		smt, sharedLLC, sameSocket bool
		llcLevel, sharedCaches     int
		packages                   [2]int
		describe                   string
	}{
		{"smt", 0, 1, true, true, true, 3, 4, [2]int{0, 0}, "CPUs 0,1: SMT siblings, share L3, socket 0"},
		{"llc", 0, 2, false, true, true, 3, 1, [2]int{0, 0}, "CPUs 0,2: separate cores, share L3, socket 0"},
		{"sockets", 0, 4, false, false, false, 3, 0, [2]int{0, 1}, "CPUs 0,4: separate cores, no shared L3, sockets 0 and 1"},
	} {
		t.Run(c.tree, func(t *testing.T) {
			top := ReadTopology("testdata/"+c.tree+"/sys", c.a, c.b)
			if len(top.Unknown) != 0 {
				t.Errorf("Unknown = %v on a complete fixture", top.Unknown)
			}
			if top.SameCPU || top.SMTSiblings != c.smt || top.SharedLLC != c.sharedLLC || top.SameSocket != c.sameSocket {
				t.Errorf("same %v smt %v sharedLLC %v sameSocket %v; want false %v %v %v",
					top.SameCPU, top.SMTSiblings, top.SharedLLC, top.SameSocket, c.smt, c.sharedLLC, c.sameSocket)
			}
			if top.LLCLevel != c.llcLevel || len(top.SharedCaches) != c.sharedCaches || top.Packages != c.packages {
				t.Errorf("LLC level %d, %d shared caches %v, packages %v; want %d, %d, %v",
					top.LLCLevel, len(top.SharedCaches), top.SharedCaches, top.Packages, c.llcLevel, c.sharedCaches, c.packages)
			}
			for i := 1; i < len(top.SharedCaches); i++ {
				if top.SharedCaches[i].Level < top.SharedCaches[i-1].Level {
					t.Errorf("shared caches not innermost first: %v", top.SharedCaches)
				}
			}
			if got := top.String(); got != c.describe {
				t.Errorf("String() = %q, want %q", got, c.describe)
			}
		})
	}
}

func TestReadTopologyMissing(t *testing.T) {
	top := ReadTopology("testdata/nocache/sys", 0, 1)
	if !slices.Equal(top.Unknown, []string{"cache"}) || top.SharedLLC || top.LLCLevel != 0 {
		t.Errorf("no cache dirs: Unknown %v, SharedLLC %v, LLC level %d; want [cache], false, 0", top.Unknown, top.SharedLLC, top.LLCLevel)
	}
	if !top.SameSocket || top.SMTSiblings {
		t.Errorf("no cache dirs: the topology files were still there: %+v", top)
	}
	if s := top.String(); !strings.Contains(s, "caches unknown") {
		t.Errorf("String() = %q, want it to say the caches are unknown", s)
	}
	none := ReadTopology(t.TempDir(), 0, 1)
	for _, want := range []string{"thread_siblings", "physical_package_id", "cache"} {
		if !slices.Contains(none.Unknown, want) {
			t.Errorf("empty tree: Unknown = %v, want %q in it", none.Unknown, want)
		}
	}
	if none.SameSocket || none.SMTSiblings || none.SharedLLC {
		t.Errorf("empty tree claims a relation: %+v", none)
	}
}

func TestReadTopologySameCPU(t *testing.T) {
	top := ReadTopology("testdata/smt/sys", 1, 1)
	if !top.SameCPU || top.SMTSiblings || !top.SharedLLC || !top.SameSocket {
		t.Errorf("one CPU with itself: %+v", top)
	}
	if s := top.String(); s != "CPU 1, both ends" {
		t.Errorf("String() = %q", s)
	}
}

func TestDetectVirtualization(t *testing.T) {
	open := func(name string) *os.File {
		f, err := os.Open("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	empty := t.TempDir()
	for _, c := range []struct {
		name, cpuinfo, sys     string
		virt, flag, flagsKnown bool
		evidence               int
	}{
		{"kvm guest by flag", "cpuinfo-guest", empty, true, true, true, 1},
		{"guest by flag and DMI", "cpuinfo-guest", "testdata/qemu/sys", true, true, true, 2},
		{"bare metal", "cpuinfo-metal", "testdata/metal/sys", false, false, true, 0},
		{"xen by sysfs", "cpuinfo-metal", "testdata/xen/sys", true, false, true, 1},
		{"arm, no DMI", "cpuinfo-arm", empty, false, false, true, 0},
		{"arm under QEMU", "cpuinfo-arm", "testdata/qemu/sys", true, false, true, 1},
		{"nothing readable", "", empty, false, false, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v Virtualization
			if c.cpuinfo == "" {
				v = DetectVirtualization(nil, c.sys)
			} else {
				v = DetectVirtualization(open(c.cpuinfo), c.sys)
			}
			if v.Virtualized != c.virt || v.HypervisorFlag != c.flag || v.FlagsKnown != c.flagsKnown || len(v.Evidence) != c.evidence {
				t.Errorf("got %+v; want virtualized %v flag %v flagsKnown %v and %d pieces of evidence", v, c.virt, c.flag, c.flagsKnown, c.evidence)
			}
			if s := v.String(); c.virt != strings.HasPrefix(s, "virtual machine") {
				t.Errorf("String() = %q", s)
			}
		})
	}
	v := DetectVirtualization(open("cpuinfo-metal"), "testdata/xen/sys")
	if v.HypervisorType != "xen" {
		t.Errorf("HypervisorType = %q, want xen", v.HypervisorType)
	}
	v = DetectVirtualization(open("cpuinfo-metal"), "testdata/metal/sys")
	if v.DMIVendor != "Dell Inc." || v.DMIProduct != "PowerEdge R650" {
		t.Errorf("DMI %q %q", v.DMIVendor, v.DMIProduct)
	}
}
