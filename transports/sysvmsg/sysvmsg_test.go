package sysvmsg

import (
	"os"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/transports/transporttest"
)

var tr = transporttest.Transport{
	Name: Scheme,
	Create: func() (ipclab.Conn, []*os.File, error) {
		c, err := Create(sysipc.IPCPrivate, Options{})
		return c, nil, err
	},
	Open:         func(addr string) (ipclab.Conn, error) { return Open(addr, Options{}) },
	Registered:   func() (ipclab.Conn, error) { return Create(sysipc.IPCPrivate, Options{Register: true}) },
	CreateInPeer: true,
	BadAddrs: []string{
		"sysvmsg:", "sysvmsg:key=zz", "sysvmsg:key=0", "sysvmsg:id=-3", "sysvmsg:key=1,id=2",
		"sysvmsg:path=/bin/cat", "sysvmsg:path=/bin/cat,proj=x", "sysvmsg:path=/bin/cat,proj=99999999999", "posixmq:/x", "sysvmsg:color=red", "sysvmsg:key=1,owner=me",
	},
	MissingAddr: func() string { return "sysvmsg:key=0x7ffffff0" },
}

func TestMain(m *testing.M) { transporttest.Main(m, tr, transporttest.Held(tr)) }

func TestConformance(t *testing.T) {
	transporttest.Run(t, tr)
	t.Run("held", func(t *testing.T) { transporttest.Run(t, transporttest.Held(tr)) })
}
