package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ipclab/ipclab/floor"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/report"
)

// ReportBase is the base name of the report in a run directory:
// report.md and report.html.
const ReportBase = "report"

// MaxFigureBytes bounds a plot's SVG file read into the report. The
// figures ipclab draws are tens of kilobytes; a file near this bound is
// not one of them, and the page would carry it whole.
const MaxFigureBytes = 8 << 20

// words are the report's fixed texts in each language.
var words = map[string]map[string]string{
	"es": {
		"report": "Informe de laboratorio", "seeds": "Material del curso", "experiment": "Experimento", "env": "Entorno",
		"item": "Dato", "value": "Valor", "results": "Resultados", "plots": "Gráficas", "expect": "Expectativas",
		"id": "id", "expectation": "expectativa", "status": "resultado", "figures": "cifras", "reason": "motivo",
		"run": "ejecución", "failures": "Casos fallidos", "failed": "Casos que fallaron (los demás están registrados)",
		"noanswer": "(sin respuesta)", "look": "Qué mirar", "integrity": "Integridad",
		"digest": "Resumen SHA-256 de los registros", "ok": "La comprobación no encuentra problemas.",
		"problems": "Problemas que encuentra la comprobación", "pass": "cumple", "fail": "no cumple", "skipped": "omitida",
		"kernel": "Núcleo", "cpu": "CPU", "go": "Go", "commit": "Commit de ipclab", "placement": "Ubicación", "runs": "Ejecuciones",
		"count": "Mensajes por caso de latencia", "floor": "Suelo de la máquina (p50 de ida y vuelta)", "when": "Fecha",
		"nosvg": "Gráficas que este informe no puede mostrar (ipclab plot DIRECTORIO las vuelve a dibujar)",
	},
	"en": {
		"report": "Lab report", "seeds": "Course material", "experiment": "Experiment", "env": "Environment",
		"item": "Item", "value": "Value", "results": "Results", "plots": "Plots", "expect": "Expectations",
		"id": "id", "expectation": "expectation", "status": "outcome", "figures": "figures", "reason": "reason",
		"run": "run", "failures": "Failed cases", "failed": "Cases that failed (the others are recorded)",
		"noanswer": "(no answer)", "look": "What to look for", "integrity": "Integrity",
		"digest": "SHA-256 digest of the records", "ok": "The check finds no problem.",
		"problems": "Problems the check finds", "pass": "pass", "fail": "fail", "skipped": "skipped",
		"kernel": "Kernel", "cpu": "CPU", "go": "Go", "commit": "ipclab commit", "placement": "Placement", "runs": "Runs",
		"count": "Messages per latency case", "floor": "Machine floor (round-trip p50)", "when": "Date",
		"nosvg": "Plots this report cannot show (ipclab plot DIR draws them again)",
	},
}

// Doc is the report as a document of package report, in r.Lang: the
// experiment, the environment and the machine's floor, the summary, every
// plot, each expectation's outcome with its figures, the failed cases,
// the student's answers and what lab check finds. Every string in it is
// text, never markup: an answer or a record holding HTML shows as typed.
func (r *Report) Doc() *report.Doc {
	t := words[r.Lang]
	e, m := r.Experiment, r.Manifest
	d := &report.Doc{Title: t["report"] + ": " + e.Title.In(r.Lang), Subtitle: e.Name, Lang: r.Lang}
	if e.Seeds != "" {
		d.Subtitle += " · " + t["seeds"] + ": " + e.Seeds
	}
	add := func(heading string, blocks ...report.Block) {
		d.Sections = append(d.Sections, report.Section{Heading: heading, Blocks: blocks})
	}
	if s := strings.TrimSpace(e.About.In(r.Lang)); s != "" {
		add(t["experiment"], report.Paragraph{Text: s})
	}

	env := m.Env
	spec, _ := e.Spec(m.Overrides) // it ran with these: Check parsed the file
	envTable := report.Table{Header: []string{t["item"], t["value"]}}
	for _, row := range [][]string{
		{t["when"], m.Started.UTC().Format("2006-01-02 15:04 UTC")},
		{t["kernel"], env.Kernel},
		{t["cpu"], fmt.Sprintf("%s (%d CPUs)", env.CPUModel, env.NumCPU)},
		{t["go"], env.GoVersion},
		{t["commit"], m.Commit},
		{t["placement"], string(spec.Placement)},
		{t["runs"], fmt.Sprint(spec.Runs)},
		{t["count"], fmt.Sprint(spec.Count)},
		{t["floor"], floorLine(&env)},
	} {
		envTable.Rows = append(envTable.Rows, row)
	}
	add(t["env"], envTable)

	results := []report.Block{report.Pre{Text: strings.Trim(r.Summary, "\n")}}
	if s := strings.TrimSpace(e.Look.In(r.Lang)); s != "" {
		results = append(results, report.Paragraph{Text: t["look"] + ": " + s})
	}
	add(t["results"], results...)

	if len(r.Plots) > 0 {
		var blocks []report.Block
		var broken []string
		for _, p := range r.Plots {
			if p.Err != nil {
				broken = append(broken, p.Err.Error())
				continue
			}
			blocks = append(blocks, report.Figure{Title: p.Name, SVG: p.SVG, File: p.Name + ".png"})
		}
		if len(broken) > 0 {
			blocks = append(blocks, report.Warning{Title: t["nosvg"], Items: broken})
		}
		add(t["plots"], blocks...)
	}

	if len(r.Outcomes) > 0 {
		tab := report.Table{Header: []string{t["id"], t["expectation"], t["status"], t["figures"], t["reason"]}}
		for _, o := range r.Outcomes {
			figures := ""
			if o.Status != Skipped {
				figures = fmt.Sprintf("%s %s %s", fmtValue(o.Left, o.Unit), o.Op, fmtValue(o.Right, o.Unit))
				for _, pr := range o.PerRun {
					figures += fmt.Sprintf("; %s %d: %s %s %s", t["run"], pr.Run, fmtValue(pr.Left, o.Unit), o.Op, fmtValue(pr.Right, o.Unit))
				}
			}
			reason := o.Reason
			if o.Status == Fail && o.Why.In(r.Lang) != "" {
				reason += " — " + o.Why.In(r.Lang)
			}
			tab.Rows = append(tab.Rows, []string{o.ID, o.Text.In(r.Lang), t[string(o.Status)], figures, reason})
		}
		add(t["expect"], tab)
	}

	if len(r.Failures) > 0 {
		var items []string
		for _, f := range r.Failures {
			items = append(items, f.Case+": "+f.Error)
		}
		add(t["failures"], report.Warning{Title: t["failed"], Items: items})
	}

	for _, a := range r.Answers {
		blocks := answerBlocks(a.Text)
		if len(blocks) == 0 {
			blocks = []report.Block{report.Paragraph{Text: t["noanswer"]}}
		}
		add(a.Question.ID+". "+a.Question.Text.In(r.Lang), blocks...)
	}

	integrity := []report.Block{report.Paragraph{Text: t["digest"] + ": " + m.Digest}}
	if len(r.Problems) == 0 {
		integrity = append(integrity, report.Paragraph{Text: t["ok"]})
	} else {
		var items []string
		for _, p := range r.Problems {
			items = append(items, p.Kind+": "+p.Detail)
		}
		integrity = append(integrity, report.Warning{Title: t["problems"], Items: items})
	}
	add(t["integrity"], integrity...)
	return d
}

// Write writes the report in its run directory as report.md and a
// self-contained report.html, and returns their paths (HTML first).
func (r *Report) Write() ([]string, error) {
	return r.Doc().WriteFiles(r.Dir, ReportBase)
}

// answerBlocks is a student's answer as blocks: paragraphs (split at
// blank lines), bulleted or numbered lists, and fenced code shown as is.
// The answer is Markdown, but a Doc holds text, never markup: this keeps
// the answer's shape while its markup shows as typed.
func answerBlocks(text string) []report.Block {
	var out []report.Block
	var para, code []string
	fence := "" // the open fence's characters, "" outside code
	flush := func() {
		if len(para) == 0 {
			return
		}
		if items, ok := listItems(para); ok {
			out = append(out, report.List{Items: items})
		} else {
			out = append(out, report.Paragraph{Text: strings.Join(para, " ")})
		}
		para = nil
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
				out = append(out, report.Pre{Text: strings.Join(code, "\n")})
				code, fence = nil, ""
			} else {
				code = append(code, line)
			}
			continue
		}
		switch {
		case strings.HasPrefix(trimmed, "```"), strings.HasPrefix(trimmed, "~~~"):
			flush()
			fence = trimmed[:3]
		case trimmed == "":
			flush()
		default:
			para = append(para, trimmed)
		}
	}
	if fence != "" { // a fence left open: the code is still the answer
		out = append(out, report.Pre{Text: strings.Join(code, "\n")})
	}
	flush()
	return out
}

// listItems reads lines as a list when the first starts one ("- ", "* ",
// "+ ", "1. ", "1) "); a line that starts none continues the item before
// it. A numbered item keeps its number: the list is drawn with bullets.
func listItems(lines []string) ([]string, bool) {
	var items []string
	for _, l := range lines {
		if item, ok := listItem(l); ok {
			items = append(items, item)
		} else if len(items) > 0 {
			items[len(items)-1] += " " + l
		} else {
			return nil, false
		}
	}
	return items, true
}

func listItem(l string) (string, bool) {
	for _, m := range []string{"- ", "* ", "+ "} {
		if s, ok := strings.CutPrefix(l, m); ok {
			return strings.TrimSpace(s), true
		}
	}
	digits := len(l) - len(strings.TrimLeft(l, "0123456789"))
	if digits > 0 && digits <= 3 && len(l) > digits+1 && (l[digits] == '.' || l[digits] == ')') && l[digits+1] == ' ' {
		return l, true
	}
	return "", false
}

// readFigure reads a plot's SVG file from the run directory, which is
// the student's to edit: it must be a regular file of at most
// MaxFigureBytes holding an SVG document, as the report wants a figure.
func readFigure(path string) ([]byte, error) {
	name := filepath.Base(path)
	// O_NONBLOCK: a FIFO named like a figure fails the check below
	// instead of blocking the open until a writer comes.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", name, st.Mode().Type())
	}
	tooBig := fmt.Errorf("%s: more than the %d MiB a figure of the report may have (lab.MaxFigureBytes); ipclab's own are tens of KiB", name, MaxFigureBytes>>20)
	if st.Size() > MaxFigureBytes {
		return nil, tooBig
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFigureBytes+1)) // it may grow meanwhile
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > MaxFigureBytes {
		return nil, tooBig
	}
	// The report's own rule, so a figure accepted here never fails the
	// whole document at Validate.
	probe := report.Doc{Title: name, Sections: []report.Section{{Heading: name, Blocks: []report.Block{report.Figure{Title: name, SVG: b}}}}}
	if probe.Validate() != nil {
		return nil, fmt.Errorf("%s: not an SVG document", name)
	}
	return b, nil
}

// unwrapPath drops the path from an *os.PathError: the caller names the
// file itself, without the run directory's path.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
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
