package bench

import (
	"testing"

	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/shmchan"
	"github.com/ipclab/ipclab/transports"
)

// TestCaseRingIsTheRecords: the ring each direction of a shared-memory
// case's channel gets is the one its record names (ring_bytes, which the
// C baseline's must equal), and the channel carries the case's message,
// raw and under a link (whose header the ring is sized for too).
func TestCaseRingIsTheRecords(t *testing.T) {
	cap16, err := link.NewMode("cap-16")
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{}.withDefaults()
	for _, tr := range []string{"sysvshm-futex", "sysvshm-sysvsem", "posixshm-posixsem", "posixshm-eventfd"} {
		for _, lm := range []link.Mode{link.Raw, cap16} {
			for _, size := range []int{64, shmchan.DefaultMaxMessage - link.HeaderLen, shmchan.DefaultMaxMessage, shmchan.DefaultMaxMessage + 1, 1 << 20} {
				cs := Case{Run: 1, Transport: tr, Link: lm, Size: size, Mode: Throughput, Impl: "go"}
				r := s.newRecord(cs)
				c, files, err := transports.CreateWith(tr, cs.transportOptions())
				if err != nil {
					t.Fatalf("%s: %v", cs, err)
				}
				for _, f := range files {
					f.Close()
				}
				ring := c.(interface{ Chan() *shmchan.Chan }).Chan().RingSize()
				skipped, err := fits(c, cs)
				c.Close()
				if ring != r.RingBytes || r.RingBytes == 0 {
					t.Errorf("%s: the channel's rings are %d bytes, its record says %d", cs, ring, r.RingBytes)
				}
				if skipped != "" || err != nil {
					t.Errorf("%s: the message does not fit its %d-byte ring: %q, %v", cs, ring, skipped, err)
				}
			}
		}
	}
}
