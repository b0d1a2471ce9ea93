package posixshm

import (
	"os"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/shmchan"
	"github.com/ipclab/ipclab/transports/transporttest"
)

// named is the conformance run of a named object with wait strategy s;
// inherited, of a memfd handed to the peer. Small rings keep the
// fill-until-blocked cases quick; the named futex one takes 1 MiB messages
// (maxMsg; 0: shmchan.DefaultMaxMessage), as the harness's largest size does.
func named(s shmchan.Strategy, ring, maxMsg int) transporttest.Transport {
	return transporttest.Transport{
		Name: Scheme + "-" + s.String(),
		Create: func() (ipclab.Conn, []*os.File, error) {
			c, err := Create(NewName(), shmchan.Config{Strategy: s, RingSize: ring, MaxMessage: maxMsg})
			return c, nil, err
		},
		Open: func(addr string) (ipclab.Conn, error) { return Open(addr, shmchan.AttachOptions{}) },
		Registered: func() (ipclab.Conn, error) {
			return Create(NewName(), shmchan.Config{Strategy: s, RingSize: ring, MaxMessage: maxMsg, Register: true})
		},
		CreateInPeer: true,
		BadAddrs: []string{"posixshm:", "posixshm:name=x", "posixshm:name=/a/b", "posixshm:name=/", "posixshm:fd=x",
			"posixshm:name=/a,fd=3", "posixshm:name=/a,wait=sleepy", "posixshm:name=/a,wait=sysvsem", "sysvshm:id=1",
			"posixshm:name=/a,name=/b", "posixshm:name=/a,spin=fast", "posixshm:name=/..", "posixshm:owner=me,name=/a",
			"posixshm:name=/a,efd=4", "posixshm:fd=3,efd=2", "posixshm:fd=3,wait=eventfd", "posixshm:fd=3,efd=4,wait=futex"},
		MissingAddr: func() string { return Scheme + ":name=/ipclab-missing-object" },
	}
}

func inherited(s shmchan.Strategy, ring int) transporttest.Transport {
	tr := named(s, ring, 0)
	tr.Name += "-memfd"
	tr.Create = func() (ipclab.Conn, []*os.File, error) {
		c, files, err := CreateInherited(shmchan.Config{Strategy: s, RingSize: ring})
		if err != nil {
			return nil, nil, err
		}
		return c, files, nil
	}
	tr.Registered, tr.CreateInPeer = nil, false // a memfd has nothing to record, and only a child can inherit it
	return tr
}

var trs = []transporttest.Transport{
	named(shmchan.Futex, 4<<20, 1<<20),
	named(shmchan.PosixSem, 256<<10, 0),
	named(shmchan.Spin, 256<<10, 0),
	inherited(shmchan.Futex, 256<<10),
	inherited(shmchan.Spin, 256<<10),
	inherited(shmchan.EventFD, 256<<10),
}

// held are the strategies that wait in the kernel, with held waits: the
// named futex and posixsem channels and the inherited eventfd one.
var held = []transporttest.Transport{transporttest.Held(trs[0]), transporttest.Held(trs[1]), transporttest.Held(trs[5])}

func TestMain(m *testing.M) {
	transporttest.MainWith(m, testmain.Options{PrivateDevShm: true}, append(trs, held...)...)
}

func TestConformance(t *testing.T) {
	for _, tr := range append(trs, held...) {
		t.Run(tr.Name, func(t *testing.T) { transporttest.Run(t, tr) })
	}
}

func TestAddrRoundTrip(t *testing.T) {
	for _, s := range []string{"posixshm:name=/x", "posixshm:name=/ipclab-1-2,wait=posixsem", "posixshm:fd=3,wait=futex,spin=off",
		"posixshm:name=/y,spin=20µs,owner=any", "posixshm:fd=3,efd=4,wait=eventfd"} {
		a, err := ParseAddr(s)
		if err != nil || a.String() != s {
			t.Errorf("ParseAddr(%q) = %v (%v), printed back as %q", s, a, err, a.String())
		}
	}
}
