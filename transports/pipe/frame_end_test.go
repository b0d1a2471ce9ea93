package pipe

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
)

// TestEndInsideADiscardedFrame: a writer that goes away inside a frame
// too large for this end is gone in the middle of a frame, not a clean
// end of file between frames (PeerEOF).
func TestEndInsideADiscardedFrame(t *testing.T) {
	c, files, err := Create(Options{MaxMessage: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	toUs := files[1] // the child's write end of the pipe c reads
	files[0].Close()
	frame := binary.LittleEndian.AppendUint32(nil, 10000)
	frame = append(frame, make([]byte, 3000)...) // 3,000 of its 10,000 bytes
	if _, err := toUs.Write(frame); err != nil {
		t.Fatal(err)
	}
	toUs.Close()
	c.SetReadDeadline(time.Now().Add(time.Minute)) // against a hang, not a timing
	_, err = c.Recv(make([]byte, 1024))
	if !errors.Is(err, ipclab.ErrPeerGone) || errors.Is(err, io.EOF) {
		t.Fatalf("Recv after the writer left inside a discarded frame: %v; want ErrPeerGone, and not a clean end of file", err)
	}
}
