// Package lab is the course's laboratory: experiments handed out as
// files (TOML), run through the bench harness, relational expectations
// checked on the student's own records, the report a student hands in and
// the instructor's check of a run directory.
//
// An experiment file is parsed once, at Load, into typed values: the run
// becomes a bench.Spec and every expectation names exactly one case of it
// and a metric that case has, or Load fails naming the line's key.
//
// TOML, through github.com/BurntSushi/toml: a course file is a handful of
// flat tables that a student edits by hand, and TOML has no implicit
// typing (YAML reads 0600 as octal and NO as false), allows comments, and
// the decoder reports every key it did not use, so a typo (sise = ...) is
// an error rather than a silently ignored setting.
package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/floor"
	"github.com/ipclab/ipclab/link"
)

// Experiment is one experiment file, parsed and checked.
type Experiment struct {
	Name  string `toml:"name"`
	Title Text   `toml:"title"`
	// Seeds names the sections of the course material the experiment
	// illustrates ("000 §1.3", "001 Paso de mensajes").
	Seeds string `toml:"seeds"`
	About Text   `toml:"about"`
	// Look says what to look for in the plots and tables.
	Look      Text          `toml:"look"`
	Run       RunSpec       `toml:"run"`
	Questions []Question    `toml:"questions"`
	Expect    []Expectation `toml:"expect"`

	// Source is the file as it was read: a run directory keeps a copy,
	// and its digest covers it.
	Source []byte `toml:"-"`
	spec   bench.Spec
}

// Text is a text in the course's two languages.
type Text struct {
	ES string `toml:"es" json:"es,omitempty"`
	EN string `toml:"en" json:"en,omitempty"`
}

// In returns the text in lang ("es" or "en"), or the other one if that
// one is empty.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" || t.ES == "" {
		return t.EN
	}
	return t.ES
}

// Question is one question the student answers in the report.
type Question struct {
	ID   string `toml:"id"`
	Text Text   `toml:"text"`
}

// RunSpec is the [run] table: what bench measures. Sizes and Bytes take
// 64, "64", "4K", "1M"; durations Go's form ("30s").
type RunSpec struct {
	Transports  []string  `toml:"transports"`
	Links       []string  `toml:"links"`
	Sizes       []Size    `toml:"sizes"`
	Modes       []string  `toml:"modes"`
	Placement   string    `toml:"placement"`
	Runs        int       `toml:"runs"`
	Count       int       `toml:"count"`
	Bytes       Size      `toml:"bytes"`
	Producers   []int     `toml:"producers"`
	Rates       []float64 `toml:"rates"`
	CaseTimeout string    `toml:"case_timeout"`
	// FloorTime is how long the machine's floor is measured first when a
	// shared-memory transport is in the run ("0s" skips it; default 1s).
	FloorTime string `toml:"floor_time"`
}

// Size is a byte count written as a number or a string with a K or M
// suffix (binary: 4K = 4096).
type Size int

// UnmarshalTOML takes 64 or "64", "4K", "1M".
func (z *Size) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		if v < 0 || v > 1<<30 {
			return fmt.Errorf("size %d: want 0 to 1G", v)
		}
		*z = Size(v)
		return nil
	case string:
		n, err := ParseSize(v)
		*z = Size(n)
		return err
	}
	return fmt.Errorf("size %v: want a number of bytes or a string such as \"4K\"", v)
}

// ParseSize reads 64, 64B, 4K, 4KiB, 1M (binary multiples).
func ParseSize(s string) (int, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "IB"), "B")
	mul := 1
	switch {
	case strings.HasSuffix(t, "K"):
		mul, t = 1<<10, strings.TrimSuffix(t, "K")
	case strings.HasSuffix(t, "M"):
		mul, t = 1<<20, strings.TrimSuffix(t, "M")
	case strings.HasSuffix(t, "G"):
		mul, t = 1<<30, strings.TrimSuffix(t, "G")
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > (1<<30)/mul {
		return 0, fmt.Errorf("size %q: want a number of bytes, 0 to 1G, such as 64, 4K or 1M", s)
	}
	return n * mul, nil
}

// Overrides change what a run measures without editing the file: how
// many times and how long, never which cases (expectations name those).
type Overrides struct {
	Runs      int
	Count     int
	Bytes     int
	Placement string
}

// Load reads and checks an experiment: a file path, or the name of one
// of the ready experiments (Names).
func Load(nameOrPath string) (*Experiment, error) {
	if b, err := readBuiltin(nameOrPath); err == nil {
		return Parse(b, nameOrPath)
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(nameOrPath, "/.") {
			return nil, fmt.Errorf("no experiment %q: the ready ones are %s, or give a file path", nameOrPath, strings.Join(Names(), ", "))
		}
		return nil, err
	}
	return Parse(b, filepath.Base(nameOrPath))
}

// Parse checks an experiment file's contents; origin names it in errors.
func Parse(src []byte, origin string) (*Experiment, error) {
	var e Experiment
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&e)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%s: unknown key(s) %s (see docs/lab for the file's keys)", origin, strings.Join(keys, ", "))
	}
	e.Source = src
	if err := e.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	return &e, nil
}

// check builds the spec and checks every part against it.
func (e *Experiment) check() error {
	if e.Name == "" || strings.ContainsAny(e.Name, "/ \t") {
		return errors.New("name: want a short name without spaces or slashes")
	}
	spec, err := e.Run.spec()
	if err != nil {
		return fmt.Errorf("[run]: %w", err)
	}
	e.spec = spec
	seen := map[string]bool{}
	for i, q := range e.Questions {
		if q.ID == "" || seen[q.ID] || q.Text.ES == "" && q.Text.EN == "" {
			return fmt.Errorf("questions[%d]: want a new id and a text", i)
		}
		seen[q.ID] = true
	}
	seen = map[string]bool{}
	for i := range e.Expect {
		x := &e.Expect[i]
		if x.ID == "" || seen[x.ID] {
			return fmt.Errorf("expect[%d]: want a new id", i)
		}
		seen[x.ID] = true
		if err := x.check(spec); err != nil {
			return fmt.Errorf("expect %q: %w", x.ID, err)
		}
	}
	return nil
}

// Spec is what bench measures for this experiment, with o applied.
func (e *Experiment) Spec(o Overrides) (bench.Spec, error) {
	s := e.spec
	if o.Runs > 0 {
		s.Runs = o.Runs
	}
	if o.Count > 0 {
		s.Count = o.Count
	}
	if o.Bytes > 0 {
		s.Bytes = o.Bytes
	}
	if o.Placement != "" {
		p, err := bench.ParsePlacement(o.Placement)
		if err != nil {
			return s, err
		}
		s.Placement = p
	}
	return s, s.Validate()
}

// FloorTime is how long to measure the machine's floor before the run.
func (e *Experiment) FloorTime() time.Duration {
	d, _ := time.ParseDuration(e.Run.FloorTime) // checked in spec
	if e.Run.FloorTime == "" {
		return time.Second
	}
	return d
}

func (r RunSpec) spec() (bench.Spec, error) {
	if len(r.Transports) == 0 || len(r.Modes) == 0 || len(r.Sizes) == 0 {
		return bench.Spec{}, errors.New("transports, modes and sizes are required")
	}
	if r.Runs < 1 || r.Count < 1 {
		return bench.Spec{}, errors.New("runs and count are required, 1 or more")
	}
	s := bench.Spec{Transports: r.Transports, Modes: r.Modes, Runs: r.Runs, Count: r.Count,
		Bytes: int(r.Bytes), Producers: r.Producers, Rates: r.Rates, CaseTimeout: time.Minute}
	for _, z := range r.Sizes {
		s.Sizes = append(s.Sizes, int(z))
	}
	if len(r.Links) == 0 {
		r.Links = []string{link.Raw.String()}
	}
	for _, l := range r.Links {
		m, err := link.NewMode(l)
		if err != nil {
			return s, fmt.Errorf("links: %w", err)
		}
		s.Links = append(s.Links, m)
	}
	if r.Placement == "" {
		return s, errors.New("placement is required (split, same or none): results depend on it more than on anything else")
	}
	p, err := bench.ParsePlacement(r.Placement)
	if err != nil {
		return s, err
	}
	s.Placement = p
	if r.CaseTimeout != "" {
		if s.CaseTimeout, err = time.ParseDuration(r.CaseTimeout); err != nil || s.CaseTimeout <= 0 {
			return s, fmt.Errorf("case_timeout %q: want a positive duration such as 30s", r.CaseTimeout)
		}
	}
	if r.FloorTime != "" {
		if d, err := time.ParseDuration(r.FloorTime); err != nil || d < 0 || d > 0 && d < floor.MinBudget {
			return s, fmt.Errorf("floor_time %q: want 0s (none) or a duration of at least %v, such as 1s", r.FloorTime, floor.MinBudget)
		}
	}
	if slices.Contains(r.Modes, bench.Throughput) && r.Bytes == 0 {
		return s, errors.New("bytes is required with the throughput mode: the volume streamed per case")
	}
	return s, s.Validate()
}
