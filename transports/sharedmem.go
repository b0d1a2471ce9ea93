package transports

import (
	"strings"

	"github.com/ipclab/ipclab/transports/sysvshm"
)

// SharedMemory reports whether the transport named name (a name or an
// address Create takes) moves messages through shared memory, whose
// figures are best read against the machine's floor (package floor).
func SharedMemory(name string) bool {
	s := scheme(name)
	return s == sysvshm.Scheme || strings.HasPrefix(s, sysvshm.Scheme+"-")
}
