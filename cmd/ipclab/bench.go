package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/plot"
	"github.com/ipclab/ipclab/transports"
	"golang.org/x/sys/unix"
)

const defaultSizes = "8,64,512,4K,32K,64K"

func runBench(args []string) error {
	fs := newFlags("bench", "[flags]", `Measure latency (ping-pong) and throughput (streaming) of every transport
between two processes, write records (JSON lines, CSV) and plots (PNG, SVG)
to a results directory, and print a summary table.`)
	all := append(append([]string{}, transports.Names[:len(transports.Names)-1]...), transports.Variants...)
	list := fs.String("transports", strings.Join(all, ","), "comma-separated transports")
	sizes := fs.String("sizes", defaultSizes, "comma-separated message sizes in bytes (K and M suffixes allowed)")
	modes := fs.String("modes", "latency,throughput", "comma-separated modes: latency, throughput")
	links := fs.String("links", "raw", "comma-separated link modes: raw (none), seq, rendezvous, ack-N, cap-N (see package link)")
	runs := fs.Int("runs", 3, "repeat every case this many times, interleaved (run, transport, size)")
	pin := fs.String("pin", "none", "placement: none, split (one CPU each), same (both on one CPU)")
	count := fs.Int("count", 5000, "round trips per latency case")
	volume := fs.String("bytes", "16M", "bytes streamed per throughput case (500 to 20,000 messages)")
	out := fs.String("out", "", "results directory (default results/<timestamp>)")
	asJSON := fs.Bool("json", false, "print the records as JSON lines on stdout instead of the table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	spec := bench.Spec{Transports: splitList(*list), Modes: splitList(*modes), Links: splitList(*links), Runs: *runs, Count: *count}
	if err := bench.CheckLinks(spec.Links); err != nil {
		return err
	}
	var err error
	if spec.Sizes, err = parseSizes(*sizes); err != nil {
		return err
	}
	vol, err := parseSize(*volume)
	if err != nil {
		return fmt.Errorf("-bytes: %w", err)
	}
	spec.Bytes = vol
	if spec.Placement, err = bench.ParsePlacement(*pin); err != nil {
		return err
	}
	if *runs < 1 || *count < 1 {
		return errors.New("-runs and -count must be >= 1")
	}
	known := append(append([]string{}, transports.Names...), transports.Variants...)
	for _, t := range spec.Transports {
		if !contains(known, t) {
			return fmt.Errorf("unknown transport %q (known: %s)", t, strings.Join(known, ", "))
		}
	}
	for _, m := range spec.Modes {
		if m != bench.Latency && m != bench.Throughput {
			return fmt.Errorf("unknown mode %q (want latency, throughput)", m)
		}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("results", time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if isTerminal(os.Stderr) {
		spec.Progress = progressBar(os.Stderr)
	}
	clock := bench.NewClock()
	env := bench.CollectEnv(clock)
	start := time.Now()
	recs, err := bench.Run(ctx, spec, &env)
	if ctx.Err() != nil {
		return errors.New("interrupted; every IPC object this run created was removed")
	}
	if err != nil {
		return err
	}
	if err := bench.WriteJSONL(filepath.Join(dir, "results.jsonl"), recs); err != nil {
		return err
	}
	if err := bench.WriteCSV(filepath.Join(dir, "results.csv"), recs); err != nil {
		return err
	}
	files, err := plot.All(recs, dir)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		for i := range recs {
			enc.Encode(&recs[i])
		}
	} else {
		printSummary(os.Stdout, recs)
		fmt.Printf("\n%d cases in %v; records and %d plots in %s\n", len(recs), time.Since(start).Round(time.Second), len(files), dir)
		fmt.Printf("clock: %s, %.0f ns a reading, %.0f ns harness overhead per sample\n", env.ClockSource, env.TimerNs, env.SampleOverheadNs)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := parseSize(f)
		if err != nil {
			return nil, fmt.Errorf("-sizes: %w", err)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("-sizes: no sizes")
	}
	return out, nil
}

// parseSize reads 64, 4K, 1M (binary multiples).
func parseSize(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > (1<<30)/mult {
		return 0, fmt.Errorf("%q is not a size from 0 to 1G (e.g. 64, 4K, 1M)", s)
	}
	return n * mult, nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressBar draws one line on a terminal, rewritten before each case.
func progressBar(w io.Writer) func(done, total int, c bench.Case) {
	return func(done, total int, c bench.Case) {
		const width = 30
		fill := width * done / max(total, 1)
		label := c.String()
		if done == total {
			label = "done"
		}
		fmt.Fprintf(w, "\r\033[K[%s%s] %d/%d %s", strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, total, label)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}

// printSummary prints one row per transport, size and mode: the median
// over runs, with the range when there were several.
func printSummary(w io.Writer, recs []bench.Record) {
	type key struct {
		transport string
		size      int
		mode      string
	}
	label := func(r bench.Record) string {
		if r.Link == "" || r.Link == "raw" {
			return r.Transport
		}
		return r.Transport + " " + r.Link
	}
	groups := map[key][]bench.Record{}
	var order []key
	for _, r := range recs {
		k := key{label(r), r.Size, r.Mode}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].mode != order[j].mode {
			return order[i].mode < order[j].mode
		}
		return false
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var skipped []string // reasons, listed once under the table
	mode := ""
	for _, k := range order {
		g := groups[k]
		if k.mode != mode {
			mode = k.mode
			if mode == bench.Latency {
				fmt.Fprintf(tw, "\nLATENCY (round trip)\ttransport\tsize\tp50\tp99\tone-way p50\tCPU/msg\tctx sw/msg\t\n")
			} else {
				fmt.Fprintf(tw, "\nTHROUGHPUT (one way)\ttransport\tsize\tMB/s\tmsgs/s\tCPU/msg\tctx sw/msg\t\t\n")
			}
		}
		if g[0].Skipped != "" {
			note := fmt.Sprintf("%s %s: %s", k.transport, bench.SizeLabel(k.size), g[0].Skipped)
			if !contains(skipped, note) {
				skipped = append(skipped, note)
			}
			fmt.Fprintf(tw, "\t%s\t%s\tskipped*\t\t\t\t\t\n", k.transport, bench.SizeLabel(k.size))
			continue
		}
		vals := func(f func(r bench.Record) float64) bench.Spread {
			var v []float64
			for _, r := range g {
				v = append(v, f(r))
			}
			return bench.SpreadOf(v)
		}
		cpu := vals(func(r bench.Record) float64 { return r.Sender.CPUNsPerMsg + r.Receiver.CPUNsPerMsg })
		ctx := vals(func(r bench.Record) float64 { return r.Sender.CtxSwPerMsg + r.Receiver.CtxSwPerMsg })
		if k.mode == bench.Latency {
			p50 := vals(func(r bench.Record) float64 { return r.RTT.P50 })
			p99 := vals(func(r bench.Record) float64 { return r.RTT.P99 })
			ow := "-"
			if g[0].OneWay != nil {
				ow = ns(vals(func(r bench.Record) float64 { return r.OneWay.P50 }).Median)
			}
			fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t\n", k.transport, bench.SizeLabel(k.size), spread(p50, ns), ns(p99.Median), ow, ns(cpu.Median), ctx.Median)
		} else {
			mb := vals(func(r bench.Record) float64 { return r.MBPerSec })
			msgs := vals(func(r bench.Record) float64 { return r.MsgsPerSec })
			fmt.Fprintf(tw, "\t%s\t%s\t%s\t%.0f\t%s\t%.3f\t\t\n", k.transport, bench.SizeLabel(k.size), spread(mb, func(v float64) string { return fmt.Sprintf("%.0f", v) }), msgs.Median, ns(cpu.Median), ctx.Median)
		}
	}
	tw.Flush()
	if len(skipped) > 0 {
		fmt.Fprintln(w, "\n* skipped, at this machine's limits:")
		for _, s := range skipped {
			fmt.Fprintln(w, "  "+s)
		}
	}
}

func spread(s bench.Spread, f func(float64) string) string {
	if s.Runs > 1 {
		return fmt.Sprintf("%s (%s..%s)", f(s.Median), f(s.Min), f(s.Max))
	}
	return f(s.Median)
}

func ns(v float64) string { return time.Duration(v).Round(10 * time.Nanosecond).String() }
