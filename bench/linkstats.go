package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/checksum"
	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/record"
)

// Links with the Drop and Fail policies are measured as they behave:
// a Fail link's Send that returns ErrFull is retried (the sender yields
// meanwhile; Stats counts how often the link was full), and a Drop link's
// dropped messages are lost, so a streaming receiver cannot count to a
// fixed number: the sender ends the stream with a marker, a message one
// byte longer than the case's size carrying how many were transmitted,
// resent until the link does not drop it.

// sendOnLink sends msg, retrying while a Fail link is full.
func sendOnLink(c ipclab.Conn, msg []byte) error {
	for {
		err := c.Send(msg)
		if !errors.Is(err, link.ErrFull) {
			return err
		}
		runtime.Gosched()
	}
}

// endMarkerLen is the marker's length for a case of size bytes: never
// size, and room for its count.
func endMarkerLen(size, max int) int {
	if n := size + 1; n <= max {
		return n
	}
	return size - 1 // size is the largest message, far above 8
}

// endStream sends the marker after a stream on a Drop link: how many
// messages of the stream were transmitted, not dropped.
func endStream(c ipclab.Conn, size int) error {
	l, ok := c.(*link.Link)
	if !ok {
		return nil
	}
	s := l.Stats()
	sent := s.Sent - s.Dropped
	for {
		m := make([]byte, max(endMarkerLen(size, c.MaxMessageSize()), 8))
		binary.LittleEndian.PutUint64(m, sent)
		before := l.Stats().Dropped
		if err := sendOnLink(c, m); err != nil {
			return fmt.Errorf("end of stream marker: %w", err)
		}
		if l.Stats().Dropped == before {
			return nil
		}
		runtime.Gosched()
	}
}

// isEndMarker tells the marker from a message of the case's size, and
// returns how many messages the sender transmitted.
func isEndMarker(b []byte, size int) (uint64, bool) {
	if len(b) == size || len(b) < 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

// confirmation is what a throughput receiver sends back once it has
// everything: bytes and checksum of the measured messages, and, on a Drop
// link, how many messages arrived in all.
func confirmation(bytes, sum uint64, received int, drops bool) string {
	if drops {
		return fmt.Sprintf("%d %d %d", bytes, sum, received)
	}
	return fmt.Sprintf("%d %d", bytes, sum)
}

// checkConfirmation checks the receiver's confirmation against what the
// sender sent: count messages of msg, less the drops of a Drop link. It
// returns how many measured messages arrived.
func checkConfirmation(got string, c ipclab.Conn, count, warm int, msg []byte, drops bool) (int, error) {
	if !drops {
		want := confirmation(uint64(count*len(msg)), uint64(count)*checksum.Sum(msg), 0, false)
		if got != want {
			return 0, fmt.Errorf("the receiver read %q (bytes, checksum), want %q", got, want)
		}
		return count, nil
	}
	var bytes, sum uint64
	var received int
	if _, err := fmt.Sscanf(got, "%d %d %d", &bytes, &sum, &received); err != nil {
		return 0, fmt.Errorf("the receiver's confirmation %q: %w", got, err)
	}
	s := c.(*link.Link).Stats()
	transmitted := int(s.Sent-s.Dropped) - 1 // the marker
	measured := uint64(max(received-warm, 0))
	switch {
	case received != transmitted:
		return 0, fmt.Errorf("the receiver took %d messages; %d were transmitted (%d sent, %d dropped)", received, transmitted, s.Sent-1, s.Dropped)
	case bytes != measured*uint64(len(msg)) || sum != measured*checksum.Sum(msg):
		return 0, fmt.Errorf("the receiver read %d bytes (checksum %d) in %d measured messages of %d bytes", bytes, sum, measured, len(msg))
	}
	return int(measured), nil
}

// linkStats returns a link's counters, nil for a raw Conn.
func linkStats(c ipclab.Conn) *record.LinkStats {
	if l, ok := c.(*link.Link); ok {
		s := record.LinkStats(l.Stats())
		return &s
	}
	return nil
}
