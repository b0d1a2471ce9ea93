package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipclab/ipclab/plot"
	"github.com/ipclab/ipclab/record"
)

// runPlot redraws the plots of a results directory from its records.
func runPlot(args []string) error {
	fs := newFlags("plot", "[-summary] DIR", "Redraw the plots in DIR from DIR/results.jsonl.")
	summary := fs.Bool("summary", false, "print the summary table bench printed, instead of the plot files")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one results directory")
	}
	dir := fs.Arg(0)
	recs, err := record.ReadJSONL(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s has no results.jsonl; is it a results directory of ipclab bench?", dir)
		}
		return err
	}
	files, err := plot.All(recs, dir)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%s: no measured case to plot", dir)
	}
	if *summary {
		fails, err := record.ReadFailures(dir)
		if err != nil {
			return err
		}
		record.WriteSummary(os.Stdout, recs, fails) // as bench printed it, failures included
		return nil
	}
	for _, f := range files {
		fmt.Println(f)
	}
	return nil
}
