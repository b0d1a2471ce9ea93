package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/transports"
	"golang.org/x/sys/unix"
)

// Fan-in: N producer processes send into one consumer (this process).
// The SysV and POSIX queues are one kernel object every producer opens; a
// FIFO is one named pipe every producer writes fixed-size records into
// (a write of at most PIPE_BUF bytes is atomic, so records never mix);
// the shared-memory fan-in is one ring per producer, which is how shared
// memory scales (an SPSC ring needs no lock), drained by one goroutine
// per ring into the consumer. Each message carries its producer and a
// sequence number, and the consumer checks every producer's order.

const faninRole = "bench-fanin-producer"

// pipeBuf is PIPE_BUF on Linux: the largest write a pipe keeps whole.
const pipeBuf = 4096

func init() { peerproc.Register(faninRole, faninProducer) }

// faninCase is one fan-in case in progress: where its producers send,
// what the consumer reads, and the producers; close undoes it all.
type faninCase struct {
	cs    Case
	per   int              // messages per producer
	addrs []string         // what each producer opens
	conns []ipclab.Conn    // the consumer's ends: one, or one per producer (rings)
	fifo  *os.File         // a shared FIFO's read end
	procs []*peerproc.Proc // the producers
	undo  []func()         // run in reverse by close
}

func (f *faninCase) close() {
	for _, u := range slices.Backward(f.undo) {
		u()
	}
	f.undo = nil
}

// runFanIn measures one fan-in case: the aggregate rate at which the
// consumer receives count messages from cs.Producers processes.
func (s Spec) runFanIn(ctx context.Context, cs Case) (record.Record, error) {
	r := s.newRecord(cs)
	r.Producers = cs.Producers
	fanin := capsOf(cs.Transport).FanIn
	if cs.Size < 16 || cs.Size > pipeBuf && fanin == transports.SharedFIFO {
		r.Skipped = fmt.Sprintf("fan-in needs 16 bytes for producer and sequence, and a FIFO at most PIPE_BUF (%d) for atomic writes", pipeBuf)
		return r, nil
	}
	f := &faninCase{cs: cs, per: max(r.Count/cs.Producers, 1)}
	r.Count = f.per * cs.Producers
	defer f.close()
	if skipped, err := f.makeSources(fanin); skipped != "" || err != nil {
		r.Skipped = skipped
		return r, err
	}
	// Ctrl-C and the case's bound close the sources, as a session's do
	// (session.go: a deadline would cost the consumer's every wait).
	closeAll := func() {
		for _, c := range f.conns {
			c.Close()
		}
		if f.fifo != nil {
			f.fifo.Close()
		}
	}
	deadline := time.Now().Add(s.CaseTimeout)
	var timedOut atomic.Bool
	timer := time.AfterFunc(s.CaseTimeout, func() {
		timedOut.Store(true)
		closeAll()
	})
	defer timer.Stop()
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	start, err := f.startProducers(deadline)
	if err != nil {
		return r, err
	}
	return r, timeoutErr(f.consume(&r, start, deadline), timedOut.Load(), s.CaseTimeout)
}

// makeSources makes what the producers send into: a FIFO, a ring per
// producer, or one queue; or says why the case cannot run.
func (f *faninCase) makeSources(fanin transports.FanIn) (skipped string, err error) {
	cs := f.cs
	create := func() (ipclab.Conn, error) {
		c, _, err := transports.CreateWith(cs.Transport, cs.transportOptions())
		if err == nil {
			f.conns = append(f.conns, c)
			f.undo = append(f.undo, func() { c.Close() })
		}
		return c, err
	}
	switch fanin {
	case transports.SharedFIFO:
		dir, err := os.MkdirTemp("", "ipclab-fanin-")
		if err != nil {
			return "", err
		}
		f.undo = append(f.undo, func() { os.RemoveAll(dir) })
		path := filepath.Join(dir, "fifo")
		if err := unix.Mkfifo(path, 0o600); err != nil {
			return "", err
		}
		// Read-write: opening does not wait for a writer, and the consumer
		// never sees EOF between producers.
		if f.fifo, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
			return "", err
		}
		fifo := f.fifo
		f.undo = append(f.undo, func() { fifo.Close() })
		for range cs.Producers {
			f.addrs = append(f.addrs, "rawfifo:"+path)
		}
	case transports.RingPerProducer:
		for range cs.Producers {
			c, err := create()
			if err != nil {
				return "", err
			}
			f.addrs = append(f.addrs, c.Addr().String())
		}
	default:
		c, err := create()
		if err != nil {
			return "", err
		}
		if cs.Size > c.MaxMessageSize() {
			return fmt.Sprintf("message of %d bytes exceeds the transport's maximum %d", cs.Size, c.MaxMessageSize()), nil
		}
		if fi, ok := c.(ipclab.FanIn); ok {
			// One producer may finish before the last has opened: the
			// queue ends only when all of them have closed.
			fi.ExpectOpeners(cs.Producers)
		}
		for range cs.Producers {
			f.addrs = append(f.addrs, c.Addr().String())
		}
	}
	return "", nil
}

// startProducers starts a producer per address and waits until each is
// ready. Each starts sending when its stdin closes, all at once, so
// start-up is not measured: start closes it.
func (f *faninCase) startProducers(deadline time.Time) (start func(), err error) {
	goR, goW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	f.undo = append(f.undo, func() { goW.Close() })
	f.undo = append(f.undo, func() {
		for _, p := range f.procs {
			if !p.Exited() {
				p.Kill()
			}
		}
	})
	defer goR.Close()
	for i, a := range f.addrs {
		p, err := peerproc.Start(faninRole, []string{a, strconv.Itoa(i), strconv.Itoa(f.per), strconv.Itoa(f.cs.Size)}, peerproc.Options{Stdin: goR, Env: cpupin.ChildEnv()})
		if err != nil {
			return nil, err
		}
		f.procs = append(f.procs, p)
		if len(f.conns) == len(f.addrs) { // a ring per producer: watch its producer
			if w, ok := f.conns[i].(ipclab.PeerWatcher); ok {
				if err := w.WatchPeer(p.Pid()); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, p := range f.procs {
		if line, err := p.ReadLine(time.Until(deadline)); err != nil || line != "ready" {
			return nil, fmt.Errorf("producer not ready: %q %v (%s)", line, err, p.Stderr())
		}
	}
	return func() { goW.Close() }, nil
}

// consume starts the producers and takes r.Count messages from them,
// checking each producer's order, and fills in the rate and the cost.
func (f *faninCase) consume(r *record.Record, start func(), deadline time.Time) error {
	cs := f.cs
	// One goroutine per source delivers into msgs; for the queues and the
	// FIFO that is one source.
	msgs := make(chan [2]uint64, 1024)
	errc := make(chan error, len(f.conns)+1)
	var wg sync.WaitGroup
	receive := func(recv func([]byte) (int, error), n int) {
		defer wg.Done()
		buf := make([]byte, cs.Size)
		for range n {
			k, err := recv(buf)
			if err == nil && k != cs.Size {
				err = fmt.Errorf("a %d-byte message, want %d", k, cs.Size)
			}
			if err != nil {
				errc <- err
				return
			}
			msgs <- [2]uint64{binary.LittleEndian.Uint64(buf), binary.LittleEndian.Uint64(buf[8:])}
		}
	}
	switch {
	case f.fifo != nil:
		wg.Add(1)
		go receive(func(b []byte) (int, error) { return io.ReadFull(f.fifo, b) }, r.Count)
	case len(f.conns) == len(f.addrs):
		for _, c := range f.conns {
			wg.Add(1)
			go receive(c.Recv, f.per)
		}
	default:
		wg.Add(1)
		go receive(f.conns[0].Recv, r.Count)
	}
	collectBeforeCase()
	u0 := readUsage()
	clock := NewClock()
	t0 := clock.Now()
	start()
	next := make([]uint64, cs.Producers)
	for got := 0; got < r.Count; got++ {
		select {
		case m := <-msgs:
			id, seq := m[0], m[1]
			if id >= uint64(cs.Producers) {
				return fmt.Errorf("a message from producer %d of %d", id, cs.Producers)
			}
			if seq != next[id] {
				r.OrderErrors++
			}
			next[id] = seq + 1
		case err := <-errc:
			return fmt.Errorf("receive: %w (producer: %s)", err, f.procs[0].Stderr())
		}
	}
	end := clock.Now()
	wg.Wait()
	r.Receiver = costSince(u0, r.Count)
	for _, p := range f.procs {
		if err := p.Wait(time.Until(deadline)); err != nil {
			return err
		}
	}
	r.ElapsedNs = end - t0
	sec := float64(r.ElapsedNs) / 1e9
	r.MsgsPerSec = float64(r.Count) / sec
	r.MBPerSec = float64(r.Count*cs.Size) / sec / 1e6
	if r.OrderErrors > 0 {
		return fmt.Errorf("%d messages arrived out of their producer's order", r.OrderErrors)
	}
	return nil
}

// faninProducer: ADDR ID COUNT SIZE. Sends COUNT messages of SIZE bytes
// stamped with ID and a sequence number, once told "go" on stdin.
func faninProducer(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("want address id count size, got %q", args)
	}
	id, _ := strconv.Atoi(args[1])
	count, _ := strconv.Atoi(args[2])
	size, _ := strconv.Atoi(args[3])
	var send func([]byte) error
	if path, ok := strings.CutPrefix(args[0], "rawfifo:"); ok {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		send = func(b []byte) error { _, err := f.Write(b); return err }
	} else {
		c, err := transports.OpenWith(args[0], transports.Options{Register: true})
		if err != nil {
			return err
		}
		defer c.Close()
		if w, ok := c.(ipclab.PeerWatcher); ok {
			w.WatchPeer(os.Getppid())
		}
		send = c.Send
	}
	collectBeforeCase()
	fmt.Println("ready")
	if _, err := io.ReadAll(os.Stdin); err != nil { // EOF is the start signal
		return err
	}
	msg := make([]byte, size)
	binary.LittleEndian.PutUint64(msg, uint64(id))
	for seq := range count {
		binary.LittleEndian.PutUint64(msg[8:], uint64(seq))
		if err := send(msg); err != nil {
			return fmt.Errorf("send %d: %w", seq, err)
		}
	}
	return nil
}
