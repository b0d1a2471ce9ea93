package ipclab_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/internal/checksum"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/transports"
)

// The Go benchmarks of every transport, the other end always in a second
// process (the harness's receiving role):
//
//	go test -run '^$' -bench . -count 6 | tee new.txt; benchstat old.txt new.txt
//
// PingPong reports p50-ns and p99-ns of the round trip; Stream, MB/s;
// BenchmarkLink runs the link modes over every transport.

func TestMain(m *testing.M) { testmain.MainWith(m, testmain.Options{PrivateDevShm: true}) }

var benchSizes = []int{8, 64, 512, 4 << 10, 64 << 10}

func allTransports() []string { return transports.Distinct() }

func sizeName(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

func BenchmarkPingPong(b *testing.B) {
	for _, tr := range allTransports() {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%s", tr, sizeName(size)), func(b *testing.B) { benchPingPong(b, tr, "raw", size) })
		}
	}
}

func BenchmarkStream(b *testing.B) {
	for _, tr := range allTransports() {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%s", tr, sizeName(size)), func(b *testing.B) { benchStream(b, tr, "raw", size) })
		}
	}
}

// linkModes are the link semantics benchmarked over every transport; raw
// is the transport alone, the reference of the others.
var linkModes = []string{"raw", "seq", "rendezvous", "ack-16", "cap-1", "cap-16", "cap-256", "cap-16-drop", "cap-16-fail"}

func init() { peerproc.Register("link-drain-end", linkDrainEnd) }

// linkDrainEnd takes messages until an empty one and reports how many.
func linkDrainEnd(args []string) error {
	opt, _, err := link.ParseMode(args[1])
	if err != nil {
		return err
	}
	c, err := transports.Open(args[0])
	if err != nil {
		return err
	}
	if w, ok := c.(ipclab.PeerWatcher); ok {
		w.WatchPeer(os.Getppid())
	}
	l, err := link.New(c, opt)
	if err != nil {
		c.Close()
		return err
	}
	defer l.Close()
	buf := make([]byte, 64)
	n := 0
	for {
		m, err := l.Recv(buf)
		if err != nil {
			return err
		}
		if m == 0 {
			break
		}
		n++
	}
	fmt.Println(n)
	return nil
}

// BenchmarkLink: the link semantics of package link over every transport,
// 64-byte messages, the other end in a second process. PingPong reports
// p50-ns and p99-ns round trips; Stream reports msgs/s, and for the drop
// and fail policies dropped/op and full/op (how often a full link refused).
func BenchmarkLink(b *testing.B) {
	const size = 64
	for _, tr := range allTransports() {
		for _, mode := range linkModes {
			opt, raw, _ := link.ParseMode(mode)
			policy := !raw && opt.Full != link.Block
			if !policy {
				b.Run(fmt.Sprintf("%s/%s/pingpong", tr, mode), func(b *testing.B) {
					benchPingPong(b, tr, mode, size)
				})
			}
			b.Run(fmt.Sprintf("%s/%s/stream", tr, mode), func(b *testing.B) {
				if policy {
					benchLinkPolicy(b, tr, mode, opt, size)
				} else {
					benchStream(b, tr, mode, size)
				}
			})
		}
	}
}

// linkPair starts role on a new channel of tr and wraps this end in the
// link mode ("raw": none). It skips a size beyond the channel's limit,
// saying which.
func linkPair(b testing.TB, tr, mode string, size int, role string, args []string) (ipclab.Conn, *testmain.Peer) {
	c, files, err := transports.Create(tr)
	if err != nil {
		b.Fatal(err)
	}
	opt, raw, _ := link.ParseMode(mode)
	limit, _ := link.MaxMessageSize(c, opt) // the link's: its header, and the transport's buffer with acknowledgements
	if size > c.MaxMessageSize() || !raw && size > limit {
		var tl *ipclab.TooLargeError
		err := c.Send(make([]byte, size))
		c.Close()
		for _, f := range files {
			f.Close()
		}
		if errors.As(err, &tl) {
			b.Skip(tl.Error())
		}
		b.Skipf("%d bytes exceed the link's maximum %d (the transport's %d less the %d-byte link header and what its buffer holds)", size, limit, c.MaxMessageSize(), link.HeaderLen)
	}
	b.Cleanup(func() { c.Close() })
	p := testmain.StartPeer(b, c, files, role, append([]string{c.Addr().String()}, args...)...)
	conn := ipclab.Conn(c)
	if !raw {
		l, err := link.New(c, opt)
		if err != nil {
			b.Fatal(err)
		}
		conn = l
	}
	b.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(5 * time.Minute))
	return conn, p
}

// benchPingPong times round trips; the peer is the harness's receiver.
func benchPingPong(b *testing.B, tr, mode string, size int) {
	benchPingPongOn(b, tr, mode, size, -1, false)
}

// benchPingPongOn is benchPingPong with the peer pinned to peerCPU (-1:
// not pinned), and with held both ends holding their waits (the harness's
// -held). On a raw shared-memory channel it also reports both ends' waits
// (shmWaits).
func benchPingPongOn(b *testing.B, tr, mode string, size, peerCPU int, held bool) {
	c, p := linkPair(b, tr, mode, size, bench.PeerRole, bench.PeerArgs("", bench.Latency, b.N, 0, size, peerCPU, mode, held)[1:])
	holdWaits(b, c, held)
	msg, buf := make([]byte, size), make([]byte, size)
	rtt := make([]time.Duration, b.N)
	b.SetBytes(int64(2 * size))
	b.ReportAllocs()
	w0 := shmWaits(c)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := c.Send(msg); err != nil {
			b.Fatal(err)
		}
		if n, err := c.Recv(buf); err != nil || n != size {
			b.Fatalf("reply %d: %d bytes, %v (peer: %s)", i, n, err, p.Stderr())
		}
		rtt[i] = time.Since(t0)
	}
	b.StopTimer()
	slices.Sort(rtt)
	b.ReportMetric(float64(rtt[b.N/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(rtt[b.N*99/100].Nanoseconds()), "p99-ns")
	reportWaits(b, c, w0, p)
	if err := p.Wait(time.Minute); err != nil {
		b.Fatal(err)
	}
}

// holdWaits makes c hold its waits (ipclab.WaitHolder) when held is set;
// the peer was told to by PeerArgs.
func holdWaits(b *testing.B, c ipclab.Conn, held bool) {
	if !held {
		return
	}
	h, ok := c.(ipclab.WaitHolder)
	if !ok {
		b.Fatalf("%T cannot hold its waits", c)
	}
	if err := h.HoldWaits(true); err != nil {
		b.Fatal(err)
	}
}

// benchStream streams to the harness's receiver, which checksums every byte.
func benchStream(b *testing.B, tr, mode string, size int) {
	benchStreamOn(b, tr, mode, size, -1, 0, false)
}

// benchStreamOn is benchStream with the peer pinned to peerCPU (-1: not
// pinned), with batch above 0 sent batch messages per SendBatch call, as
// the harness's -batch does, and with held both ends holding their waits
// (-held). On a raw shared-memory channel it also reports both ends'
// waits (shmWaits).
func benchStreamOn(b *testing.B, tr, mode string, size, peerCPU, batch int, held bool) {
	c, p := linkPair(b, tr, mode, size, bench.PeerRole, bench.PeerArgs("", bench.Throughput, b.N, 0, size, peerCPU, mode, held)[1:])
	holdWaits(b, c, held)
	msg := make([]byte, size)
	var bs ipclab.BatchSender
	var msgs [][]byte
	if batch > 0 {
		var ok bool
		if bs, ok = c.(ipclab.BatchSender); !ok {
			b.Fatalf("%s %s cannot send in batches (no SendBatch)", tr, mode)
		}
		msgs = slices.Repeat([][]byte{msg}, batch)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	w0 := shmWaits(c)
	b.ResetTimer()
	start := time.Now()
	if batch == 0 {
		for i := 0; i < b.N; i++ {
			if err := c.Send(msg); err != nil {
				b.Fatalf("send %d: %v (peer: %s)", i, err, p.Stderr())
			}
		}
	}
	for i := 0; batch > 0 && i < b.N; i += batch {
		k := min(batch, b.N-i)
		if n, err := bs.SendBatch(msgs[:k]); err != nil || n != k {
			b.Fatalf("SendBatch of messages %d..%d sent %d: %v (peer: %s)", i, i+k-1, n, err, p.Stderr())
		}
	}
	buf := make([]byte, 64)
	n, err := c.Recv(buf)
	el := time.Since(start)
	b.StopTimer()
	if want := fmt.Sprintf("%d %d", b.N*size, uint64(b.N)*checksum.Sum(msg)); err != nil || string(buf[:n]) != want {
		b.Fatalf("receiver's confirmation %q, %v; want %q", buf[:n], err, want)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	reportWaits(b, c, w0, p)
	if err := p.Wait(time.Minute); err != nil {
		b.Fatal(err)
	}
}

// benchLinkPolicy streams b.N messages into a link whose full policy is
// drop or fail, then an empty message that ends the stream (retried until
// the link takes it), and reports what the policy refused.
func benchLinkPolicy(b *testing.B, tr, mode string, opt link.Options, size int) {
	c, p := linkPair(b, tr, mode, size, "link-drain-end", []string{mode})
	l := c.(*link.Link)
	msg := make([]byte, size)
	full := 0
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := l.Send(msg); errors.Is(err, link.ErrFull) {
			full++
		} else if err != nil {
			b.Fatal(err)
		}
	}
	droppedData := l.Stats().Dropped
	for {
		dropped := l.Stats().Dropped
		err := l.Send(nil)
		if err == nil && l.Stats().Dropped == dropped {
			break
		}
		if err != nil && !errors.Is(err, link.ErrFull) {
			b.Fatal(err)
		}
		time.Sleep(50 * time.Microsecond)
	}
	line, err := p.ReadLine(time.Minute)
	el := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	got, _ := strconv.Atoi(line)
	s := l.Stats()
	if want := b.N - full - int(droppedData); got != want {
		b.Fatalf("receiver took %d, want %d offered - %d refused - %d dropped", got, b.N, full, droppedData)
	}
	if s.Sent != uint64(got)+1+s.Dropped { // every accepted Send was delivered (the end marker too) or dropped
		b.Fatalf("sent %d != received %d + dropped %d", s.Sent, got+1, s.Dropped)
	}
	b.ReportMetric(float64(got)/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(droppedData)/float64(b.N), "dropped/op")
	b.ReportMetric(float64(full)/float64(b.N), "full/op")
	if err := p.Wait(time.Minute); err != nil {
		b.Fatal(err)
	}
}
