package sysvshm

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/checksum"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/shmchan"
)

var benchSizes = []int{8, 64, 4 << 10, 64 << 10, 1 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// sizedFor is cfg with a ring for messages of size bytes where the
// default one is too small (shmchan.RingSizeFor), as the harness sizes it.
func sizedFor(cfg shmchan.Config, size int) shmchan.Config {
	if size > shmchan.DefaultMaxMessage {
		cfg.MaxMessage, cfg.RingSize = size, shmchan.RingSizeFor(size)
	}
	return cfg
}

// benchPair creates a channel here and starts role in a peer process.
func benchPair(b *testing.B, cfg shmchan.Config, role string, args ...string) (*Conn, *testmain.Peer) {
	c, err := Create(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	// Any registered sysvshm transport opens any sysvshm address.
	p := testmain.StartPeer(b, nil, nil, role, append([]string{trs[0].Name, c.Addr().String()}, args...)...)
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	return c, p
}

// benchConfigs are the strategies measured; futex-nospin is the futex
// strategy with no spin budget, which shows what the wake-up costs.
var benchConfigs = []struct {
	name string
	cfg  shmchan.Config
}{
	{"futex", shmchan.Config{Strategy: shmchan.Futex}},
	{"futex-nospin", shmchan.Config{Strategy: shmchan.Futex, SpinBudget: -1}},
	{"sysvsem", shmchan.Config{Strategy: shmchan.SysVSem}},
	{"spin", shmchan.Config{Strategy: shmchan.Spin}},
}

// BenchmarkPingPong: round trips between two processes, per strategy and
// size, with p50 and p99 of the round trip as metrics. The peer uses the
// default spin budget; futex-nospin's creator does not spin.
//
//	go test -run '^$' -bench PingPong ./transports/sysvshm
func BenchmarkPingPong(b *testing.B) {
	for _, bc := range benchConfigs {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%s", bc.name, sizeName(size)), func(b *testing.B) {
				const warm = 1000
				c, p := benchPair(b, sizedFor(bc.cfg, size), "tt-echo", strconv.Itoa(warm+b.N))
				msg := make([]byte, size)
				buf := make([]byte, size)
				rtt := make([]time.Duration, b.N)
				for i := 0; i < warm; i++ {
					pingPong(b, c, msg, buf)
				}
				b.SetBytes(int64(2 * size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					pingPong(b, c, msg, buf)
					rtt[i] = time.Since(t0)
				}
				b.StopTimer()
				slices.Sort(rtt)
				b.ReportMetric(float64(rtt[b.N/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(rtt[b.N*99/100].Nanoseconds()), "p99-ns")
				if err := p.Wait(time.Minute); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

func pingPong(b *testing.B, c *Conn, msg, buf []byte) {
	if err := c.Send(msg); err != nil {
		b.Fatal(err)
	}
	if n, err := c.Recv(buf); err != nil || n != len(msg) {
		b.Fatalf("reply: %d bytes, %v", n, err)
	}
}

// BenchmarkStream: one-way streaming to a peer that reads and sums every
// byte; MB/s from SetBytes, messages/s as a metric. Messages of 64 bytes
// or less go in batches of 64 (SendBatch).
//
//	go test -run '^$' -bench Stream ./transports/sysvshm
func BenchmarkStream(b *testing.B) {
	for _, bc := range benchConfigs {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%s", bc.name, sizeName(size)), func(b *testing.B) {
				c, p := benchPair(b, sizedFor(bc.cfg, size), "tt-drain", strconv.Itoa(b.N))
				msg := make([]byte, size)
				for i := range msg {
					msg[i] = byte(i)
				}
				batch := [][]byte{msg}
				if size <= 64 {
					batch = slices.Repeat(batch, 64)
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for sent := 0; sent < b.N; {
					k := min(len(batch), b.N-sent)
					if _, err := c.SendBatch(batch[:k]); err != nil {
						b.Fatal(err)
					}
					sent += k
				}
				buf := make([]byte, 64)
				n, err := c.Recv(buf) // the drain's reply: all received
				el := time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatalf("drain's reply: %v (peer: %s)", err, p.Stderr())
				}
				want := fmt.Sprintf("%d %d %d", b.N, b.N*size, uint64(b.N)*checksum.Sum(msg))
				if string(buf[:n]) != want {
					b.Fatalf("drain counted %q, want %q", buf[:n], want)
				}
				b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
			})
		}
	}
}
