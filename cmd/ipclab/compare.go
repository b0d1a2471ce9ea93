package main

import (
	"errors"
	"os"

	"github.com/ipclab/ipclab/record"
)

func runCompare(args []string) error {
	fs := newFlags("compare", "[flags] OLD_DIR NEW_DIR", `Compare two result directories case by case: the change in round-trip p50
and p99 and in throughput, with a Mann–Whitney U test over the runs of
each case. A change is reported only when the runs say it is not noise;
otherwise the row says "~" (no significant change). Runs of 3 against 3
can never reach p <= 0.05: measure with -runs 5 or more.`)
	alpha := fs.Float64("alpha", 0.05, "significance level")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("want two result directories: OLD_DIR NEW_DIR")
	}
	if *alpha <= 0 || *alpha >= 1 {
		return usageErrorf("-alpha %v: want a level between 0 and 1", *alpha)
	}
	var sets [2][]record.Record
	for i, dir := range fs.Args() {
		recs, err := readRecords(dir)
		if err != nil {
			return err
		}
		sets[i] = recs
	}
	deltas := record.Compare(sets[0], sets[1], *alpha)
	if len(deltas) == 0 {
		return errors.New("the two directories have no measured case in common")
	}
	record.WriteComparison(os.Stdout, deltas, *alpha)
	return nil
}
