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
	summary := fs.Bool("summary", false, "print the summary bench printed (see -format), and draw no plot")
	format := fs.String("format", "table", "with -summary: "+formatHelp)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one results directory")
	}
	dir := fs.Arg(0)
	recs, err := readRecords(dir)
	if err != nil {
		return err
	}
	if *summary { // the plots stay as they are: drawing them all takes seconds
		fails, err := record.ReadFailures(dir)
		if err != nil {
			return err
		}
		return writeFormat(os.Stdout, *format, recs, fails) // as bench printed it, failures included
	}
	files, err := plot.All(recs, dir)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%s: no measured case to plot", dir)
	}
	for _, f := range files {
		fmt.Println(f)
	}
	return nil
}

// readRecords reads a results directory's records. A last record cut short
// (the run was stopped while writing it) is left out with a warning: the
// records before it are whole and still worth reading.
func readRecords(dir string) ([]record.Record, error) {
	recs, err := record.ReadJSONL(filepath.Join(dir, record.RecordsFile))
	var cut *record.TruncatedError
	switch {
	case errors.As(err, &cut):
		fmt.Fprintf(os.Stderr, "ipclab: warning: %v\n", err)
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%s has no %s; is it a results directory of ipclab bench?", dir, record.RecordsFile)
	case err != nil:
		return nil, err
	}
	return recs, nil
}
