package sysvshm

import (
	"os"
	"strings"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/shmchan"
	"github.com/ipclab/ipclab/transports/transporttest"
)

// One conformance run per wait strategy. Small rings keep the
// fill-until-blocked cases quick; one of them takes 1 MiB messages (maxMsg;
// 0: shmchan.DefaultMaxMessage), as the harness's largest size does.
func transport(s shmchan.Strategy, ring, maxMsg int) transporttest.Transport {
	return transporttest.Transport{
		Name: Scheme + "-" + s.String(),
		Create: func() (ipclab.Conn, []*os.File, error) {
			c, err := Create(shmchan.Config{Strategy: s, RingSize: ring, MaxMessage: maxMsg})
			return c, nil, err
		},
		Open: func(addr string) (ipclab.Conn, error) { return Open(addr, shmchan.AttachOptions{}) },
		Registered: func() (ipclab.Conn, error) {
			return Create(shmchan.Config{Strategy: s, RingSize: ring, MaxMessage: maxMsg, Register: true})
		},
		CreateInPeer: true,
		BadAddrs: []string{"sysvshm:", "sysvshm:id=x", "sysvshm:key=0", "sysvshm:id=1,key=2",
			"sysvshm:id=1,wait=sleepy", "sysvmsg:key=1", "sysvshm:id=1,id=2", "sysvshm:id=1,spin=fast", "sysvshm:id=1,spin=-5us",
			"sysvshm:path=/bin/cat", "sysvshm:path=/nonexistent-ipclab,proj=1", "sysvshm:key=1,path=/bin/cat,proj=1"},
		MissingAddr: func() string { return "sysvshm:id=2147483000" },
	}
}

var trs = []transporttest.Transport{
	transport(shmchan.Futex, 4<<20, 1<<20),
	transport(shmchan.SysVSem, 256<<10, 0),
	transport(shmchan.Spin, 256<<10, 0),
}

// held are the strategies that wait in the kernel, with held waits.
var held = []transporttest.Transport{transporttest.Held(trs[0]), transporttest.Held(trs[1])}

func TestMain(m *testing.M) { transporttest.Main(m, append(trs, held...)...) }

func TestConformance(t *testing.T) {
	for _, tr := range append(trs, held...) {
		t.Run(tr.Name, func(t *testing.T) { transporttest.Run(t, tr) })
	}
}

// TestSpinHasNothingToHold: spin never waits in the kernel, so HoldWaits
// says so rather than pretend.
func TestSpinHasNothingToHold(t *testing.T) {
	for _, s := range []shmchan.Strategy{shmchan.Spin} {
		c, err := Create(shmchan.Config{Strategy: s, RingSize: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		err = c.HoldWaits(true)
		c.Close()
		if err == nil || !strings.Contains(err.Error(), "no waits to hold") {
			t.Errorf("%s: HoldWaits(true) = %v, want a refusal", s, err)
		}
	}
}

func TestAddrRoundTrip(t *testing.T) {
	for _, s := range []string{"sysvshm:id=7", "sysvshm:key=0x4d2,wait=sysvsem", "sysvshm:id=3,wait=futex,spin=off", "sysvshm:id=3,spin=20µs"} {
		a, err := ParseAddr(s)
		if err != nil || a.String() != s {
			t.Errorf("ParseAddr(%q) = %v (%v), printed back as %q", s, a, err, a.String())
		}
	}
}
