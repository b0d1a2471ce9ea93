package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipclab/ipclab/record"
)

// Report is the report a student hands in, as data read from a run
// directory; Doc makes it a document of package report, which writes it
// as report.md and as a self-contained report.html (Write).
type Report struct {
	Lang       string // "es" or "en"
	Dir        string
	Experiment *Experiment
	Manifest   *Manifest
	Summary    string // the summary table, as ipclab bench prints it
	Plots      []Plot // the run's plots, by name
	Outcomes   []Outcome
	Failures   []record.Failure
	Answers    []Answer
	Problems   []Problem // what lab check finds in the directory now
}

// Plot is one of the run's plots: Name.png and Name.svg, as plot.All
// writes them in the run directory. The HTML report holds the SVG, the
// Markdown links the PNG.
type Plot struct {
	Name string // "latency_vs_size"
	SVG  []byte // Name.svg; nil when Err says why it cannot be shown
	Err  error
}

// Answer is a question and the student's answer ("" if none).
type Answer struct {
	Question Question
	Text     string
}

// BuildReport reads a run directory into a Report, checking it as
// `ipclab lab check` does; answers is the student's answers file, ""
// for none.
func BuildReport(dir, lang, answers string) (*Report, error) {
	if lang != "es" && lang != "en" {
		return nil, fmt.Errorf("language %q: want es or en", lang)
	}
	c, err := Check(dir)
	if err != nil {
		return nil, err
	}
	if c.Experiment == nil {
		return nil, fmt.Errorf("%s: %s", dir, c.Problems[len(c.Problems)-1].Detail)
	}
	r := &Report{Lang: lang, Dir: dir, Experiment: c.Experiment, Manifest: c.Manifest, Outcomes: c.Outcomes,
		Failures: c.Failures, Problems: c.Problems}
	var sum strings.Builder
	record.WriteSummary(&sum, c.Records, c.Failures)
	r.Summary = sum.String()
	pngs, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil {
		return nil, err
	}
	sort.Strings(pngs)
	for _, p := range pngs {
		name := strings.TrimSuffix(filepath.Base(p), ".png")
		svg, err := readFigure(filepath.Join(dir, name+".svg"))
		r.Plots = append(r.Plots, Plot{Name: name, SVG: svg, Err: err})
	}
	texts := map[string]string{}
	if answers != "" {
		b, err := os.ReadFile(answers)
		if err != nil {
			return nil, err
		}
		if texts, err = ParseAnswers(b, c.Experiment); err != nil {
			return nil, fmt.Errorf("%s: %w", answers, err)
		}
	}
	for _, q := range c.Experiment.Questions {
		r.Answers = append(r.Answers, Answer{Question: q, Text: texts[q.ID]})
	}
	return r, nil
}

// ParseAnswers reads a student's answers: Markdown whose "## ID" headings
// (the questions' ids, q1, q2, ...) start each answer. Text before the
// first heading is ignored; an id the experiment does not have is an
// error, so a typo does not lose an answer.
func ParseAnswers(b []byte, e *Experiment) (map[string]string, error) {
	known := map[string]bool{}
	for _, q := range e.Questions {
		known[q.ID] = true
	}
	out := map[string]string{}
	var id string
	var text strings.Builder
	flush := func() {
		if id != "" {
			out[id] = strings.TrimSpace(text.String())
		}
		text.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if h, ok := strings.CutPrefix(line, "## "); ok {
			flush()
			f := strings.Fields(strings.NewReplacer(":", " ", ".", " ", ")", " ").Replace(h))
			if len(f) == 0 || !known[f[0]] {
				var ids []string
				for _, q := range e.Questions {
					ids = append(ids, q.ID)
				}
				return nil, fmt.Errorf("heading %q names no question of %s (its ids: %s)", line, e.Name, strings.Join(ids, ", "))
			}
			if _, dup := out[f[0]]; dup {
				return nil, fmt.Errorf("question %s answered twice", f[0])
			}
			id = f[0]
			continue
		}
		text.WriteString(line + "\n")
	}
	flush()
	return out, sc.Err()
}
