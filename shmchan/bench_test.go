package shmchan

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkSendRecv: what one message costs the ring's own code, with
// both sides in this process and one goroutine (a Send, then the
// opener's Recv): locks, checks, the deadline's fast path, the copy in
// and out, and no waiting or cache line moving between CPUs. A
// microbenchmark for profiling the per-message path; the headline
// figures are two processes' (the root package's and
// transports/sysvshm's benchmarks).
//
//	go test -run '^$' -bench SendRecv ./shmchan
func BenchmarkSendRecv(b *testing.B) {
	for _, s := range strategies {
		for _, size := range []int{8, 64, 4 << 10} {
			b.Run(fmt.Sprintf("%s/%dB", s, size), func(b *testing.B) {
				c, o := benchRing(b, s)
				msg, buf := make([]byte, size), make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.Send(msg); err != nil {
						b.Fatal(err)
					}
					if n, err := o.Recv(buf); err != nil || n != size {
						b.Fatalf("recv: %d bytes, %v", n, err)
					}
				}
			})
		}
	}
}

// BenchmarkSendBatchRecv: as BenchmarkSendRecv, the messages sent
// sendBatch a SendBatch call (one publication per call), each received
// by Recv; ns/op is per message.
func BenchmarkSendBatchRecv(b *testing.B) {
	const sendBatch = 64
	for _, s := range strategies {
		for _, size := range []int{8, 64} {
			b.Run(fmt.Sprintf("%s/%dB", s, size), func(b *testing.B) {
				c, o := benchRing(b, s)
				msg, buf := make([]byte, size), make([]byte, size)
				msgs := slices.Repeat([][]byte{msg}, sendBatch)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					k := min(sendBatch, b.N-done)
					if n, err := c.SendBatch(msgs[:k]); err != nil || n != k {
						b.Fatalf("SendBatch of %d: %d sent, %v", k, n, err)
					}
					for range k {
						if n, err := o.Recv(buf); err != nil || n != size {
							b.Fatalf("recv: %d bytes, %v", n, err)
						}
					}
					done += k
				}
			})
		}
	}
}

// benchRing is a pair whose ring holds a batch of the largest message
// benchmarked, with deadlines an hour ahead as the harness sets them.
func benchRing(b *testing.B, s Strategy) (creator, opener *Chan) {
	c, o := pair(b, Config{Strategy: s, RingSize: 1 << 20})
	deadline := time.Now().Add(time.Hour)
	c.SetDeadline(deadline)
	o.SetDeadline(deadline)
	return c, o
}
