package peerproc_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Main(m) }

func init() {
	peerproc.Register("peerproc-late-lines", func([]string) error {
		time.Sleep(300 * time.Millisecond)
		fmt.Println("first")
		fmt.Println("second")
		return nil
	})
}

// TestReadLineKeepsALateLine: a line printed after a ReadLine gave up is
// the next ReadLine's, not lost to the reader the first one left behind
// (which also raced the next one on the same buffer).
func TestReadLineKeepsALateLine(t *testing.T) {
	p, err := peerproc.Start("peerproc-late-lines", nil, peerproc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Wait(time.Minute)
	if s, err := p.ReadLine(10 * time.Millisecond); err == nil {
		t.Fatalf("ReadLine before the peer printed: %q, want a timeout", s)
	}
	for _, want := range []string{"first", "second"} {
		s, err := p.ReadLine(time.Minute)
		if err != nil || s != want {
			t.Fatalf("ReadLine: %q, %v; want %q", s, err, want)
		}
	}
	if s, err := p.ReadLine(time.Minute); err == nil {
		t.Fatalf("ReadLine after the peer's last line: %q, want end of file", s)
	}
}
