package pipe

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/testmain"
)

// TestMovedWriteDeadlineWakesFIFOSendWaitingForOpener: a FIFO creator's
// Send waits for an opener (writer); a write deadline moved into the past
// meanwhile applies to it (ipclab.Conn: "Setting a deadline affects calls
// already blocked"), as it does to a Send waiting for room (write.go).
func TestMovedWriteDeadlineWakesFIFOSendWaitingForOpener(t *testing.T) {
	testmain.Watchdog(t, 2*time.Minute)
	for _, first := range []time.Duration{0, time.Hour} { // no deadline; one far ahead
		c, err := CreateFIFO(filepath.Join(t.TempDir(), "lonely"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if first != 0 {
			c.SetWriteDeadline(time.Now().Add(first))
		}
		res := make(chan error, 1)
		go func() { res <- c.Send([]byte("anyone?")) }()
		time.Sleep(100 * time.Millisecond) // nobody opens: the Send waits by now
		select {
		case err := <-res:
			t.Fatalf("deadline %v: Send with no opener returned before its deadline moved: %v", first, err)
		default:
		}
		c.SetWriteDeadline(time.Now().Add(-time.Second))
		select {
		case err := <-res:
			if !errors.Is(err, ipclab.ErrTimeout) {
				t.Fatalf("deadline %v: Send waiting for an opener after its deadline moved into the past: %v, want ErrTimeout", first, err)
			}
		case <-time.After(30 * time.Second):
			c.Close()
			<-res
			t.Fatalf("deadline %v: Send still waiting for an opener 30 s after its deadline moved into the past", first)
		}
		c.Close()
	}
}
