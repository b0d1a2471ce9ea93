package testmain

import (
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/peerproc"
)

func TestMain(m *testing.M) { Main(m) }

func init() {
	peerproc.Register("tm-wait", func([]string) error {
		fmt.Println("up")
		_, err := io.Copy(io.Discard, os.Stdin)
		return err
	})
}

// TestStartPeer: the peer runs its role (Main dispatched it before the
// leak check's re-execution), a leak report can name it, and closing its
// stdin ends it.
func TestStartPeer(t *testing.T) {
	p := StartPeer(t, nil, nil, "tm-wait")
	if line, err := p.ReadLine(10 * time.Second); err != nil || line != "up" {
		t.Fatalf("peer: %q, %v (%s)", line, err, p.Stderr())
	}
	if got, want := peerName(p.Pid()), "peer tm-wait of TestStartPeer"; got != want {
		t.Errorf("peerName = %q, want %q", got, want)
	}
	p.CloseStdin()
	if err := p.Wait(10 * time.Second); err != nil {
		t.Fatalf("peer after its stdin closed: %v", err)
	}
}
