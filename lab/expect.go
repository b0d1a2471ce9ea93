package lab

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/record"
)

// Expectation is a relation between two figures of the student's own
// run, never an absolute number: "left op right", each side one case's
// metric (or a sum of metrics) times a factor. By default each side is
// the median over the runs; PerRun compares run by run and passes only
// if every run does (for counters that must balance in every run).
//
//	[[expect]]
//	id = "shm-10x"
//	text = { en = "sysvshm-futex p50 < pipe p50 / 10 at split" }
//	left  = { transport = "sysvshm-futex", size = 64, mode = "latency", metric = "p50" }
//	op = "<"
//	right = { transport = "pipe", size = 64, mode = "latency", metric = "p50", times = 0.1 }
//	at = "split"
type Expectation struct {
	ID     string `toml:"id"`
	Text   Text   `toml:"text"`
	Left   Side   `toml:"left"`
	Op     string `toml:"op"`
	Right  Side   `toml:"right"`
	PerRun bool   `toml:"per_run"`
	// At is the placement the relation holds at; a run at another one
	// skips it, saying so.
	At string `toml:"at"`
	// MinCPUs skips the expectation, saying why, on a machine with
	// fewer CPUs.
	MinCPUs int `toml:"min_cpus"`
	// Why is the reason the guide gives when the relation fails.
	Why Text `toml:"why"`

	op op
}

// Side is one figure: the case its selector names and the metric(s),
// summed, times Times (1 if unset).
type Side struct {
	Transport string   `toml:"transport"`
	Link      string   `toml:"link"`
	Size      *Size    `toml:"size"`
	Mode      string   `toml:"mode"`
	Impl      string   `toml:"impl"`
	Producers int      `toml:"producers"`
	Rate      float64  `toml:"rate"`
	Metric    string   `toml:"metric"`
	Metrics   []string `toml:"metrics"` // summed: received + dropped
	Times     float64  `toml:"times"`
	// Value makes the side a constant (left > 0 drops): for counts that
	// must be zero or not, never for a timing, which would not carry
	// from one machine to another.
	Value *float64 `toml:"value"`

	metrics []metric
}

type op string

var ops = []op{"<", "<=", ">", ">=", "=", "!="}

func (o op) holds(l, r float64) bool {
	switch o {
	case "<":
		return l < r
	case "<=":
		return l <= r
	case ">":
		return l > r
	case ">=":
		return l >= r
	case "=":
		return l == r
	case "!=":
		return l != r
	}
	return false
}

func (x *Expectation) check(spec bench.Spec) error {
	x.op = op(x.Op)
	if !slices.Contains(ops, x.op) {
		return fmt.Errorf("op %q: want one of %v", x.Op, ops)
	}
	if x.At != "" {
		if _, err := bench.ParsePlacement(x.At); err != nil {
			return fmt.Errorf("at: %w", err)
		}
	}
	if x.MinCPUs < 0 {
		return errors.New("min_cpus: want 0 or more")
	}
	for _, s := range []struct {
		name string
		side *Side
	}{{"left", &x.Left}, {"right", &x.Right}} {
		if err := s.side.check(spec); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

func (s *Side) check(spec bench.Spec) error {
	if s.Times == 0 {
		s.Times = 1
	}
	if s.Value != nil {
		if s.Transport != "" || s.Link != "" || s.Size != nil || s.Mode != "" || s.Metric != "" || s.Metrics != nil {
			return errors.New("a side with a value names no case and no metric")
		}
		return nil
	}
	if s.Impl == "" {
		s.Impl = record.ImplGo
	}
	names := s.Metrics
	if s.Metric != "" {
		names = append([]string{s.Metric}, names...)
	}
	if len(names) == 0 {
		return fmt.Errorf("metric: want one of %s", strings.Join(metricNames(), ", "))
	}
	var matched []bench.Case
	for _, c := range spec.Cases() {
		if c.Run == 1 && s.matchesCase(c) {
			matched = append(matched, c)
		}
	}
	switch len(matched) {
	case 0:
		return fmt.Errorf("selects no case of the run (%s)", s.selector())
	case 1:
	default:
		var list []string
		for _, c := range matched {
			list = append(list, strings.TrimPrefix(c.String(), "run 1 "))
		}
		return fmt.Errorf("selects %d cases (%s): name the transport, link, size, mode (and producers) of one", len(matched), strings.Join(list, "; "))
	}
	s.metrics = nil
	for _, n := range names {
		m, ok := metrics[n]
		if !ok {
			return fmt.Errorf("metric %q: want one of %s", n, strings.Join(metricNames(), ", "))
		}
		if err := m.fits(matched[0]); err != nil {
			return fmt.Errorf("metric %s: %w", n, err)
		}
		s.metrics = append(s.metrics, m)
	}
	return nil
}

func (s *Side) matchesCase(c bench.Case) bool {
	return s.matches(c.Transport, c.Link.String(), c.Size, c.Mode, c.Impl, c.Producers, c.Rate)
}

func (s *Side) matchesRecord(r *record.Record) bool {
	return s.matches(r.Transport, r.Link, r.Size, r.Mode, r.Impl, r.Producers, r.OfferedRate)
}

func (s *Side) matches(transport, lnk string, size int, mode, impl string, producers int, rate float64) bool {
	return (s.Transport == "" || s.Transport == transport) && (s.Link == "" || s.Link == lnk) &&
		(s.Size == nil || int(*s.Size) == size) && (s.Mode == "" || s.Mode == mode) && s.Impl == impl &&
		(s.Producers == 0 || s.Producers == producers) && (s.Rate == 0 || s.Rate == rate)
}

// selector names what the side selects, for errors and reports.
func (s *Side) selector() string {
	var f []string
	add := func(k, v string) {
		if v != "" {
			f = append(f, k+"="+v)
		}
	}
	add("transport", s.Transport)
	add("link", s.Link)
	if s.Size != nil {
		add("size", record.SizeLabel(int(*s.Size)))
	}
	add("mode", s.Mode)
	if s.Impl != record.ImplGo {
		add("impl", s.Impl)
	}
	if s.Producers > 0 {
		add("producers", fmt.Sprint(s.Producers))
	}
	if s.Rate > 0 {
		add("rate", fmt.Sprint(s.Rate))
	}
	return strings.Join(f, " ")
}

// Describe is the side as the report prints it: "pipe 64 B latency p50 x 0.1".
func (s *Side) Describe() string {
	if s.Value != nil {
		return fmt.Sprintf("%g", *s.Value)
	}
	var ms []string
	for _, m := range s.metrics {
		ms = append(ms, m.name)
	}
	d := s.selector() + ": " + strings.Join(ms, " + ")
	if s.Times != 1 {
		d += fmt.Sprintf(" × %g", s.Times)
	}
	return d
}

// Status is an expectation's outcome.
type Status string

const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Skipped Status = "skipped"
)

// Outcome is one expectation evaluated on a run's records.
type Outcome struct {
	ID     string `json:"id"`
	Text   Text   `json:"text"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"` // why it failed or was skipped
	Why    Text   `json:"why,omitempty"`    // the guide's explanation of a failure
	// Left and Right are the figures compared (Right with its factor),
	// medians over runs, or of the runs' values with PerRun.
	Left      float64     `json:"left"`
	Right     float64     `json:"right"`
	LeftDesc  string      `json:"left_desc"`
	RightDesc string      `json:"right_desc"`
	Op        string      `json:"op"`
	Unit      string      `json:"unit"`
	PerRun    []RunFigure `json:"per_run,omitempty"`
}

// RunFigure is one run's pair of figures under PerRun.
type RunFigure struct {
	Run   int     `json:"run"`
	Left  float64 `json:"left"`
	Right float64 `json:"right"`
	Holds bool    `json:"holds"`
}

// Evaluate checks every expectation of e against recs, measured in env.
func (e *Experiment) Evaluate(recs []record.Record, env *record.Env) []Outcome {
	out := make([]Outcome, 0, len(e.Expect))
	for i := range e.Expect {
		out = append(out, e.Expect[i].evaluate(recs, env))
	}
	return out
}

func (x *Expectation) evaluate(recs []record.Record, env *record.Env) Outcome {
	o := Outcome{ID: x.ID, Text: x.Text, Op: x.Op, Why: x.Why, LeftDesc: x.Left.Describe(), RightDesc: x.Right.Describe()}
	for _, sd := range []*Side{&x.Right, &x.Left} {
		if len(sd.metrics) > 0 {
			o.Unit = sd.metrics[0].unit
		}
	}
	skip := func(format string, a ...any) Outcome {
		o.Status, o.Reason = Skipped, fmt.Sprintf(format, a...)
		return o
	}
	fail := func(format string, a ...any) Outcome {
		o.Status, o.Reason = Fail, fmt.Sprintf(format, a...)
		return o
	}
	if x.MinCPUs > 0 && (env == nil || env.NumCPU < x.MinCPUs) {
		n := 0
		if env != nil {
			n = env.NumCPU
		}
		return skip("needs %d CPUs; this machine has %d", x.MinCPUs, n)
	}
	left, lerr := x.Left.values(recs)
	right, rerr := x.Right.values(recs)
	// A constant side has the other side's runs.
	if x.Left.Value != nil {
		left = constant(*x.Left.Value*x.Left.Times, right)
	}
	if x.Right.Value != nil {
		right = constant(*x.Right.Value*x.Right.Times, left)
	}
	for _, err := range []error{lerr, rerr} {
		var se skippedError
		if errors.As(err, &se) {
			return skip("%v", err)
		}
	}
	if lerr != nil || rerr != nil {
		return fail("%v", errors.Join(lerr, rerr))
	}
	if x.At != "" {
		for _, r := range recs {
			if x.Left.matchesRecord(&r) && r.Placement != x.At {
				return skip("holds at placement %s; this run was at %s", x.At, r.Placement)
			}
		}
	}
	if x.PerRun {
		o.Status = Pass
		runs := keys(left, right)
		for _, run := range runs {
			l, lok := left[run]
			r, rok := right[run]
			if !lok || !rok {
				return fail("run %d has no record of the %s side", run, map[bool]string{true: "right", false: "left"}[lok])
			}
			h := x.op.holds(l, r)
			o.PerRun = append(o.PerRun, RunFigure{Run: run, Left: l, Right: r, Holds: h})
			if !h {
				o.Status = Fail
				o.Reason = fmt.Sprintf("run %d: %s %s %s does not hold", run, fmtValue(l, o.Unit), x.Op, fmtValue(r, o.Unit))
			}
		}
		o.Left, o.Right = median(mapValues(left)), median(mapValues(right))
		return o
	}
	o.Left, o.Right = median(mapValues(left)), median(mapValues(right))
	if x.op.holds(o.Left, o.Right) {
		o.Status = Pass
		return o
	}
	return fail("%s %s %s does not hold", fmtValue(o.Left, o.Unit), x.Op, fmtValue(o.Right, o.Unit))
}

// skippedError: the side's case was skipped by the harness (a limit).
type skippedError struct{ reason string }

func (e skippedError) Error() string { return e.reason }

func constant(v float64, runs map[int]float64) map[int]float64 {
	out := map[int]float64{}
	for r := range runs {
		out[r] = v
	}
	return out
}

// values is the side's figure in each run that has its case.
func (s *Side) values(recs []record.Record) (map[int]float64, error) {
	if s.Value != nil {
		return nil, nil
	}
	out := map[int]float64{}
	var skipped string
	for i := range recs {
		r := &recs[i]
		if !s.matchesRecord(r) {
			continue
		}
		if r.Skipped != "" {
			skipped = r.Skipped
			continue
		}
		sum := 0.0
		for _, m := range s.metrics {
			v, err := m.of(r)
			if err != nil {
				return nil, fmt.Errorf("%s, run %d: %w", s.selector(), r.Run, err)
			}
			sum += v
		}
		out[r.Run] = sum * s.Times
	}
	if len(out) == 0 {
		if skipped != "" {
			return nil, skippedError{fmt.Sprintf("%s was not measured: %s", s.selector(), skipped)}
		}
		return nil, fmt.Errorf("no record of %s (the case failed or the run stopped before it)", s.selector())
	}
	return out, nil
}

func keys(a, b map[int]float64) []int {
	var ks []int
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	sort.Ints(ks)
	return ks
}

func mapValues(m map[int]float64) []float64 {
	var v []float64
	for _, x := range m {
		v = append(v, x)
	}
	return v
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// fmtValue prints a figure in its unit: ns as ns/µs/ms, rates and counts
// as numbers.
func fmtValue(v float64, unit string) string {
	switch unit {
	case "ns":
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2f ms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.2f µs", v/1e3)
		}
		return fmt.Sprintf("%.0f ns", v)
	case "msgs/s":
		return fmt.Sprintf("%.0f msgs/s", v)
	case "MB/s":
		return fmt.Sprintf("%.1f MB/s", v)
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.3g", v)
}

// FormatValue prints a figure of an Outcome in its unit.
func FormatValue(v float64, unit string) string { return fmtValue(v, unit) }
