package posixmq

import (
	"os"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/transports/transporttest"
)

var tr = transporttest.Transport{
	Name: Scheme,
	Create: func() (ipclab.Conn, []*os.File, error) {
		c, err := Create(NewName(), Options{})
		return c, nil, err
	},
	Open:         func(addr string) (ipclab.Conn, error) { return Open(addr) },
	Registered:   func() (ipclab.Conn, error) { return Create(NewName(), Options{Register: true}) },
	CreateInPeer: true,
	BadAddrs:     []string{"posixmq:", "posixmq:/", "posixmq:noslash", "posixmq:/a/b", "sysvmsg:key=1", "posixmq:/" + string(make([]byte, 300)), "posixmq:/x,double", "posixmq:/x,single,single", "posixmq:/x,owner=me", "posixmq:/x,owner=any,owner=any", "posixmq:/x,", "posixmq:/x,single,"},
	MissingAddr:  func() string { return "posixmq:/ipclab-missing-queue" },
}

func TestMain(m *testing.M) { transporttest.Main(m, tr, transporttest.Held(tr)) }

func TestConformance(t *testing.T) {
	transporttest.Run(t, tr)
	t.Run("held", func(t *testing.T) { transporttest.Run(t, transporttest.Held(tr)) })
}
