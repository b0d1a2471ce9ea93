package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/plot"
	"github.com/ipclab/ipclab/record"
)

// RunOptions are how a lab run is made; the zero value runs the file as
// written into a new directory under results/lab-NAME.
type RunOptions struct {
	Overrides
	// Dir is the run directory; "" makes results/lab-NAME/TIMESTAMP.
	Dir string
	// Progress, if set, is told before each case (bench.Spec.Progress).
	Progress func(done, total int, c bench.Case)
	// Failed, if set, is told of each failed case as it happens.
	Failed func(record.Failure)
}

// Result is what a finished run left in its directory.
type Result struct {
	Dir      string
	Records  []record.Record
	Failures []record.Failure
	Outcomes []Outcome
	Manifest *Manifest
	Plots    []string
}

// Run measures the experiment through the bench harness (two processes
// per case, as `ipclab bench`), then writes beside the records the
// experiment, the plots, the expectations' outcomes and the manifest
// with its digest. A run stopped by ctx keeps what it measured, sealed
// all the same, and returns ctx's error.
func Run(ctx context.Context, e *Experiment, o RunOptions) (*Result, error) {
	spec, err := e.Spec(o.Overrides)
	if err != nil {
		return nil, err
	}
	spec.Progress = o.Progress
	var rd *record.RunDir
	if o.Dir != "" {
		rd, err = record.OpenRunDir(o.Dir, false)
	} else {
		rd, err = record.NewRunDir(filepath.Join("results", "lab-"+e.Name), time.Now())
	}
	if err != nil {
		return nil, err
	}
	dir := rd.Path
	if err := os.WriteFile(filepath.Join(dir, ExperimentFile), e.Source, 0o644); err != nil {
		rd.Close()
		return nil, err
	}
	m := &Manifest{Schema: ManifestSchema, Experiment: e.Name, Started: time.Now().UTC(), Overrides: o.Overrides}
	clock := bench.NewClock()
	env := bench.CollectEnv(clock)
	bench.RecordFloor(ctx, spec, &env, e.FloorTime())
	out := bench.Output(rd)
	if o.Failed != nil {
		out = failureTeller{rd, o.Failed}
	}
	recs, fails, runErr := bench.Run(ctx, spec, &env, out)
	if err := rd.Close(); err != nil && runErr == nil {
		runErr = err
	}
	m.Finished, m.Env, m.Commit = time.Now().UTC(), env, env.Commit
	res := &Result{Dir: dir, Records: recs, Failures: fails, Manifest: m}
	if len(recs) == 0 && len(fails) == 0 {
		return res, errors.Join(runErr, errors.New("no case finished: nothing recorded"))
	}
	if res.Plots, err = plot.All(recs, dir); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("plots: %w", err))
	}
	res.Outcomes, err = finish(dir, e, m, recs, fails)
	return res, errors.Join(runErr, err)
}

// finish writes what a run leaves beside its records and plots: the CSV,
// the summary, the expectations' outcomes and the sealed manifest.
func finish(dir string, e *Experiment, m *Manifest, recs []record.Record, fails []record.Failure) ([]Outcome, error) {
	if err := writeRunFiles(dir, recs, fails); err != nil {
		return nil, err
	}
	outcomes := e.Evaluate(recs, &m.Env)
	if err := writeJSON(filepath.Join(dir, ExpectationsFile), outcomes); err != nil {
		return outcomes, err
	}
	if err := m.seal(dir); err != nil {
		return outcomes, err
	}
	return outcomes, writeJSON(filepath.Join(dir, ManifestFile), m)
}

// failureTeller is the run directory, telling each failure as it is kept.
type failureTeller struct {
	*record.RunDir
	tell func(record.Failure)
}

func (f failureTeller) Failure(x record.Failure) error {
	f.tell(x)
	return f.RunDir.Failure(x)
}

// writeRunFiles writes what bench writes beside its records: the CSV and
// the summary table.
func writeRunFiles(dir string, recs []record.Record, fails []record.Failure) error {
	if err := record.WriteCSV(filepath.Join(dir, "results.csv"), recs); err != nil {
		return err
	}
	var sum strings.Builder
	record.WriteSummary(&sum, recs, fails)
	return os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(sum.String()), 0o644)
}
