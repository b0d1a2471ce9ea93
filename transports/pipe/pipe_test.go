package pipe

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/transports/transporttest"
)

var fifoSeq atomic.Int64

// fifoDir holds this test binary's FIFOs; TestMain's leak check looks for
// FIFOs left below the temporary directory.
var fifoDir string

var trPipe = transporttest.Transport{
	Name: SchemePipe,
	Create: func() (ipclab.Conn, []*os.File, error) {
		c, files, err := Create(Options{})
		return c, files, err
	},
	Open:     func(addr string) (ipclab.Conn, error) { return Open(addr, Options{}) },
	BadAddrs: []string{"pipe:", "pipe:rfd=3", "pipe:rfd=3,wfd=3", "pipe:rfd=x,wfd=4", "pipe:rfd=3,wfd=4,zz=1", "fifo:", "sysvmsg:key=1"},
}

var trFIFO = transporttest.Transport{
	Name: SchemeFIFO,
	Create: func() (ipclab.Conn, []*os.File, error) {
		p := filepath.Join(os.TempDir(), "ipclab-test-fifo-"+itoa(os.Getpid())+"-"+itoa(int(fifoSeq.Add(1))))
		c, err := CreateFIFO(p, Options{})
		return c, nil, err
	},
	Open:         func(addr string) (ipclab.Conn, error) { return Open(addr, Options{}) },
	CreateInPeer: true,
	BadAddrs:     []string{"fifo:", "posixmq:/x"},
	MissingAddr:  func() string { return "fifo:" + filepath.Join(os.TempDir(), "ipclab-no-such-fifo") },
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestMain(m *testing.M) { transporttest.Main(m, trPipe, trFIFO) }

func TestConformance(t *testing.T) {
	t.Run("pipe", func(t *testing.T) { transporttest.Run(t, trPipe) })
	t.Run("fifo", func(t *testing.T) { transporttest.Run(t, trFIFO) })
}
