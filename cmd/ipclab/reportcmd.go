package main

import (
	"fmt"
	"path/filepath"

	"github.com/ipclab/ipclab/plot"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/report"
)

// runReport writes a results directory's report again from its records,
// and everything else bench derives from them, so that a run read by a
// newer ipclab (a new table, a corrected rule) shows it everywhere alike.
func runReport(args []string) error {
	fs := newFlags("report", "DIR", `Write DIR/report.html (one self-contained page: summary, warnings, every
figure inline, link statistics, environment) and DIR/report.md from
DIR/results.jsonl and DIR/failures.jsonl, redrawing the figures (PNG, SVG)
that report.md links, and writing again the other files bench derives from
the records (results.csv, summary.txt, summary.md, results.bench). bench
writes all of them into every run directory.`)
	if err := parseFlags(fs, args); err != nil {
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
	fails, err := record.ReadFailures(dir)
	if err != nil {
		return err
	}
	files, _, err := writeRunFiles(dir, recs, fails)
	for _, f := range files {
		if f != record.RecordsFile && f != record.FailuresFile {
			fmt.Println(filepath.Join(dir, f))
		}
	}
	return err
}

// figureFiles is whether writeReport writes the figures as files; bench's
// hidden -testing-no-figure-files turns it off for the tests that look at
// other things: drawing one PNG takes seconds under -race.
var figureFiles = true

// writeReport draws the figures into dir and writes the run's report
// beside them; it returns the figure files and the report files.
func writeReport(dir string, recs []record.Record, fails []record.Failure) (plots, reports []string, err error) {
	figs, err := plot.Figures(recs)
	if err != nil {
		return nil, nil, fmt.Errorf("plots: %w", err)
	}
	toWrite := figs
	if !figureFiles {
		toWrite = nil
	}
	for _, f := range toWrite {
		out, err := f.WriteFiles(dir)
		plots = append(plots, out...)
		if err != nil {
			return plots, nil, err
		}
	}
	name := dir
	if abs, err := filepath.Abs(dir); err == nil {
		name = filepath.Base(abs)
	}
	doc, err := report.Run("ipclab bench run "+name, recs, fails, figs)
	if err != nil {
		return plots, nil, fmt.Errorf("report: %w", err)
	}
	reports, err = doc.WriteFiles(dir, report.RunBase)
	if err != nil {
		return plots, reports, fmt.Errorf("report: %w", err)
	}
	return plots, reports, nil
}
