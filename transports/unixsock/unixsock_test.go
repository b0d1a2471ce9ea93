package unixsock

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sockconn"
	"github.com/ipclab/ipclab/transports/transporttest"
)

var seq atomic.Int64

// tempPath is a fresh socket path in the test binary's own temporary
// directory (leakcheck's), which the leak check watches.
func tempPath() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("us-%d-%d", os.Getpid(), seq.Add(1)))
}

var kinds = []sockconn.Kind{sockconn.Stream, sockconn.SeqPacket, sockconn.Datagram}

func open(addr string) (ipclab.Conn, error) { return Open(addr, Options{}) }

// The three ways to a pair, for each kind.
func trPair(k sockconn.Kind) transporttest.Transport {
	s := schemeOf(k)
	return transporttest.Transport{
		Name: s + "/pair",
		Create: func() (ipclab.Conn, []*os.File, error) {
			c, files, err := CreatePair(k, Options{})
			return c, files, err
		},
		Open:     open,
		BadAddrs: []string{s + ":fd=", s + ":fd=-1", "pipe:rfd=3,wfd=4"},
	}
}

func trAbstract(k sockconn.Kind) transporttest.Transport {
	s := schemeOf(k)
	return transporttest.Transport{
		Name:         s + "/abstract",
		Create:       func() (ipclab.Conn, []*os.File, error) { c, err := Create(k, Options{}); return c, nil, err },
		Open:         open,
		CreateInPeer: true,
		BadAddrs:     []string{s + ":", s + ":@", "unixsock:@x", s + ":@" + strings.Repeat("x", 200), s + "x:@a"},
		MissingAddr:  func() string { return s + ":@ipclab-no-such-" + NewName() },
	}
}

func trPath(k sockconn.Kind) transporttest.Transport {
	s := schemeOf(k)
	return transporttest.Transport{
		Name: s + "/path",
		Create: func() (ipclab.Conn, []*os.File, error) {
			c, err := CreateAt(Addr{Kind: k, Path: tempPath(), FD: -1}, Options{})
			return c, nil, err
		},
		Open: open,
		Registered: func() (ipclab.Conn, error) {
			return CreateAt(Addr{Kind: k, Path: tempPath(), FD: -1}, Options{Register: true})
		},
		CreateInPeer: true,
		BadAddrs:     []string{s + ":" + strings.Repeat("/x", 100)},
		MissingAddr:  func() string { return s + ":" + filepath.Join(os.TempDir(), "ipclab-no-such-socket") },
	}
}

// plain are the three ways to a pair of each kind.
func plain() []transporttest.Transport {
	var out []transporttest.Transport
	for _, k := range kinds {
		out = append(out, trPair(k), trAbstract(k), trPath(k))
	}
	return out
}

// all are plain, then each of them again with held waits.
func all() []transporttest.Transport {
	out := plain()
	for _, tr := range out[:len(out):len(out)] {
		out = append(out, transporttest.Held(tr))
	}
	return out
}

func TestMain(m *testing.M) { transporttest.Main(m, all()...) }

func TestConformance(t *testing.T) {
	for _, tr := range all() {
		t.Run(tr.Name, func(t *testing.T) { transporttest.Run(t, tr) })
	}
}
