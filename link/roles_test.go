package link

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/monoclock"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/transports"
)

// The peer roles of the link tests. Each gets [address, options, args...]
// and prints what the test checks as one JSON line on stdout.
func init() {
	peerproc.Register("link-take-late", roleTakeLate)
	peerproc.Register("link-send-late", roleSendLate)
	peerproc.Register("link-drain", roleDrain)
	peerproc.Register("link-sink", roleSink)
	peerproc.Register("link-overrun", roleOverrun)
	peerproc.Register("link-produce", roleProduce)
}

// formatOptions and parseOptions carry Options on a command line.
func formatOptions(o Options) string {
	return fmt.Sprintf("%d,%d,%t,%d,%t,%t", o.Capacity, o.Full, o.WaitAck, o.CreditBatch, o.NoCredits, o.Strict)
}

func parseOptions(s string) (Options, error) {
	var o Options
	var full int
	_, err := fmt.Sscanf(strings.ReplaceAll(s, ",", " "), "%d %d %t %d %t %t", &o.Capacity, &full, &o.WaitAck, &o.CreditBatch, &o.NoCredits, &o.Strict)
	o.Full = Full(full)
	return o, err
}

func openLink(args []string, extra int) (*Link, []string, error) {
	if len(args) < 2+extra {
		return nil, nil, fmt.Errorf("want address, options and %d more, got %q", extra, args)
	}
	opt, err := parseOptions(args[1])
	if err != nil {
		return nil, nil, err
	}
	c, err := transports.Open(args[0])
	if err != nil {
		return nil, nil, err
	}
	if w, ok := c.(ipclab.PeerWatcher); ok {
		w.WatchPeer(os.Getppid())
	}
	l, err := New(c, opt)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	l.SetDeadline(time.Now().Add(2 * time.Minute))
	return l, args[2:], nil
}

type peerResult struct {
	Time  int64 `json:"time"` // CLOCK_MONOTONIC of the event the test asked for
	Stats Stats `json:"stats"`
	Bad   int   `json:"bad"` // payloads out of order or corrupt
}

func report(r peerResult) error { return json.NewEncoder(os.Stdout).Encode(r) }

// roleTakeLate sleeps, takes one message and reports when it took it.
func roleTakeLate(args []string) error {
	l, _, err := openLink(args, 0)
	if err != nil {
		return err
	}
	defer l.Close()
	time.Sleep(100 * time.Millisecond)
	clock := monoclock.New()
	before := clock.Now() // the take happens after this instant
	if _, err := l.Recv(make([]byte, 64)); err != nil {
		return err
	}
	return report(peerResult{Time: before, Stats: l.Stats()})
}

// roleSendLate sleeps, reports when it starts to send, and sends one.
func roleSendLate(args []string) error {
	l, _, err := openLink(args, 0)
	if err != nil {
		return err
	}
	defer l.Close()
	time.Sleep(100 * time.Millisecond)
	if err := report(peerResult{Time: monoclock.New().Now()}); err != nil {
		return err
	}
	return l.Send([]byte("late"))
}

// roleDrain says ready, waits for a line on stdin, then takes n messages.
func roleDrain(args []string) error {
	l, rest, err := openLink(args, 1)
	if err != nil {
		return err
	}
	defer l.Close()
	n, _ := strconv.Atoi(rest[0])
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	buf := make([]byte, 64)
	for i := 0; i < n; i++ {
		if _, err := l.Recv(buf); err != nil {
			return fmt.Errorf("recv %d of %d: %w", i, n, err)
		}
	}
	// Nothing more may come: the sender's extra messages were refused or dropped.
	l.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := l.Recv(buf); !errors.Is(err, ipclab.ErrTimeout) {
		return fmt.Errorf("after %d messages: %v, want nothing more", n, err)
	}
	return report(peerResult{Stats: l.Stats()})
}

// roleSink takes n messages whose payload is their index (uint32), checks
// their order, sleeping pause every `every` messages, and reports.
func roleSink(args []string) error {
	l, rest, err := openLink(args, 3)
	if err != nil {
		return err
	}
	defer l.Close()
	n, _ := strconv.Atoi(rest[0])
	every, _ := strconv.Atoi(rest[1])
	pause, _ := time.ParseDuration(rest[2])
	buf := make([]byte, 64)
	bad, next := 0, uint32(0)
	for i := 0; i < n; i++ {
		m, err := l.Recv(buf)
		if err != nil {
			return fmt.Errorf("recv %d of %d: %w", i, n, err)
		}
		if m >= 4 && every > 0 { // order check only where the test keeps it
			if v := binary.LittleEndian.Uint32(buf); v != next {
				bad++
			}
			next++
		}
		if every > 0 && i%every == every-1 {
			time.Sleep(pause)
		}
	}
	return report(peerResult{Stats: l.Stats(), Bad: bad})
}

// roleOverrun speaks the link protocol without honouring the window: it
// sends n data messages straight on the transport, then waits to be killed.
func roleOverrun(args []string) error {
	c, err := transports.Open(args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	n, _ := strconv.Atoi(args[2])
	b := make([]byte, HeaderLen+4)
	for i := 1; i <= n; i++ {
		header{typ: typeData, pid: uint32(os.Getpid()), seq: uint64(i)}.put(b)
		if err := c.Send(b); err != nil {
			return err
		}
	}
	fmt.Println("sent")
	time.Sleep(time.Minute)
	return nil
}

// roleProduce sends n numbered messages (one of several producers).
func roleProduce(args []string) error {
	l, rest, err := openLink(args, 1)
	if err != nil {
		return err
	}
	defer l.Close()
	n, _ := strconv.Atoi(rest[0])
	b := make([]byte, 8)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(b, uint32(i))
		if err := l.Send(b); err != nil {
			return err
		}
	}
	return report(peerResult{Stats: l.Stats()})
}
