package floor

import (
	"bufio"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// Virtualization says whether the machine is a virtual one, and why we
// think so. A guest's "CPUs" are host threads that the hypervisor may
// move or descheduled, and their sysfs topology is what the hypervisor
// chose to show, so a floor measured in a guest is the guest's floor.
type Virtualization struct {
	Virtualized bool `json:"virtualized"`
	// HypervisorFlag: /proc/cpuinfo lists the "hypervisor" CPU flag (x86
	// guests; absent on bare metal and on most other architectures).
	HypervisorFlag bool `json:"hypervisor_flag"`
	// FlagsKnown: /proc/cpuinfo had a flags line, so a missing flag means
	// something.
	FlagsKnown bool `json:"flags_known"`
	// HypervisorType is /sys/hypervisor/type where readable (Xen, s390).
	HypervisorType string `json:"hypervisor_type,omitempty"`
	// DMIVendor and DMIProduct are /sys/class/dmi/id/sys_vendor and
	// product_name where readable.
	DMIVendor  string `json:"dmi_vendor,omitempty"`
	DMIProduct string `json:"dmi_product,omitempty"`
	// Evidence names what made Virtualized true.
	Evidence []string `json:"evidence,omitempty"`
}

// hypervisorVendors are DMI vendor or product strings of virtual machines
// (lower case, matched as substrings).
var hypervisorVendors = []string{"qemu", "kvm", "vmware", "virtualbox", "innotek", "xen", "bochs",
	"amazon ec2", "google compute engine", "microsoft corporation virtual machine", "parallels", "bhyve", "openstack", "cloud hypervisor", "firecracker"}

// DetectVirtualization reads the flags of cpuinfo (the contents of
// /proc/cpuinfo) and, under the sysfs root sys, /sys/hypervisor/type and
// the DMI identity. What cannot be read is left empty.
func DetectVirtualization(cpuinfo io.Reader, sys string) Virtualization {
	var v Virtualization
	if cpuinfo != nil {
		sc := bufio.NewScanner(cpuinfo)
		sc.Buffer(make([]byte, 64<<10), 1<<20) // flags lines are long
		for sc.Scan() {
			k, val, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			if k = strings.TrimSpace(k); k != "flags" && k != "Features" {
				continue
			}
			v.FlagsKnown = true
			v.HypervisorFlag = slices.Contains(strings.Fields(val), "hypervisor")
			break // every CPU lists the same flags
		}
	}
	if v.HypervisorFlag {
		v.Evidence = append(v.Evidence, "cpuinfo hypervisor flag")
	}
	if s, err := readTrim(filepath.Join(sys, "hypervisor/type")); err == nil && s != "" {
		v.HypervisorType = s
		v.Evidence = append(v.Evidence, "/sys/hypervisor/type "+s)
	}
	v.DMIVendor, _ = readTrim(filepath.Join(sys, "class/dmi/id/sys_vendor"))
	v.DMIProduct, _ = readTrim(filepath.Join(sys, "class/dmi/id/product_name"))
	id := strings.ToLower(v.DMIVendor + " " + v.DMIProduct)
	for _, h := range hypervisorVendors {
		if strings.Contains(id, h) {
			v.Evidence = append(v.Evidence, "DMI "+strings.TrimSpace(v.DMIVendor+" "+v.DMIProduct))
			break
		}
	}
	v.Virtualized = len(v.Evidence) > 0
	return v
}

// String is a one-line description.
func (v Virtualization) String() string {
	switch {
	case v.Virtualized:
		return "virtual machine (" + strings.Join(v.Evidence, "; ") + ")"
	case v.FlagsKnown || v.DMIVendor != "":
		return "no sign of a hypervisor"
	}
	return "unknown whether virtualised"
}
