package bench

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/checksum"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/transports"
	"golang.org/x/sys/unix"
)

// PeerRole is the peerproc role of the receiving process; PeerArgs are its
// arguments. The harness and the root package's Go benchmarks start it.
const PeerRole = "bench-peer"

func init() { peerproc.Register(PeerRole, peerMain) }

// PeerArgs are the arguments of PeerRole: the address to open, the mode,
// the measured and warm-up message counts, the message size, the CPU to
// pin to (-1 for none), the link mode (link.Mode.String), and whether the
// peer's end holds its waits (ipclab.WaitHolder).
func PeerArgs(addr, mode string, count, warm, size, cpu int, linkMode string, held bool) []string {
	return []string{addr, mode, strconv.Itoa(count), strconv.Itoa(warm), strconv.Itoa(size), strconv.Itoa(cpu), linkMode, strconv.FormatBool(held)}
}

// peerReport is what the receiving process prints on stdout at the end.
type peerReport struct {
	Cost      record.Cost       `json:"cost"`
	OneWay    *record.Summary   `json:"one_way,omitempty"`
	FirstNs   int64             `json:"first_ns"` // CLOCK_MONOTONIC at the first measured message
	LastNs    int64             `json:"last_ns"`  // ... and when the last one was read
	Bytes     uint64            `json:"bytes"`
	Sum       uint64            `json:"sum"`
	ClockErrN int64             `json:"clock_error_ns"`
	Link      *record.LinkStats `json:"link,omitempty"`
	Measured  int               `json:"measured"` // messages taken after the warm-up
	Waits     *record.Waits     `json:"waits,omitempty"`
	Held      bool              `json:"held,omitempty"` // its end held its waits
}

// peerMain: see PeerArgs.
func peerMain(args []string) error {
	if len(args) != 8 {
		return fmt.Errorf("want address mode count warmup size cpu link held, got %q", args)
	}
	lm, err := link.NewMode(args[6])
	if err != nil {
		return err
	}
	addr, mode := args[0], args[1]
	count, _ := strconv.Atoi(args[2])
	warm, _ := strconv.Atoi(args[3])
	size, _ := strconv.Atoi(args[4])
	cpu, _ := strconv.Atoi(args[5])
	if cpu >= 0 {
		var set unix.CPUSet
		set.Set(cpu)
		if err := pinProcess(&set); err != nil {
			return err
		}
	}
	clock := NewClock()
	var c ipclab.Conn
	if c, err = transports.OpenWith(addr, transports.Options{Register: true}); err != nil {
		return err
	}
	defer c.Close()
	held, err := strconv.ParseBool(args[7])
	if err != nil {
		return fmt.Errorf("held %q: want true or false", args[7])
	}
	if held {
		if err := holdWaits(c); err != nil {
			return err
		}
	}
	if w, ok := c.(ipclab.PeerWatcher); ok {
		if err := w.WatchPeer(os.Getppid()); err != nil {
			return err
		}
	}
	if c, err = lm.Wrap(c); err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, max(size+1, 64))
	drops := mode != Latency && lm.Drops() // the stream ends with a marker (linkstats.go)
	received := 0
	rep := peerReport{ClockErrN: int64(clock.ErrorBound), Held: held}
	var u0 usage
	var w0 *record.Waits
	var oneway []float64
	if (mode == Latency || mode == Load) && size >= 8 {
		oneway = make([]float64, 0, count)
	}
	collectBeforeCase()
	for i := 0; drops || i < warm+count; i++ {
		if i == warm {
			u0 = readUsage()
			w0 = readWaits(c)
		}
		n, err := c.Recv(buf)
		if err != nil {
			return fmt.Errorf("recv %d of %d: %w", i, warm+count, err)
		}
		if _, end := isEndMarker(buf[:n], size); drops && end {
			break
		}
		received++
		if i >= warm {
			rep.Measured++
		}
		if n != size {
			return fmt.Errorf("message %d: %d bytes, want %d", i, n, size)
		}
		// The clock costs as much as a small shared-memory message, so a
		// stream reads it only where the rate needs it, the first measured
		// message and the last one, and a ping-pong only where the sender
		// leaves the round trip out of its samples (record.OneWaySampled).
		var now int64
		switch {
		case mode == Latency:
			if size >= 8 && record.OneWaySampled(i-warm) {
				now = clock.Now()
			}
		case mode == Load || i == warm || (!drops && i == warm+count-1):
			now = clock.Now()
		}
		if i == warm {
			rep.FirstNs = now
		}
		switch mode {
		case Latency:
			if now != 0 {
				oneway = append(oneway, float64(now-int64(binary.LittleEndian.Uint64(buf))))
			}
			if err := c.Send(buf[:n]); err != nil {
				return fmt.Errorf("reply %d: %w", i, err)
			}
		case Load: // the sender stamped the intended send time
			if i >= warm {
				oneway = append(oneway, float64(now-int64(binary.LittleEndian.Uint64(buf))))
			}
		case Throughput:
			if i >= warm {
				rep.Bytes += uint64(n)
				rep.Sum += checksum.Sum(buf[:n])
			}
		default:
			return fmt.Errorf("unknown mode %q", mode)
		}
		if now != 0 {
			rep.LastNs = now
		}
	}
	if drops && mode == Throughput { // the end marker came right after the last message
		rep.LastNs = clock.Now()
	}
	rep.Cost = costSince(u0, count)
	rep.Waits = waitsSince(w0, c)
	if len(oneway) > 0 {
		s, err := record.Summarize(oneway)
		if err != nil {
			return err
		}
		rep.OneWay = &s
	}
	if mode == Throughput {
		// Tell the sender everything arrived, through the channel itself.
		if err := c.Send([]byte(confirmation(rep.Bytes, rep.Sum, received, drops))); err != nil && !errors.Is(err, ipclab.ErrPeerGone) {
			return err
		}
	}
	rep.Link = linkStats(c)
	return json.NewEncoder(os.Stdout).Encode(&rep)
}

// holdWaits makes c hold its waits (ipclab.WaitHolder); a case asks for it
// only where the transport's Caps say it can.
func holdWaits(c ipclab.Conn) error {
	h, ok := c.(ipclab.WaitHolder)
	if !ok {
		return fmt.Errorf("%s cannot hold its waits (ipclab.WaitHolder)", c.Addr().Transport())
	}
	return h.HoldWaits(true)
}
