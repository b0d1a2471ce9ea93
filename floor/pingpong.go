package floor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// kind is one of the three round trips.
type kind string

const (
	cacheLine kind = "cacheline"
	futex     kind = "futex"
	pipe      kind = "pipe"
)

// peerRole is the peerproc role of the answering process.
const peerRole = "floor-peer"

func init() { peerproc.Register(peerRole, peerMain) }

// The shared page: the cache-line word alone on its line, and the two
// futex words each on a line of their own (128 bytes apart, so the
// adjacent-line prefetcher does not pair them).
const (
	pageSize   = 4096
	offLine    = 0
	offPing    = 128
	offPong    = 256
	stopLine   = ^uint64(0) // odd, so never an answer
	stopFutex  = ^uint32(0)
	lineBatch  = 16 // spin round trips per sample: see RoundTrip.Batch
	maxSamples = 1 << 20
	minSamples = 1000
	// maxWarmup bounds the warm-up however long the budget, so the
	// futex's 32-bit counter never reaches its stop value.
	maxWarmup = 1 << 24
	// readyTimeout bounds a peer's start-up (exec, pin, map).
	readyTimeout = 30 * time.Second
	// waitSlice is how long a futex wait sleeps before checking that the
	// other side still lives.
	waitSlice = 50 * time.Millisecond
)

// stallTimeout: a peer that answers nothing for this long is killed and
// the measurement fails, rather than hang. A variable for tests.
var stallTimeout = 5 * time.Second

// errPeerGone is returned when the peer exits in the middle of a run.
var errPeerGone = errors.New("the peer process exited mid-measurement")

// side is this process's end of one measurement.
type side struct {
	kind  kind
	yield bool // both ends on one CPU: sched_yield instead of spinning
	mem   []byte
	line  *uint64
	ping  *uint32
	pong  *uint32
	seq   uint64
	seq32 uint32
	// pingW and pongR are our ends of the two pipes.
	pingW, pongR int
	peer         *peerproc.Proc
}

// measureOne measures one kind of round trip between pl.a (this process,
// already pinned there) and pl.b (a peer process it starts), for about
// budget.
func measureOne(ctx context.Context, k kind, pl placement, budget time.Duration, onPeer func(*peerproc.Proc)) (rt RoundTrip, err error) {
	s, err := startSide(k, pl)
	if err != nil {
		return rt, err
	}
	defer s.close()
	p := s.peer
	if onPeer != nil {
		onPeer(p)
	}

	var progress atomic.Int64
	stopWatch := s.watch(ctx, &progress)
	samples, warm, err := s.drive(budget, &progress)
	stalled := stopWatch()
	switch {
	case ctx.Err() != nil:
		return rt, ctx.Err()
	case stalled:
		return rt, fmt.Errorf("the peer answered nothing for %v and was killed (stderr: %s)", stallTimeout, p.Stderr())
	case errors.Is(err, errPeerGone):
		return rt, fmt.Errorf("%w (stderr: %s)", err, p.Stderr())
	case err != nil:
		return rt, err
	}
	s.stop()
	if err := p.Wait(stallTimeout); err != nil {
		return rt, err
	}
	rt.Wait, rt.Warmup = s.waitName(), warm
	if s.yield {
		rt.Note = "both ends share one CPU: each waits with sched_yield, so this is a pair of context switches, not a cache-line transfer"
	}
	return rt, rt.quantiles(samples, s.batch())
}

// startSide sets up this process's end of one kind of round trip between
// pl.a (this process, already pinned there) and pl.b, and starts the peer
// process there; it returns once the peer is ready. close undoes it all.
func startSide(k kind, pl placement) (s *side, err error) {
	s = &side{kind: k, yield: pl.a == pl.b && k == cacheLine, pingW: -1, pongR: -1}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	var extra []*os.File
	switch k {
	case cacheLine, futex:
		fd, err := unix.MemfdCreate("ipclab-floor", unix.MFD_CLOEXEC)
		if err != nil {
			return s, fmt.Errorf("memfd_create: %w", err)
		}
		f := os.NewFile(uintptr(fd), "ipclab-floor")
		defer f.Close() // the peer has its own once started
		if err := unix.Ftruncate(fd, pageSize); err != nil {
			return s, fmt.Errorf("ftruncate memfd: %w", err)
		}
		if s.mem, err = unix.Mmap(fd, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
			return s, fmt.Errorf("mmap memfd: %w", err)
		}
		s.line = (*uint64)(unsafe.Pointer(&s.mem[offLine]))
		s.ping = (*uint32)(unsafe.Pointer(&s.mem[offPing]))
		s.pong = (*uint32)(unsafe.Pointer(&s.mem[offPong]))
		extra = []*os.File{f}
	case pipe:
		var ping, pong [2]int
		if err := unix.Pipe2(ping[:], unix.O_CLOEXEC); err != nil {
			return s, fmt.Errorf("pipe2: %w", err)
		}
		if err := unix.Pipe2(pong[:], unix.O_CLOEXEC); err != nil {
			unix.Close(ping[0])
			unix.Close(ping[1])
			return s, fmt.Errorf("pipe2: %w", err)
		}
		s.pingW, s.pongR = ping[1], pong[0]
		extra = []*os.File{os.NewFile(uintptr(ping[0]), "floor-ping-r"), os.NewFile(uintptr(pong[1]), "floor-pong-w")}
	}
	yield := "0"
	if s.yield {
		yield = "1"
	}
	p, err := peerproc.Start(peerRole, []string{string(k), strconv.Itoa(pl.b), yield}, peerproc.Options{ExtraFiles: extra, Env: cpupin.ChildEnv()})
	if k == pipe { // the peer's ends: ours must go, or its death is no EOF
		for _, f := range extra {
			f.Close()
		}
	}
	if err != nil {
		return s, err
	}
	s.peer = p
	if line, err := p.ReadLine(readyTimeout); err != nil || line != "ready" {
		return s, fmt.Errorf("peer did not start: %q, %v", line, err)
	}
	return s, nil
}

// watch is the watchdog of a run: a peer silent for stallTimeout (progress
// unchanged), or a cancelled ctx, gets killed, which ends every wait of
// roundTrips with an error. stop (which may be called again) ends the
// watch and reports whether it killed the peer for a stall.
func (s *side) watch(ctx context.Context, progress *atomic.Int64) (stop func() (stalled bool)) {
	p := s.peer
	var killed atomic.Bool
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(stallTimeout / 20)
		defer tick.Stop()
		last, lastChange := progress.Load(), time.Now()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				p.Kill()
				return
			case now := <-tick.C:
				if v := progress.Load(); v != last {
					last, lastChange = v, now
				} else if now.Sub(lastChange) > stallTimeout {
					killed.Store(true)
					p.Kill()
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() bool {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
		return killed.Load()
	}
}

// close kills the peer if it still runs and releases this side's memory
// and descriptors.
func (s *side) close() {
	if s.peer != nil && !s.peer.Exited() {
		s.peer.Kill()
	}
	if s.mem != nil {
		unix.Munmap(s.mem)
		s.mem, s.line, s.ping, s.pong = nil, nil, nil, nil
	}
	if s.pingW >= 0 {
		unix.Close(s.pingW)
		s.pingW = -1
	}
	if s.pongR >= 0 {
		unix.Close(s.pongR)
		s.pongR = -1
	}
}

func (s *side) batch() int {
	if s.kind == cacheLine && !s.yield {
		return lineBatch
	}
	return 1
}

func (s *side) waitName() string {
	switch {
	case s.kind == futex:
		return "futex"
	case s.kind == pipe:
		return "read"
	case s.yield:
		return "yield"
	}
	return "spin"
}

// drive warms up for a fifth of budget, then takes samples for the rest
// (at least minSamples, unless that takes four times as long), and
// returns them with the number of warm-up round trips.
func (s *side) drive(budget time.Duration, progress *atomic.Int64) (samples []int64, warm int, err error) {
	batch := s.batch()
	warmUntil := time.Now().Add(budget / 5)
	for time.Now().Before(warmUntil) && warm < maxWarmup {
		if err := s.roundTrips(batch); err != nil {
			return nil, 0, err
		}
		warm += batch
		progress.Add(1)
	}
	measure := budget - budget/5
	samples = make([]int64, 0, 1<<14)
	start := time.Now()
	for len(samples) < maxSamples {
		t0 := time.Now()
		if err := s.roundTrips(batch); err != nil {
			return nil, 0, err
		}
		d := time.Since(t0)
		samples = append(samples, int64(d))
		progress.Add(1)
		elapsed := t0.Sub(start) + d
		if elapsed >= measure && len(samples) >= minSamples || elapsed >= 4*measure {
			break
		}
	}
	return samples, warm, nil
}

// roundTrips makes n round trips.
func (s *side) roundTrips(n int) error {
	switch s.kind {
	case cacheLine:
		mask := 0xfff // spins between checks that the peer lives
		if s.yield {
			mask = 0x3f
		}
		for range n {
			s.seq += 2
			atomic.StoreUint64(s.line, s.seq-1)
			for spins := 1; atomic.LoadUint64(s.line) != s.seq; spins++ {
				if s.yield {
					schedYield()
				}
				if spins&mask == 0 && s.peer.Exited() {
					return errPeerGone
				}
			}
		}
	case futex:
		ts := unix.NsecToTimespec(int64(waitSlice))
		for range n {
			s.seq32++
			atomic.StoreUint32(s.ping, s.seq32)
			if _, err := sysipc.FutexWake(s.ping, 1); err != nil {
				return fmt.Errorf("futex wake: %w", err)
			}
			for {
				v := atomic.LoadUint32(s.pong)
				if v == s.seq32 {
					break
				}
				err := sysipc.FutexWait(s.pong, v, &ts)
				if err == unix.ETIMEDOUT && s.peer.Exited() {
					return errPeerGone
				}
			}
		}
	case pipe:
		b := []byte{1}
		for range n {
			if err := writeByte(s.pingW, b); err != nil {
				if errors.Is(err, unix.EPIPE) {
					return errPeerGone
				}
				return err
			}
			if err := readByte(s.pongR, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// stop tells the peer to exit.
func (s *side) stop() {
	switch s.kind {
	case cacheLine:
		atomic.StoreUint64(s.line, stopLine)
	case futex:
		atomic.StoreUint32(s.ping, stopFutex)
		sysipc.FutexWake(s.ping, 1)
	case pipe:
		unix.Close(s.pingW) // EOF
		s.pingW = -1
	}
}

func writeByte(fd int, b []byte) error {
	for {
		n, err := unix.Write(fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("pipe write: %w", err)
		case n != 1:
			return fmt.Errorf("pipe write: wrote %d bytes of 1", n)
		}
		return nil
	}
}

// readByte reads one byte; end of file means the writer is gone.
func readByte(fd int, b []byte) error {
	for {
		n, err := unix.Read(fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("pipe read: %w", err)
		case n == 0:
			return errPeerGone
		}
		return nil
	}
}

// schedYield gives the CPU to another runnable thread, if any. It never
// blocks, so it skips the runtime's system call bookkeeping.
func schedYield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

// peerMain is the answering process: args are the kind, the CPU to pin
// to and "1" to yield instead of spinning. Descriptor 3 is the shared
// page (cacheline, futex) or the ping pipe's read end, 4 the pong pipe's
// write end. It prints "ready" once pinned and mapped, answers until told
// to stop, and exits; if its parent dies it exits too.
func peerMain(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("want kind cpu yield, got %q", args)
	}
	k, yield := kind(args[0]), args[2] == "1"
	cpu, err := strconv.Atoi(args[1])
	if err != nil {
		return fmt.Errorf("bad CPU %q", args[1])
	}
	if err := cpupin.ProcessTo(cpu); err != nil {
		return err
	}
	parent := os.Getppid()
	parentGone := func() error {
		if os.Getppid() != parent {
			return errors.New("parent gone")
		}
		return nil
	}
	var mem []byte
	if k == cacheLine || k == futex {
		// The page is the parent's, and so untrusted: too short, it
		// would fault (SIGBUS) on first touch.
		var st unix.Stat_t
		if err := unix.Fstat(3, &st); err != nil {
			return fmt.Errorf("shared page: %w", err)
		}
		if st.Size < pageSize {
			return fmt.Errorf("shared page is %d bytes, want at least %d", st.Size, pageSize)
		}
		if mem, err = unix.Mmap(3, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
			return fmt.Errorf("mmap shared page: %w", err)
		}
		defer unix.Munmap(mem)
	}
	fmt.Println("ready")
	switch k {
	case cacheLine:
		line := (*uint64)(unsafe.Pointer(&mem[offLine]))
		mask := 0xffff
		if yield {
			mask = 0x3ff
		}
		next := uint64(1)
		for spins := 1; ; spins++ {
			switch v := atomic.LoadUint64(line); v {
			case next:
				atomic.StoreUint64(line, next+1)
				next += 2
				continue
			case stopLine:
				return nil
			}
			if yield {
				schedYield()
			}
			if spins&mask == 0 {
				if err := parentGone(); err != nil {
					return err
				}
			}
		}
	case futex:
		ping := (*uint32)(unsafe.Pointer(&mem[offPing]))
		pong := (*uint32)(unsafe.Pointer(&mem[offPong]))
		ts := unix.NsecToTimespec(int64(waitSlice))
		var last uint32
		for {
			v := atomic.LoadUint32(ping)
			switch v {
			case last:
				if sysipc.FutexWait(ping, last, &ts) == unix.ETIMEDOUT {
					if err := parentGone(); err != nil {
						return err
					}
				}
				continue
			case stopFutex:
				return nil
			}
			atomic.StoreUint32(pong, v)
			if _, err := sysipc.FutexWake(pong, 1); err != nil {
				return fmt.Errorf("futex wake: %w", err)
			}
			last = v
		}
	case pipe:
		b := []byte{0}
		for {
			if err := readByte(3, b); err == errPeerGone {
				return nil // the parent closed its end: done
			} else if err != nil {
				return err
			}
			if err := writeByte(4, b); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown kind %q", k)
}
