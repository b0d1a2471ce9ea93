package lab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipclab/ipclab/floor"
	"github.com/ipclab/ipclab/record"
)

// Report is the report a student hands in, as data: what to render is
// decided here, how to render it by a Renderer. Markdown is this
// package's; an HTML renderer (package report's) takes the same value.
type Report struct {
	Lang       string // "es" or "en"
	Dir        string
	Experiment *Experiment
	Manifest   *Manifest
	Summary    string   // the summary table, as ipclab bench prints it
	Plots      []string // PNG files in Dir, by name
	Outcomes   []Outcome
	Failures   []record.Failure
	Answers    []Answer
	Problems   []Problem // what lab check finds in the directory now
}

// Answer is a question and the student's answer ("" if none).
type Answer struct {
	Question Question
	Text     string
}

// Renderer writes a report in one format.
type Renderer interface {
	Render(w io.Writer, r *Report) error
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
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, p := range pngs {
		r.Plots = append(r.Plots, filepath.Base(p))
	}
	sort.Strings(r.Plots)
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

// Markdown renders a report as Markdown, with the plots as images beside
// it in the run directory.
type Markdown struct{}

var _ Renderer = Markdown{}

// words are the report's fixed texts in each language.
var words = map[string]map[string]string{
	"es": {
		"report": "Informe de laboratorio", "seeds": "Material del curso", "env": "Entorno", "results": "Resultados",
		"plots": "Gráficas", "expect": "Expectativas", "failures": "Casos fallidos", "questions": "Preguntas y respuestas",
		"integrity": "Integridad", "noanswer": "(sin respuesta)", "status": "resultado", "figures": "cifras",
		"reason": "motivo", "look": "Qué mirar", "digest": "Resumen SHA-256 de los registros", "ok": "la comprobación no encuentra problemas",
		"problems": "Problemas que encuentra la comprobación", "pass": "cumple", "fail": "no cumple", "skipped": "omitida",
		"kernel": "Núcleo", "cpu": "CPU", "go": "Go", "commit": "Commit de ipclab", "placement": "Ubicación", "runs": "Ejecuciones",
		"count": "Mensajes por caso de latencia", "floor": "Suelo de la máquina (p50 de ida y vuelta)", "when": "Fecha",
	},
	"en": {
		"report": "Lab report", "seeds": "Course material", "env": "Environment", "results": "Results",
		"plots": "Plots", "expect": "Expectations", "failures": "Failed cases", "questions": "Questions and answers",
		"integrity": "Integrity", "noanswer": "(no answer)", "status": "outcome", "figures": "figures",
		"reason": "reason", "look": "What to look for", "digest": "SHA-256 digest of the records", "ok": "the check finds no problem",
		"problems": "Problems the check finds", "pass": "pass", "fail": "fail", "skipped": "skipped",
		"kernel": "Kernel", "cpu": "CPU", "go": "Go", "commit": "ipclab commit", "placement": "Placement", "runs": "Runs",
		"count": "Messages per latency case", "floor": "Machine floor (round-trip p50)", "when": "Date",
	},
}

// Render writes r as Markdown.
func (Markdown) Render(w io.Writer, r *Report) error {
	t := words[r.Lang]
	e, m := r.Experiment, r.Manifest
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# %s: %s\n\n", t["report"], e.Title.In(r.Lang))
	p("`%s` · %s: %s\n\n", e.Name, t["seeds"], e.Seeds)
	if s := strings.TrimSpace(e.About.In(r.Lang)); s != "" {
		p("%s\n\n", s)
	}
	p("## %s\n\n", t["env"])
	p("| | |\n|---|---|\n")
	env := m.Env
	spec, _ := e.Spec(m.Overrides)
	for _, row := range [][2]string{
		{t["when"], m.Started.Format("2006-01-02 15:04 UTC")},
		{t["kernel"], env.Kernel},
		{t["cpu"], fmt.Sprintf("%s (%d CPUs)", env.CPUModel, env.NumCPU)},
		{t["go"], env.GoVersion},
		{t["commit"], m.Commit},
		{t["placement"], string(spec.Placement)},
		{t["runs"], fmt.Sprint(spec.Runs)},
		{t["count"], fmt.Sprint(spec.Count)},
		{t["floor"], floorLine(&env)},
	} {
		p("| %s | %s |\n", row[0], mdCell(row[1]))
	}
	p("\n## %s\n\n```\n%s```\n\n", t["results"], r.Summary)
	if s := strings.TrimSpace(e.Look.In(r.Lang)); s != "" {
		p("**%s:** %s\n\n", t["look"], s)
	}
	if len(r.Plots) > 0 {
		p("## %s\n\n", t["plots"])
		for _, f := range r.Plots {
			p("![%s](%s)\n\n", strings.TrimSuffix(f, ".png"), f)
		}
	}
	if len(r.Outcomes) > 0 {
		p("## %s\n\n| | %s | %s | %s |\n|---|---|---|---|\n", t["expect"], t["status"], t["figures"], t["reason"])
		for _, o := range r.Outcomes {
			figures := ""
			if o.Status != Skipped {
				figures = fmt.Sprintf("%s %s %s", fmtValue(o.Left, o.Unit), o.Op, fmtValue(o.Right, o.Unit))
				for _, pr := range o.PerRun {
					figures += fmt.Sprintf("<br>run %d: %s %s %s", pr.Run, fmtValue(pr.Left, o.Unit), o.Op, fmtValue(pr.Right, o.Unit))
				}
			}
			reason := o.Reason
			if o.Status == Fail && o.Why.In(r.Lang) != "" {
				reason += " — " + o.Why.In(r.Lang)
			}
			p("| **%s**<br>%s | %s | %s | %s |\n", o.ID, mdCell(o.Text.In(r.Lang)), t[string(o.Status)], figures, mdCell(reason))
		}
		p("\n")
	}
	if len(r.Failures) > 0 {
		p("## %s\n\n", t["failures"])
		for _, f := range r.Failures {
			p("- %s: %s\n", f.Case, f.Error)
		}
		p("\n")
	}
	if len(r.Answers) > 0 {
		p("## %s\n\n", t["questions"])
		for _, a := range r.Answers {
			p("### %s. %s\n\n", a.Question.ID, a.Question.Text.In(r.Lang))
			if strings.TrimSpace(a.Text) == "" {
				p("_%s_\n\n", t["noanswer"])
			} else {
				p("%s\n\n", a.Text)
			}
		}
	}
	p("## %s\n\n%s: `%s`\n\n", t["integrity"], t["digest"], m.Digest)
	if len(r.Problems) == 0 {
		p("%s.\n", t["ok"])
	} else {
		p("%s:\n\n", t["problems"])
		for _, pr := range r.Problems {
			p("- %s: %s\n", pr.Kind, pr.Detail)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes r as ReportFile in its run directory.
func (r *Report) WriteMarkdown() (string, error) {
	var b bytes.Buffer
	if err := (Markdown{}).Render(&b, r); err != nil {
		return "", err
	}
	path := filepath.Join(r.Dir, ReportFile)
	return path, os.WriteFile(path, b.Bytes(), 0o644)
}

// floorLine is the floor at the run's placement, or why it is missing.
func floorLine(env *record.Env) string {
	if len(env.Floor) == 0 {
		if env.FloorError != "" {
			return env.FloorError
		}
		return "—"
	}
	var f floor.Floor
	if json.Unmarshal(env.Floor, &f) != nil {
		return "?"
	}
	var parts []string
	for _, p := range f.Pairs {
		parts = append(parts, fmt.Sprintf("%s: cache line %s, futex %s, pipe %s", p.Placement,
			fmtValue(p.CacheLine.P50Ns, "ns"), fmtValue(p.Futex.P50Ns, "ns"), fmtValue(p.Pipe.P50Ns, "ns")))
	}
	return strings.Join(parts, "; ")
}

// mdCell keeps a text inside one table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(strings.TrimSpace(s))
}
