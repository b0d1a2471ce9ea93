package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/internal/progress"
	"github.com/ipclab/ipclab/lab"
	"github.com/ipclab/ipclab/record"
)

const labUsage = `usage: ipclab lab SUBCOMMAND [flags]

The course's laboratory: experiments handed out as files, run in two
processes per case, expectations checked on the student's own run, a
report to hand in, and the instructor's check.

  list                 the ready experiments
  show NAME            print a ready experiment's file (to copy and edit)
  run EXPERIMENT       run a ready experiment (by name) or a file; writes the
                       records, plots, expectations, a sealed manifest, report.md
                       and report.html (one self-contained page: what to hand in)
  report DIR           write DIR/report.html and report.md again, e.g. with the
                       answers (-answers)
  check DIR            for the instructor: the digest, the expectations recomputed
                       from the raw records, implausible figures; exit 1 on a problem

The guide: docs/lab/es/README.md (español), docs/lab/en/README.md (English).
`

func runLab(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, labUsage)
		return usageErrorf("want a subcommand")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Print(labUsage)
		return nil
	case "list":
		return labList(args[1:])
	case "show":
		return labShow(args[1:])
	case "run":
		return labRun(args[1:])
	case "report":
		return labReport(args[1:])
	case "check":
		return labCheck(args[1:])
	}
	hint := ""
	if s := suggest(args[0], []string{"list", "show", "run", "report", "check"}); s != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", s)
	}
	return usageErrorf("unknown subcommand %q%s", args[0], hint)
}

func labList(args []string) error {
	fs := newFlags("lab list", "", "List the ready experiments.")
	lang := fs.String("lang", "es", "language of the titles: es or en")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	for _, n := range lab.Names() {
		e, err := lab.Load(n)
		if err != nil {
			return err // a ready experiment that does not load is a bug the tests catch
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", n, e.Title.In(*lang), e.Seeds)
	}
	return w.Flush()
}

func labShow(args []string) error {
	fs := newFlags("lab show", "NAME", "Print a ready experiment's file, to copy and edit: ipclab lab show capacity > mine.toml")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one experiment name (ipclab lab list)")
	}
	b, err := lab.Source(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("no ready experiment %q (ready: %s)", fs.Arg(0), strings.Join(lab.Names(), ", "))
	}
	_, err = os.Stdout.Write(b)
	return err
}

func labRun(args []string) error {
	fs := newFlags("lab run", "[flags] EXPERIMENT", `Run an experiment: a ready one by name (ipclab lab list) or a TOML file.
Every case runs in two processes through the bench harness; the run
directory gets the records, plots, the expectations' outcomes, a manifest
with a SHA-256 digest (lab check verifies it), and the report: report.html
(one self-contained page, opens in any browser) and report.md.`)
	out := fs.String("out", "", "run directory (default: a new results/lab-NAME/<timestamp>)")
	runs := fs.Int("runs", 0, "repeat every case this many times (default: the file's)")
	count := fs.Int("count", 0, "round trips per latency case (default: the file's)")
	volume := fs.String("bytes", "", "bytes streamed per throughput case (default: the file's)")
	placement := fs.String("placement", "", "none, split or same (default: the file's; the expectations say where they hold)")
	answers := fs.String("answers", "", "the student's answers (Markdown, one '## q1' heading per question) for the report")
	lang := fs.String("lang", "es", "language of the report: es or en")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one experiment: a name (%s) or a file", strings.Join(lab.Names(), ", "))
	}
	if *runs < 0 || *count < 0 {
		return usageErrorf("-runs and -count must be 1 or more")
	}
	if *lang != "es" && *lang != "en" {
		return usageErrorf("-lang %q: want es or en", *lang)
	}
	e, err := lab.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	o := lab.RunOptions{Overrides: lab.Overrides{Runs: *runs, Count: *count, Placement: *placement}, Dir: *out}
	if *volume != "" {
		if o.Bytes, err = parseSize(*volume); err != nil || o.Bytes == 0 {
			return usageErrorf("-bytes %q: want a size such as 256K", *volume)
		}
	}
	if _, err := e.Spec(o.Overrides); err != nil {
		return &usageError{err.Error()}
	}
	if *answers != "" { // a typo in the answers fails now, not after the run
		b, err := os.ReadFile(*answers)
		if err != nil {
			return err
		}
		if _, err := lab.ParseAnswers(b, e); err != nil {
			return fmt.Errorf("%s: %w", *answers, err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	line := progress.New(os.Stderr, stderrTerminal())
	defer line.End()
	o.Progress = func(done, total int, c bench.Case) {
		if done == total {
			line.End()
		} else {
			line.Start(done, total, c.String())
		}
	}
	o.Failed = func(f record.Failure) {
		line.FailedCase(fmt.Sprintf("ipclab lab: %s failed, going on: %s", f.Case, f.Error))
	}
	res, runErr := lab.Run(ctx, e, o)
	line.End()
	stop()
	if res == nil || res.Manifest == nil || res.Manifest.Digest == "" {
		return runErr
	}
	rep, err := lab.BuildReport(res.Dir, *lang, *answers)
	if err != nil {
		return errors.Join(runErr, err)
	}
	paths, err := rep.Write()
	if err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Print(rep.Summary)
	fmt.Println()
	printOutcomes(os.Stdout, res.Outcomes, *lang)
	fmt.Printf("\nrecords, plots and the report in %s (%s); check it with: ipclab lab check %s\n", res.Dir, strings.Join(paths, ", "), res.Dir)
	if runErr == nil && len(res.Failures) > 0 {
		runErr = fmt.Errorf("%d cases failed (the others are recorded):\n%s", len(res.Failures), record.FailureList(res.Failures))
	}
	return runErr
}

func labReport(args []string) error {
	fs := newFlags("lab report", "[flags] DIR", "Write DIR/report.html and DIR/report.md again from the run's records: with the answers, or in the other language.")
	answers := fs.String("answers", "", "the student's answers (Markdown, one '## q1' heading per question)")
	lang := fs.String("lang", "es", "language of the report: es or en")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one run directory")
	}
	rep, err := lab.BuildReport(fs.Arg(0), *lang, *answers)
	if err != nil {
		return err
	}
	paths, err := rep.Write()
	for _, p := range paths {
		fmt.Println(p)
	}
	return err
}

func labCheck(args []string) error {
	fs := newFlags("lab check", "[-json] DIR", `Check a lab run directory: the digest over records, environment, commit and
experiment; the expectations recomputed from the raw records against the
run's; figures no machine produces. Exit 1 on any problem (a failed
expectation is the student's result, listed but not a problem).`)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	lang := fs.String("lang", "es", "language of the expectations' texts: es or en")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one run directory")
	}
	c, err := lab.Check(fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			OK       bool          `json:"ok"`
			Problems []lab.Problem `json:"problems"`
			Outcomes []lab.Outcome `json:"outcomes"`
		}{c.OK(), c.Problems, c.Outcomes})
	} else {
		fmt.Printf("%s: experiment %s, commit %s, %d records, digest %s\n", fs.Arg(0), c.Manifest.Experiment, c.Manifest.Commit, len(c.Records), c.Manifest.Digest)
		printOutcomes(os.Stdout, c.Outcomes, *lang)
		for _, p := range c.Problems {
			fmt.Printf("PROBLEM %s: %s\n", p.Kind, p.Detail)
		}
	}
	if !c.OK() {
		return fmt.Errorf("%d problem(s) in %s", len(c.Problems), fs.Arg(0))
	}
	if !*asJSON {
		fmt.Println("ok: intact, expectations as recorded, nothing implausible")
	}
	return nil
}

// printOutcomes prints one line per expectation.
func printOutcomes(w io.Writer, os []lab.Outcome, lang string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, o := range os {
		detail := o.Reason
		if o.Status == lab.Pass {
			detail = fmt.Sprintf("%s %s %s", lab.FormatValue(o.Left, o.Unit), o.Op, lab.FormatValue(o.Right, o.Unit))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", strings.ToUpper(string(o.Status)), o.ID, o.Text.In(lang), detail)
	}
	tw.Flush()
}
