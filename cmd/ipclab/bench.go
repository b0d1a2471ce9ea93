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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/plot"
	"github.com/ipclab/ipclab/scripts/cbaseline"
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
	modes := fs.String("modes", "latency,throughput", "comma-separated modes: latency, throughput, load (open loop at -rates)")
	rates := fs.String("rates", "1k,10k,50k,100k,200k,500k,1M,2M", "load mode: offered rates in messages/s, run in order until one is not achieved")
	links := fs.String("links", "raw", bench.LinksHelp)
	runs := fs.Int("runs", 5, "repeat every case this many times, interleaved (run, transport, size); 5 lets compare call a change significant")
	pin := fs.String("pin", "none", "placement: none, split (one CPU each), same (both on one CPU)")
	count := fs.Int("count", 5000, "round trips per latency case")
	volume := fs.String("bytes", "16M", "bytes streamed per throughput case (500 to 20,000 messages)")
	out := fs.String("out", "", "results directory (default results/<timestamp>)")
	asJSON := fs.Bool("json", false, "print the records as JSON lines on stdout instead of the table")
	baseline := fs.String("baseline", "c", "c: measure the C baseline (scripts/cbaseline, built with gcc) beside every raw case that has one; none: Go only")
	delays := fs.String("testing-delay", "", "for testing the analysis only: TRANSPORT=DURATION[,...] busy-waits that long before every Go send of TRANSPORT (records say so)")
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
		if m != bench.Latency && m != bench.Throughput && m != bench.Load && m != bench.FanIn {
			return fmt.Errorf("unknown mode %q (want latency, throughput, load, fanin)", m)
		}
		if m == bench.Load && slices.ContainsFunc(spec.Sizes, func(z int) bool { return z < 8 }) {
			return errors.New("the load mode stamps each message: -sizes must all be 8 bytes or more")
		}
	}
	for _, f := range splitList(*rates) {
		n, err := parseSize(strings.NewReplacer("k", "000", "M", "000000").Replace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-rates: %q is not a rate in messages/s (e.g. 50k)", f)
		}
		spec.Rates = append(spec.Rates, float64(n))
	}
	var compiler string
	switch *baseline {
	case "c":
		prog, cc, err := cbaseline.Build("")
		switch {
		case errors.Is(err, cbaseline.ErrNoCompiler) && !flagSet(fs, "baseline"):
			fmt.Fprintf(os.Stderr, "ipclab: %v; measuring Go only\n", err)
		case err != nil:
			return fmt.Errorf("-baseline c: %w", err)
		default:
			spec.CProgram, compiler = prog, cc
		}
	case "none":
	default:
		return fmt.Errorf("-baseline %q: want c or none", *baseline)
	}
	if spec.Delay, err = parseDelays(*delays); err != nil {
		return err
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
	env.CCompiler = compiler
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

// parseDelays reads -testing-delay: pipe=20us,sysvmsg=1ms.
func parseDelays(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, f := range splitList(s) {
		name, dur, ok := strings.Cut(f, "=")
		d, err := time.ParseDuration(dur)
		if !ok || err != nil || d <= 0 {
			return nil, fmt.Errorf("-testing-delay %q: want TRANSPORT=DURATION, e.g. pipe=20us", f)
		}
		out[name] = d
	}
	return out, nil
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

func spread(s bench.Spread, f func(float64) string) string {
	if s.Runs > 1 {
		return fmt.Sprintf("%s (%s..%s)", f(s.Median), f(s.Min), f(s.Max))
	}
	return f(s.Median)
}

// ns prints nanoseconds with about three significant digits.
func ns(v float64) string {
	d := time.Duration(v)
	switch {
	case d >= 100*time.Millisecond:
		d = d.Round(time.Millisecond)
	case d >= time.Millisecond:
		d = d.Round(10 * time.Microsecond)
	case d >= 100*time.Microsecond:
		d = d.Round(time.Microsecond)
	default:
		d = d.Round(10 * time.Nanosecond)
	}
	return d.String()
}
