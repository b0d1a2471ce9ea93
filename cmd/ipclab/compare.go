package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/ipclab/ipclab/bench"
)

func runCompare(args []string) error {
	fs := newFlags("compare", "[flags] OLD_DIR NEW_DIR", `Compare two result directories case by case: the change in round-trip p50
and p99 and in throughput, with a Mann–Whitney U test over the runs of
each case. A change is reported only when the runs say it is not noise;
otherwise the row says "~" (no significant change). Runs of 3 against 3
can never reach p <= 0.05: measure with -runs 5 or more.`)
	alpha := fs.Float64("alpha", 0.05, "significance level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("want two result directories: OLD_DIR NEW_DIR")
	}
	if *alpha <= 0 || *alpha >= 1 {
		return fmt.Errorf("-alpha %v: want a level between 0 and 1", *alpha)
	}
	var sets [2][]bench.Record
	for i, dir := range fs.Args() {
		recs, err := bench.ReadJSONL(filepath.Join(dir, "results.jsonl"))
		if err != nil {
			return err
		}
		sets[i] = recs
	}
	deltas := bench.Compare(sets[0], sets[1], *alpha)
	if len(deltas) == 0 {
		return errors.New("the two directories have no measured case in common")
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "case\tsize\t\told\tnew\tchange\t\t\n")
	changed, tooFew := 0, false
	for _, d := range deltas {
		name := d.Transport
		if d.Link != "raw" {
			name += " " + d.Link
		}
		if d.Impl != "go" {
			name += " [" + d.Impl + "]"
		}
		format := ns
		if d.Metric == "msgs/s" {
			format = func(v float64) string { return fmt.Sprintf("%.0f", v) }
		}
		verdict := "~"
		switch {
		case d.TooFewRuns:
			verdict, tooFew = "? (too few runs)", true
		case d.Significant:
			verdict = fmt.Sprintf("%+.1f%%", 100*d.Change)
			changed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t(p=%.3f n=%d+%d)\t\n", name, bench.SizeLabel(d.Size), d.Metric,
			format(d.Old.Median), format(d.New.Median), verdict, d.P, d.Old.Runs, d.New.Runs)
	}
	tw.Flush()
	fmt.Printf("\n%d of %d figures changed significantly (Mann–Whitney U, alpha %.2f); ~ means no significant change\n", changed, len(deltas), *alpha)
	if tooFew {
		fmt.Printf("? : with these run counts no p can reach %.2f; measure with more -runs\n", *alpha)
	}
	return nil
}
