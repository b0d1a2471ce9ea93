package pipe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/transports/transporttest"
)

var fifoSeq atomic.Int64

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
		p := filepath.Join(os.TempDir(), fmt.Sprintf("ipclab-test-fifo-%d-%d", os.Getpid(), fifoSeq.Add(1)))
		c, err := CreateFIFO(p, Options{})
		return c, nil, err
	},
	Open: func(addr string) (ipclab.Conn, error) { return Open(addr, Options{}) },
	Registered: func() (ipclab.Conn, error) {
		p := filepath.Join(os.TempDir(), fmt.Sprintf("ipclab-test-fifo-%d-%d", os.Getpid(), fifoSeq.Add(1)))
		return CreateFIFO(p, Options{Register: true})
	},
	CreateInPeer: true,
	BadAddrs:     []string{"fifo:", "posixmq:/x"},
	MissingAddr:  func() string { return "fifo:" + filepath.Join(os.TempDir(), "ipclab-no-such-fifo") },
}

func TestMain(m *testing.M) {
	transporttest.Main(m, trPipe, trFIFO, transporttest.Held(trPipe), transporttest.Held(trFIFO))
}

func TestConformance(t *testing.T) {
	t.Run("pipe", func(t *testing.T) { transporttest.Run(t, trPipe) })
	t.Run("fifo", func(t *testing.T) { transporttest.Run(t, trFIFO) })
	t.Run("pipe-held", func(t *testing.T) { transporttest.Run(t, transporttest.Held(trPipe)) })
	t.Run("fifo-held", func(t *testing.T) { transporttest.Run(t, transporttest.Held(trFIFO)) })
}

func TestPipeSize(t *testing.T) {
	c, _ := created(t)
	n, err := c.PipeSize()
	if err != nil || n < 4096 {
		t.Fatalf("PipeSize = %d, %v; want the kernel's pipe capacity", n, err)
	}
	got, err := c.SetPipeSize(256 << 10)
	if err != nil || got < 256<<10 {
		t.Fatalf("SetPipeSize(256 KiB) = %d, %v", got, err)
	}
	if n, _ := c.PipeSize(); n != got {
		t.Fatalf("PipeSize after set = %d, want %d", n, got)
	}
}

func TestFIFOPathThatIsNotAFIFO(t *testing.T) {
	base := filepath.Join(t.TempDir(), "plain")
	for _, p := range []string{base + ".1", base + ".2"} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Open("fifo:"+base, Options{})
	if err == nil || !strings.Contains(err.Error(), "not a FIFO") {
		t.Fatalf("open of regular files as a FIFO: %v; want an error saying they are not FIFOs", err)
	}
	_, err = CreateFIFO(base, Options{})
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("create over existing paths: %v; want an error matching os.ErrExist", err)
	}
}

func TestFIFOModeIs0600(t *testing.T) {
	base := filepath.Join(t.TempDir(), "m")
	c, err := CreateFIFO(base, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range []string{base + ".1", base + ".2"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode()&os.ModeNamedPipe == 0 || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want a FIFO with mode 0600", p, st.Mode(), err)
		}
	}
	c.Close()
	if _, err := os.Stat(base + ".1"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after close without an opener the FIFO is still there: %v", err)
	}
}

// created is Create with default options, the end and the child's files
// closed when the test ends.
func created(t *testing.T) (*Conn, []*os.File) {
	t.Helper()
	c, files, err := Create(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		for _, f := range files {
			f.Close()
		}
	})
	return c, files
}
