package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/transports"
)

func init() { peerproc.Register("bench-echo", benchEcho) }

// benchEcho is the peer process: it echoes every message until the
// channel ends.
func benchEcho(args []string) error {
	c, err := transports.Open(args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	if w, ok := c.(ipclab.PeerWatcher); ok {
		w.WatchPeer(os.Getppid())
	}
	buf := make([]byte, c.MaxMessageSize())
	for {
		n, err := c.Recv(buf)
		if errors.Is(err, ipclab.ErrPeerGone) || errors.Is(err, ipclab.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.Send(buf[:n]); err != nil {
			return err
		}
	}
}

// runBench is a short two-process demonstration; the full harness
// (sweeps, statistics, records, plots) replaces it.
func runBench(args []string) error {
	fs := newFlags("bench", "[flags]", "Round trips over each transport, the echo side in a second process.")
	all := append(append([]string{}, transports.Names[:len(transports.Names)-1]...), transports.Variants...)
	list := fs.String("transports", strings.Join(all, ","), "comma-separated transports")
	size := fs.Int("size", 64, "message size in bytes")
	n := fs.Int("n", 5000, "measured round trips per transport")
	warm := fs.Int("warmup", 500, "round trips before measuring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *size < 0 || *n < 1 || *warm < 0 {
		return fmt.Errorf("-size must be >= 0, -n >= 1, -warmup >= 0")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "transport\tsize\tround trips\tmin\tp50\tp99\tmax\t\n")
	for _, name := range strings.Split(*list, ",") {
		r, err := pingPong(ctx, name, *size, *n, *warm)
		if ctx.Err() != nil {
			return errors.New("interrupted; every object created was removed")
		}
		if err != nil {
			fmt.Fprintf(tw, "%s\t%d\tskipped: %v\t\t\t\t\t\n", name, *size, err)
			continue
		}
		slices.Sort(r)
		q := func(p float64) time.Duration { return r[int(p*float64(len(r)-1))] }
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t%v\t%v\t%v\t\n", name, *size, len(r), q(0), q(.5), q(.99), q(1))
	}
	return tw.Flush()
}

func pingPong(ctx context.Context, name string, size, n, warm int) ([]time.Duration, error) {
	c, files, err := transports.Create(name)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if size > c.MaxMessageSize() {
		var tl ipclab.TooLargeError
		tl.Size, tl.Limit, tl.Name = size, c.MaxMessageSize(), "this transport's maximum"
		return nil, &tl
	}
	p, err := peerproc.Start("bench-echo", []string{c.Addr().String()}, peerproc.Options{ExtraFiles: files})
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		return nil, err
	}
	defer p.Kill()
	if w, ok := c.(ipclab.PeerWatcher); ok {
		w.WatchPeer(p.Pid())
	}
	go func() { <-ctx.Done(); c.Close() }() // Ctrl-C: unblock, remove objects
	msg := make([]byte, size)
	buf := make([]byte, size)
	rtt := make([]time.Duration, 0, n)
	for i := 0; i < warm+n; i++ {
		copy(msg, strconv.Itoa(i))
		start := time.Now()
		if err := c.Send(msg); err != nil {
			return nil, err
		}
		m, err := c.Recv(buf)
		if err != nil {
			return nil, fmt.Errorf("%w (peer: %s)", err, p.Stderr())
		}
		if m != size || string(buf[:m]) != string(msg) {
			return nil, fmt.Errorf("round trip %d: reply differs from the message", i)
		}
		if i >= warm {
			rtt = append(rtt, time.Since(start))
		}
	}
	return rtt, nil
}
