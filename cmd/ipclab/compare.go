package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ipclab/ipclab/record"
)

func runCompare(args []string) error {
	fs := newFlags("compare", "[flags] OLD_DIR NEW_DIR", `Compare two result directories case by case: the change in round-trip p50
and p99, load one-way p50 and throughput, said as faster or slower, with a
Mann–Whitney U test over the runs of each case (a run is the unit of
replication) corrected for the number of figures tested. A change is
reported only when the runs say it is not noise; otherwise the row says "~".
Runs of 3 against 3 can never reach p <= 0.05: measure with -runs 5 or more.
Two runs taken at another placement, kernel or CPU model are refused (the
difference would not be a change): -force compares them anyway, saying so.
A differing commit is only warned of.`)
	alpha := fs.Float64("alpha", 0.05, "significance level")
	corr := fs.String("correction", "bh", "multiple-comparison correction: bh (Benjamini–Hochberg: false discovery rate) or holm (family-wise error; with few runs and many figures it can call nothing)")
	force := fs.Bool("force", false, "compare runs whose placement, kernel or CPU model differ")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("want two result directories: OLD_DIR NEW_DIR")
	}
	if *alpha <= 0 || *alpha >= 1 {
		return usageErrorf("-alpha %v: want a level between 0 and 1", *alpha)
	}
	correction := map[string]string{"bh": record.BenjaminiHochberg, "holm": record.Holm}[*corr]
	if correction == "" {
		return usageErrorf("-correction %q: want bh or holm", *corr)
	}
	var sets [2][]record.Record
	for i, dir := range fs.Args() {
		recs, err := readRecords(dir)
		if err != nil {
			return err
		}
		sets[i] = recs
	}
	c := record.Compare(sets[0], sets[1], *alpha, correction)
	var refused []string
	for _, d := range c.Env {
		if d.Refuse {
			refused = append(refused, d.String())
		}
	}
	if len(refused) > 0 && !*force {
		return fmt.Errorf("not comparable: %s; the two runs measured different things, so their differences are not changes. "+
			"-force compares them anyway", strings.Join(refused, "; "))
	}
	if len(c.Deltas) == 0 {
		return errors.New("the two directories have no measured case in common")
	}
	record.WriteComparison(os.Stdout, c)
	return nil
}
