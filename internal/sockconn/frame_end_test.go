package sockconn

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"golang.org/x/sys/unix"
)

// TestEndInsideADiscardedFrame: a stream peer that goes away inside a
// frame too large for this end is gone in the middle of a frame, not a
// clean end of file between frames (PeerEOF).
func TestEndInsideADiscardedFrame(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(fds[1], Config{Kind: Stream, Limit: Limit{Max: 1024, Name: "test"}})
	if err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		t.Fatal(err)
	}
	defer c.Close()
	frame := binary.LittleEndian.AppendUint32(nil, 10000)
	frame = append(frame, make([]byte, 3000)...) // 3,000 of its 10,000 bytes
	_, err = unix.Write(fds[0], frame)
	unix.Close(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(time.Minute)) // against a hang, not a timing
	_, err = c.Recv(make([]byte, 1024))
	if !errors.Is(err, ipclab.ErrPeerGone) || errors.Is(err, io.EOF) {
		t.Fatalf("Recv after the peer left inside a discarded frame: %v; want ErrPeerGone, and not a clean end of file", err)
	}
}
