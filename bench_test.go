package ipclab_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/internal/checksum"
	"github.com/ipclab/ipclab/internal/leakcheck"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/transports"
)

// The Go benchmarks of every transport, the other end always in a second
// process (the harness's receiving role):
//
//	go test -run '^$' -bench . -count 6 | tee new.txt; benchstat old.txt new.txt
//
// PingPong reports p50-ns and p99-ns of the round trip; Stream, MB/s.
// (Link modes join as sub-benchmarks when package link lands.)

func TestMain(m *testing.M) {
	peerproc.Dispatch()
	leakcheck.Main(m)
}

var benchSizes = []int{8, 64, 512, 4 << 10, 64 << 10}

func allTransports() []string {
	return append(append([]string{}, transports.Names[:len(transports.Names)-1]...), transports.Variants...)
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// startPeer creates a channel of transport tr and starts the receiving
// process on it for n messages of size bytes; it skips sizes beyond the
// transport's limit, saying which.
func startPeer(b *testing.B, tr, mode string, n, size int) (ipclab.Conn, *peerproc.Proc) {
	c, files, err := transports.Create(tr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if size > c.MaxMessageSize() {
		var tl *ipclab.TooLargeError
		if err := c.Send(make([]byte, size)); errors.As(err, &tl) {
			b.Skip(tl.Error())
		}
		b.Skipf("%d bytes exceed the maximum %d", size, c.MaxMessageSize())
	}
	p, err := peerproc.Start(bench.PeerRole, bench.PeerArgs(c.Addr().String(), mode, n, 0, size, -1, "raw"),
		peerproc.Options{ExtraFiles: files})
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if !p.Exited() {
			p.Kill()
		}
	})
	if w, ok := c.(ipclab.PeerWatcher); ok {
		w.WatchPeer(p.Pid())
	}
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	return c, p
}

func BenchmarkPingPong(b *testing.B) {
	for _, tr := range allTransports() {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%s", tr, sizeName(size)), func(b *testing.B) {
				c, p := startPeer(b, tr, bench.Latency, b.N, size)
				msg, buf := make([]byte, size), make([]byte, size)
				rtt := make([]time.Duration, b.N)
				b.SetBytes(int64(2 * size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if size >= 8 {
						binary.LittleEndian.PutUint64(msg, 0) // the peer reads a timestamp here
					}
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
				if _, err := p.ReadLine(time.Minute); err != nil {
					b.Fatal(err)
				}
				if err := p.Wait(time.Minute); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

func BenchmarkStream(b *testing.B) {
	for _, tr := range allTransports() {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%s", tr, sizeName(size)), func(b *testing.B) {
				c, p := startPeer(b, tr, bench.Throughput, b.N, size)
				msg := make([]byte, size)
				for i := range msg {
					msg[i] = byte(i)
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := c.Send(msg); err != nil {
						b.Fatalf("send %d: %v (peer: %s)", i, err, p.Stderr())
					}
				}
				buf := make([]byte, 64)
				n, err := c.Recv(buf) // the receiver read every byte
				b.StopTimer()
				want := fmt.Sprintf("%d %d", b.N*size, uint64(b.N)*checksum.Sum(msg))
				if err != nil || string(buf[:n]) != want {
					b.Fatalf("receiver's confirmation %q, %v; want %q", buf[:n], err, want)
				}
				p.ReadLine(time.Minute)
				if err := p.Wait(time.Minute); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
