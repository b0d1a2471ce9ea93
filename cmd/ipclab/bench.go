package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/bench/cbaseline"
	"github.com/ipclab/ipclab/internal/progress"
	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/record"
	"golang.org/x/sys/unix"
)

func runBench(args []string) error {
	began := time.Now()
	fs := newFlags("bench", "[flags]", `Measure latency (ping-pong) and throughput (streaming) of every transport
between two processes, write records (JSON lines, CSV) and plots (PNG, SVG)
to a results directory, and print a summary table.`)
	def := bench.DefaultSpec()
	list := fs.String("transports", strings.Join(def.Transports, ","), "comma-separated transports")
	sizes := fs.String("sizes", formatList(def.Sizes, formatSize), "comma-separated message sizes in bytes: 64, 64B, 4K (= 4k = 4KiB = 4096), 1M")
	modes := fs.String("modes", strings.Join(def.Modes, ","), "comma-separated modes: latency, throughput, load (open loop at -rates), fanin (1, 2, 4, 8 producer processes into one consumer, raw links over the transports that allow it)")
	rates := fs.String("rates", formatList(def.Rates, formatRate), "load mode: offered rates in messages/s (500, 10k, 2.5k, 1M), run in order until one is not achieved")
	links := fs.String("links", formatList(def.Links, link.Mode.String), bench.LinksHelp)
	runs := fs.Int("runs", def.Runs, "repeat every case this many times, interleaved (run, transport, size); 5 lets compare call a change significant")
	pin := fs.String("pin", string(def.Placement), "placement: none, split (one CPU each), same (both on one CPU)")
	count := fs.Int("count", def.Count, "round trips per latency case")
	batch := fs.Int("batch", 0, "with N above 0: also stream each raw throughput case of a shared-memory transport N messages per SendBatch call, beside one Send a message")
	held := fs.Bool("held", false, "also measure each raw latency and throughput case of a transport that can hold its waits (pipe, fifo, sysvmsg, posixmq, the sockets, and shared memory but for spin) with both Go ends' system calls held (ipclab.WaitHolder: the thread and its P kept through every call and wait, as a C program's), beside the default")
	streamTime := fs.Duration("stream-time", def.StreamTime, "how long each throughput case streams (a short pilot stream sizes it first)")
	volume := fs.String("bytes", formatSize(def.Bytes), "instead of -stream-time: bytes streamed per throughput case (500 to 20,000 messages)")
	caseTimeout := fs.Duration("case-timeout", def.CaseTimeout, "a case still running after this long is stopped and recorded as failed; the run goes on")
	floorTime := fs.Duration("floor-time", time.Second, "with a shared-memory transport in the run: measure the machine's floor (see ipclab floor) for this long first; 0 skips it")
	caseFloor := fs.Bool("case-floor", true, "take the machine's cache-line round trip for a few ms right before each shared-memory case, Go and C (records' floor_rtt_ns): the summary flags a case measured while this machine was slow (a floor over 2x the run's low floor: its 10th percentile, or env.floor if lower); -case-floor=false skips it")
	out := fs.String("out", "", "results directory (default: a new results/<timestamp>[-N])")
	force := fs.Bool("force", false, "with -out: replace the records of a run the directory already holds (they are kept as results.jsonl.replaced, and put back if this run records nothing)")
	format := fs.String("format", "table", formatHelp)
	asJSON := fs.Bool("json", false, "the same as -format json")
	baseline := fs.String("baseline", "c", "c: measure the C baseline (bench/cbaseline, built with gcc) beside every raw case that has one; c,c-poll: also the C baseline waiting in ppoll as Go must, for the mechanisms with a descriptor; none: Go only")
	delays := fs.String("testing-delay", "", "for testing the analysis only: TRANSPORT=DURATION[,...] busy-waits that long before every Go send of TRANSPORT (records say so)")
	failCases := fs.String("testing-fail", "", "for testing the harness only: TEXT[,...] makes every case whose progress name contains TEXT fail")
	noFigureFiles := fs.Bool("testing-no-figure-files", false, "for testing the CLI only: write no figure files (PNG, SVG); the report still draws every figure inline")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected arguments %q", fs.Args())
	}
	if *asJSON {
		*format = "json"
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if *runs < 1 || *count < 1 {
		return usageErrorf("-runs and -count must be 1 or more")
	}
	if *batch < 0 {
		return usageErrorf("-batch must be 0 (off) or more")
	}
	if *caseTimeout <= 0 {
		return usageErrorf("-case-timeout must be positive")
	}
	spec := bench.Spec{Transports: splitList(*list), Modes: splitList(*modes), Runs: *runs, Count: *count, CaseTimeout: *caseTimeout, Batch: *batch, Held: *held}
	if !*caseFloor {
		spec.CaseFloor = -1
	}
	for _, l := range splitList(*links) {
		m, err := link.NewMode(l)
		if err != nil {
			return &usageError{err.Error()}
		}
		spec.Links = append(spec.Links, m)
	}
	var err error
	if spec.Sizes, err = parseSizes(*sizes); err != nil {
		return &usageError{err.Error()}
	}
	if spec.Bytes, err = parseSize(*volume); err != nil || spec.Bytes == 0 {
		if err == nil {
			err = errors.New("0 bytes is nothing to stream")
		}
		return usageErrorf("-bytes: %v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["bytes"] && set["stream-time"]:
		return usageErrorf("-bytes and -stream-time: give one (a throughput case streams a volume or for a time)")
	case set["bytes"]:
		spec.StreamTime = -1
	case *streamTime <= 0:
		return usageErrorf("-stream-time must be positive (or give -bytes)")
	default:
		spec.StreamTime = *streamTime
	}
	if spec.Placement, err = bench.ParsePlacement(*pin); err != nil {
		return &usageError{err.Error()}
	}
	for _, f := range splitList(*rates) {
		r, err := parseRate(f)
		if err != nil {
			return usageErrorf("-rates: %v", err)
		}
		spec.Rates = append(spec.Rates, r)
	}
	if spec.Delay, err = parseDelays(*delays); err != nil {
		return err
	}
	spec.FailCases = splitList(*failCases)
	figureFiles = !*noFigureFiles
	if err := spec.Validate(); err != nil {
		return &usageError{err.Error()}
	}
	var compiler string
	switch *baseline {
	case "c", "c,c-poll":
		prog, cc, err := cbaseline.Build("")
		switch {
		case errors.Is(err, cbaseline.ErrNoCompiler) && !flagSet(fs, "baseline"):
			warn("ipclab: %v; measuring Go only", err)
			*baseline = "none" // in force, for the records' options
		case err != nil:
			return fmt.Errorf("-baseline %s: %w", *baseline, err)
		default:
			spec.CProgram, compiler = prog, cc
			spec.CPoll = *baseline == "c,c-poll"
		}
	case "none":
	default:
		return usageErrorf("-baseline %q: want c, c,c-poll or none", *baseline)
	}
	if err := checkFloorTime(*floorTime); err != nil {
		return err
	}
	if *force && *out == "" {
		return usageErrorf("-force replaces the run in the -out directory; without -out every run gets a new directory")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var rd *record.RunDir
	if *out != "" {
		rd, err = record.OpenRunDir(*out, *force)
	} else {
		rd, err = record.NewRunDir("results", time.Now())
	}
	if err != nil {
		return err
	}
	dir := rd.Path
	line := progress.New(os.Stderr, stderrTerminal())
	defer line.End()
	spec.Progress = func(done, total int, c bench.Case) {
		if done == total {
			line.End()
		} else {
			line.Start(done, total, c.String())
		}
	}
	*out = dir // in force, for the records' options
	clock := bench.NewClock()
	env := bench.CollectEnv(clock)
	env.CCompiler = compiler
	env.Command = os.Args
	env.Options = flagValues(fs)
	bench.RecordFloor(ctx, spec, &env, *floorTime)
	start := time.Now()
	total := len(spec.Cases())
	recs, fails, runErr := bench.Run(ctx, spec, &env, &tellingOutput{RunDir: rd, line: line})
	interrupted := ctx.Err() != nil // before stop, which cancels ctx too
	line.End()                      // an interrupted run leaves its line drawn, and the summary follows
	// Every outcome is on disk now: a second Ctrl-C while the plots are
	// drawn may end the process at once.
	stop()
	if err := rd.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if rd.Empty() {
		if interrupted {
			return errors.New("interrupted before any case finished: nothing to record; every IPC object this run created was removed")
		}
		if runErr != nil {
			return runErr
		}
	}
	files, plots, err := writeRunFiles(dir, recs, fails)
	if err != nil {
		return errors.Join(runErr, err)
	}
	m := record.Manifest{Command: os.Args, Options: env.Options, Spec: spec.Effective(), Start: began.UTC(), End: time.Now().UTC(),
		Version: version(), Commit: env.Commit, Interrupted: interrupted, Files: files,
		Cases: record.CaseCount{Planned: total, Finished: len(recs), Failed: len(fails)}}
	for _, r := range recs {
		if r.Skipped != "" {
			m.Cases.Skipped++
		}
	}
	if runErr != nil && !interrupted {
		m.Error = runErr.Error()
	}
	if err := record.WriteManifest(dir, m); err != nil {
		return errors.Join(runErr, err)
	}
	if err := writeFormat(os.Stdout, *format, recs, fails); err != nil {
		return errors.Join(runErr, err)
	}
	// Beside a table for people, where the rest is; beside records for
	// programs, on stderr, so stdout stays one format.
	info := io.Writer(os.Stdout)
	if *format != "table" && *format != "markdown" {
		info = os.Stderr
	} else {
		fmt.Println()
	}
	fmt.Fprintf(info, "%d cases in %v; records, summary and %d plots in %s\n", len(recs), time.Since(start).Round(time.Second), plots, dir)
	fmt.Fprintf(info, "clock: %s, %.0f ns a reading, %.0f ns harness overhead per sample\n", env.ClockSource, env.TimerNs, env.SampleOverheadNs)
	var fl strings.Builder // one long line: wrapped, as the summary is, to 100 columns
	printFloorLine(&fl, &env)
	if fl.Len() > 0 {
		record.WriteText(info, []record.Table{{Notes: strings.Split(strings.TrimSuffix(fl.String(), "\n"), "\n")}})
	}
	switch {
	case interrupted:
		failed := ""
		if len(fails) > 0 {
			failed = fmt.Sprintf(" (%d failed, listed in %s)", len(fails), record.FailuresFile)
		}
		return fmt.Errorf("interrupted after %d of %d cases%s; every IPC object this run created was removed; the finished cases' records, summary and plots are in %s",
			len(recs)+len(fails), total, failed, dir)
	case runErr != nil:
		return fmt.Errorf("%w; the cases before it are recorded in %s", runErr, dir)
	case len(fails) > 0:
		return fmt.Errorf("%d of %d cases failed (the others are recorded; the failures are in %s):\n%s",
			len(fails), total, filepath.Join(dir, record.FailuresFile), record.FailureList(fails))
	}
	return nil
}

// tellingOutput writes each outcome to the run directory and tells the
// progress line: off a terminal a line per case, and a failure as it
// happens.
type tellingOutput struct {
	*record.RunDir
	line *progress.Line
}

func (o *tellingOutput) Record(r record.Record) error {
	if err := o.RunDir.Record(r); err != nil {
		return err
	}
	o.line.Finish(headline(r))
	return nil
}

func (o *tellingOutput) Failure(f record.Failure) error {
	o.line.FailedCase(fmt.Sprintf("ipclab bench: %s failed, going on: %s", f.Case, f.Error))
	return o.RunDir.Failure(f)
}

// headline is a finished case's main figure, for its progress line.
func headline(r record.Record) string {
	switch {
	case r.Skipped != "":
		return "skipped: " + r.Skipped
	case r.Mode == record.Latency && r.RTT != nil:
		return fmt.Sprintf("round trip p50 %s, p99 %s", record.FormatNs(r.RTT.P50), record.FormatNs(r.RTT.P99))
	case r.Mode == record.Load && r.OneWay != nil:
		return fmt.Sprintf("%.0f msgs/s achieved, one way p50 %s, p99 %s", r.MsgsPerSec, record.FormatNs(r.OneWay.P50), record.FormatNs(r.OneWay.P99))
	case r.Mode == record.FanIn:
		return fmt.Sprintf("%.0f msgs/s from %d producers", r.MsgsPerSec, r.Producers)
	}
	return fmt.Sprintf("%.0f MB/s, %.0f msgs/s", r.MBPerSec, r.MsgsPerSec)
}

// writeRunFiles writes what is derived from the finished cases' records:
// the CSV, the summary (text and Markdown), the benchmark-format file,
// the plots and the report. The records are already on disk, appended
// case by case. It returns the names of every file of the run in dir, and
// how many plots.
func writeRunFiles(dir string, recs []record.Record, fails []record.Failure) (files []string, plots int, err error) {
	files = []string{record.RecordsFile}
	if len(fails) > 0 {
		files = append(files, record.FailuresFile)
	}
	if err := record.WriteCSV(filepath.Join(dir, "results.csv"), recs); err != nil {
		return files, 0, err
	}
	files = append(files, "results.csv")
	for name, format := range map[string]string{"summary.txt": "table", "summary.md": "markdown", "results.bench": "benchfmt"} {
		var b bytes.Buffer
		if err := writeFormat(&b, format, recs, fails); err != nil {
			return files, 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return files, 0, err
		}
	}
	files = append(files, "summary.txt", "summary.md", "results.bench")
	paths, reports, err := writeReport(dir, recs, fails)
	for _, p := range append(paths, reports...) {
		files = append(files, filepath.Base(p))
		if filepath.Ext(p) == ".png" {
			plots++ // each figure is a PNG and an SVG
		}
	}
	return files, plots, err
}

const formatHelp = `what to print on stdout: table (the summary), markdown (the same tables),
csv (every record, as results.csv), json (every record, one JSON line each, as
results.jsonl), benchfmt (the Go benchmark format, as results.bench:
benchstat reads it)`

// checkFormat refuses a -format ipclab does not write.
func checkFormat(f string) error {
	switch f {
	case "table", "markdown", "csv", "json", "benchfmt":
		return nil
	}
	hint := ""
	if s := suggest(f, []string{"table", "markdown", "csv", "json", "benchfmt"}); s != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", s)
	}
	return usageErrorf("-format %q: want table, markdown, csv, json or benchfmt%s", f, hint)
}

// writeFormat writes a run's records in one of -format's formats.
func writeFormat(w io.Writer, format string, recs []record.Record, fails []record.Failure) error {
	switch format {
	case "table":
		record.WriteSummary(w, recs, fails)
	case "markdown":
		record.WriteSummaryMarkdown(w, recs, fails)
	case "csv":
		return record.WriteCSVTo(w, recs)
	case "json":
		enc := json.NewEncoder(w)
		for i := range recs {
			if err := enc.Encode(&recs[i]); err != nil {
				return err
			}
		}
	case "benchfmt":
		return record.WriteBenchfmt(w, recs)
	default:
		return checkFormat(format)
	}
	return nil
}

// flagValues are every flag's value in force, given or defaulted.
func flagValues(fs *flag.FlagSet) map[string]string {
	out := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { out[f.Name] = f.Value.String() })
	return out
}

// printVisibleDefaults is fs.PrintDefaults without the flags meant for
// the tests alone (-testing-*), which -h does not offer.
func printVisibleDefaults(fs *flag.FlagSet) {
	shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	shown.SetOutput(fs.Output())
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Name, "testing-") {
			shown.Var(f.Value, f.Name, f.Usage)
			shown.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	shown.PrintDefaults()
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

// formatList formats a default list as its flag takes it.
func formatList[T any](list []T, format func(T) string) string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = format(v)
	}
	return strings.Join(out, ",")
}

// formatSize writes a size as parseSize reads it: 64, 4K, 16M.
func formatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "M"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "K"
	}
	return strconv.Itoa(n)
}

// formatRate writes a rate as -rates reads it: 500, 10k, 2M.
func formatRate(r float64) string {
	switch n := int(r); {
	case n >= 1e6 && n%1e6 == 0:
		return strconv.Itoa(n/1e6) + "M"
	case n >= 1e3 && n%1e3 == 0:
		return strconv.Itoa(n/1e3) + "k"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// stderrTerminal is what stderr is, for the progress line: its width is
// asked of the kernel (TIOCGWINSZ) at every redraw, so a resized window
// is followed.
func stderrTerminal() progress.Terminal {
	tty := isTerminal(os.Stderr)
	return progress.Terminal{
		IsTerminal: tty,
		Color:      progress.ColorAllowed(tty, os.Getenv),
		Width: func() int {
			ws, err := unix.IoctlGetWinsize(int(os.Stderr.Fd()), unix.TIOCGWINSZ)
			if err != nil {
				return 0
			}
			return int(ws.Col)
		},
	}
}

// warn prints a warning on stderr, yellow on a terminal (unless NO_COLOR).
func warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if progress.ColorAllowed(isTerminal(os.Stderr), os.Getenv) {
		msg = "\033[33m" + msg + "\033[0m"
	}
	fmt.Fprintln(os.Stderr, msg)
}
