package lab

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/browsercheck"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/plot"
	"github.com/ipclab/ipclab/report"
)

// writeReport writes r as report.html and report.md through package
// report, checks the document validates and both files are where the
// student looks for them, and returns their contents (Markdown, HTML).
func writeReport(t *testing.T, r *Report) (md, page string) {
	t.Helper()
	if err := r.Doc().Validate(); err != nil {
		t.Fatalf("the report does not validate: %v", err)
	}
	paths, err := r.Write()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(r.Dir, "report.html"), filepath.Join(r.Dir, "report.md")}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Fatalf("report written as %q, want %q", paths, want)
	}
	h, err := os.ReadFile(want[0])
	if err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(want[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(m), string(h)
}

// withQuestions is the synthetic experiment with questions to answer,
// texts in both languages, and what to look for.
var withQuestions = strings.Replace(synthetic, "[run]", `title = { es = "Sintético", en = "Synthetic" }
about = { es = "Un experimento de prueba.", en = "A test experiment." }
look = { es = "Las medianas.", en = "The medians." }
[run]`, 1) + `
[[questions]]
id = "q1"
text = { es = "¿Por qué?", en = "Why?" }

[[questions]]
id = "q2"
text = { es = "¿Cuánto?", en = "How much?" }

[[questions]]
id = "q3"
text = { es = "¿Y esto?", en = "And this?" }
`

// hostile is what a student (or anyone who wrote the answers file) could
// put in an answer: markup that must show as text, never run or format.
const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)> **bold** | [link](javascript:alert(3))`

// answersFile is an answer of each shape: paragraphs with hostile
// markup, a list, fenced code; q3 is left unanswered.
const answersFile = "Name: Ana\n## q1\nFirst line\nsame paragraph. " + hostile + "\n\nSecond paragraph.\n\n" +
	"## q2\n- one item\n- two items\n  continued\n\n```\n$ ipclab lab check DIR\nok: intact\n```\n"

// synthRunWithPlots writes a synthetic run with questions, its plots
// (as lab run draws them: PNG and SVG) and the student's answers file.
func synthRunWithPlots(t *testing.T) (dir, answers string) {
	t.Helper()
	env := testEnv(t, 2)
	recs := syntheticRecords(t, env, []float64{500, 500, 500}, 2) // run 2 does not balance: a failed expectation
	dir, _ = writeRun(t, withQuestions, recs, env)
	files, err := plot.All(recs, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("plots %v: want at least one figure", files)
	}
	answers = filepath.Join(t.TempDir(), "answers.md")
	if err := os.WriteFile(answers, []byte(answersFile), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, answers
}

func pngCount(t *testing.T, dir string) int {
	t.Helper()
	pngs, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	return len(pngs)
}

// TestReportDoc: the report is one document written twice. The HTML
// holds every plot's SVG inline and the Markdown links its PNG; both
// carry each expectation's verdict, the answers in their shape
// (paragraphs, list, code) with their markup shown as text, and the
// unanswered question marked; writing it changes nothing lab check
// covers.
func TestReportDoc(t *testing.T) {
	dir, answers := synthRunWithPlots(t)
	r, err := BuildReport(dir, "en", answers)
	if err != nil {
		t.Fatal(err)
	}
	nplots := pngCount(t, dir)
	if len(r.Plots) != nplots {
		t.Fatalf("%d plots in the report, %d PNG files", len(r.Plots), nplots)
	}
	for _, p := range r.Plots {
		if p.Err != nil {
			t.Errorf("plot %s: %v", p.Name, p.Err)
		}
	}
	md, page := writeReport(t, r)

	if n := strings.Count(page, `<img src="data:image/svg&#43;xml;base64,`); n != nplots {
		t.Errorf("report.html holds %d figures inline, want the %d plots", n, nplots)
	}
	for _, p := range r.Plots {
		if !strings.Contains(md, "]("+p.Name+".png)") {
			t.Errorf("report.md does not link %s.png", p.Name)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "<img src=x") || strings.Contains(page, `href="javascript`) {
		t.Error("an answer's markup reached report.html as markup")
	}
	verdicts := map[Status]string{Pass: "pass", Fail: "fail", Skipped: "skipped"}
	seen := map[Status]bool{}
	for _, o := range r.Outcomes {
		i := strings.Index(page, "<tr><td>"+o.ID+"</td>")
		if i < 0 {
			t.Errorf("report.html has no row for %s", o.ID)
			continue
		}
		end := strings.Index(page[i:], "</tr>")
		if !strings.Contains(page[i:i+end], "<td>"+verdicts[o.Status]+"</td>") {
			t.Errorf("report.html row of %s lacks its verdict %q: %s", o.ID, verdicts[o.Status], page[i:i+end])
		}
		if !strings.Contains(md, "| "+o.ID+" |") || !strings.Contains(md, "| "+verdicts[o.Status]+" |") {
			t.Errorf("report.md lacks %s or its verdict %s", o.ID, verdicts[o.Status])
		}
		seen[o.Status] = true
	}
	if !seen[Pass] || !seen[Fail] || !seen[Skipped] {
		t.Errorf("the synthetic run should show every verdict, it shows %v", seen)
	}
	for _, want := range []string{
		"<h2>q1. Why?</h2>", "<p>First line same paragraph. " + html.EscapeString(hostile) + "</p>", "<p>Second paragraph.</p>",
		"<h2>q2. How much?</h2>", "<li>one item</li>", "<li>two items continued</li>", "<pre>$ ipclab lab check DIR\nok: intact</pre>",
		"<h2>q3. And this?</h2>\n<p>(no answer)</p>", "A test experiment.", "What to look for: The medians.", "run 2:",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, want := range []string{"## q1. Why?", "&lt;script&gt;alert(1)&lt;/script&gt;", "- one item", "```\n$ ipclab lab check DIR\nok: intact\n```", "## q3. And this?\n\n(no answer)"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if strings.Contains(md, "Name: Ana") || strings.Contains(page, "Name: Ana") {
		t.Error("text before the first question's heading reached the report")
	}
	if c, err := Check(dir); err != nil || !c.OK() {
		t.Fatalf("after the report: %v %+v", err, c.Problems)
	}
}

// TestReportInBrowser: the lab's report.html, with real figures and
// hostile answers, in headless Chromium through the checker the run
// report uses: no console error, every plot drawn with a size, every
// table with rows, the answers and verdicts shown as text.
func TestReportInBrowser(t *testing.T) {
	dir, answers := synthRunWithPlots(t)
	r, err := BuildReport(dir, "es", answers)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := r.Write()
	if err != nil {
		t.Fatal(err)
	}
	got := browsercheck.Check(t, paths[0])
	for _, p := range got.Problems {
		t.Error(p)
	}
	if n := pngCount(t, dir); got.Images != n {
		t.Errorf("%d images drawn, want the %d plots", got.Images, n)
	}
	if got.Tables != 2 { // environment, expectations
		t.Errorf("%d tables, want 2", got.Tables)
	}
	for _, want := range []string{"Informe de laboratorio: Sintético", hostile, "Second paragraph.", "ipclab lab check DIR", "(sin respuesta)",
		"cumple", "no cumple", "omitida", r.Manifest.Digest} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
}

// TestReportFigureProblems: a run directory is the student's to edit, so
// each plot's SVG is untrusted. A missing one, one that is not SVG, a
// FIFO named like one (which must not block the report) and one above
// MaxFigureBytes each leave their plot out with the reason in a warning,
// and the rest of the report is written.
func TestReportFigureProblems(t *testing.T) {
	testmain.Watchdog(t, time.Minute) // a FIFO opened for reading would block
	dir, _ := synthRunWithPlots(t)
	svgs, _ := filepath.Glob(filepath.Join(dir, "*.svg"))
	if len(svgs) < 3 {
		t.Fatalf("%d figures drawn from the synthetic records, this test spoils 3", len(svgs))
	}
	// A plot whose SVG is missing: a PNG alone.
	png, _ := os.ReadFile(strings.TrimSuffix(svgs[0], ".svg") + ".png")
	alone := filepath.Join(dir, "alone.svg")
	os.WriteFile(strings.TrimSuffix(alone, ".svg")+".png", png, 0o644)
	svgs = append(svgs[:3], alone)
	os.WriteFile(svgs[0], []byte("<html><script>alert(1)</script></html>"), 0o644)
	os.Remove(svgs[1])
	if err := syscall.Mkfifo(svgs[1], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(svgs[2], MaxFigureBytes+1); err != nil { // sparse: no 8 MiB written
		t.Fatal(err)
	}
	r, err := BuildReport(dir, "en", "")
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{
		svgs[0]: "not an SVG document", svgs[1]: "not a regular file", svgs[2]: "lab.MaxFigureBytes", svgs[3]: "no such file",
	}
	bad := 0
	for _, p := range r.Plots {
		if p.Err == nil {
			continue
		}
		bad++
		want, ok := reasons[filepath.Join(dir, p.Name+".svg")]
		if !ok || !strings.Contains(p.Err.Error(), p.Name+".svg") || !strings.Contains(p.Err.Error(), want) {
			t.Errorf("plot %s: %v; want its file named and %q", p.Name, p.Err, want)
		}
	}
	if bad != 4 {
		t.Errorf("%d plots refused, want the 4 spoiled", bad)
	}
	_, page := writeReport(t, r)
	if n := strings.Count(page, `<img src="data:image/svg&#43;xml;base64,`); n != len(r.Plots)-4 {
		t.Errorf("%d figures inline, want the %d sound ones", n, len(r.Plots)-4)
	}
	if !strings.Contains(page, "Plots this report cannot show") || !strings.Contains(page, "not a regular file") {
		t.Error("report.html does not say which plots it could not show and why")
	}
}

// TestAnswerBlocks: an answer keeps its shape as blocks of text.
func TestAnswerBlocks(t *testing.T) {
	got := answerBlocks("a\nb\n\n1. first\n2) second\n\n~~~\n  x := 1\n~~~~\n- open\n\n```\nunclosed\n")
	want := []report.Block{
		report.Paragraph{Text: "a b"},
		report.List{Items: []string{"1. first", "2) second"}},
		report.Pre{Text: "  x := 1"},
		report.List{Items: []string{"open"}},
		report.Pre{Text: "unclosed\n"},
	}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if got := answerBlocks(" \n\n"); len(got) != 0 {
		t.Errorf("a blank answer: %#v", got)
	}
	if got := answerBlocks("12345. not a list\n-no space"); fmt.Sprint(got) != fmt.Sprint([]report.Block{report.Paragraph{Text: "12345. not a list -no space"}}) {
		t.Errorf("not lists: %#v", got)
	}
}
