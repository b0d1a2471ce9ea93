package progress

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ipclab/ipclab/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Main(m) }

// fakeClock moves only when told: the tests assert what is drawn for a
// given elapsed time, never how long anything took.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

var escape = regexp.MustCompile("\033\\[[0-9;]*[A-Za-z]")

// screenLines is what a terminal shows line by line: every \r starts the
// line over, and escape sequences take no column.
func screenLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		for _, seg := range strings.Split(l, "\r") {
			lines = append(lines, escape.ReplaceAllString(seg, ""))
		}
	}
	return lines
}

const longName = "run 5 sysvshm-sysvsem cap-64-block 64 KiB fanin 8 producers with a name far too long for any terminal"

// At 80 columns no line the progress draws is wider than 79 (the last
// column is left alone, so the terminal never wraps), the ETA is there
// and follows the cases done so far, and a long case name is cut with
// "…" rather than spilling onto a new line.
func TestTerminalLineFits80Columns(t *testing.T) {
	var out strings.Builder
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	l := newLine(&out, Terminal{IsTerminal: true, Width: func() int { return 80 }}, clk.now, false)
	names := []string{"run 1 pipe raw 64 B latency go", longName, "run 1 fifo raw 8 B throughput c"}
	for i, n := range names {
		l.Start(i, 48, n)
		clk.advance(10 * time.Second)
		l.Finish("p50 45.6µs")
	}
	l.Start(3, 48, "run 1 sysvmsg raw 64 B latency go")
	l.Warn("ipclab: a warning in the middle of the run")
	l.FailedCase("ipclab bench: run 1 sysvmsg raw 64 B latency go failed, going on: " + strings.Repeat("x", 100))
	l.End()
	got := out.String()
	for _, line := range screenLines(got) {
		if n := utf8.RuneCountInString(line); n > 80 && !strings.HasPrefix(line, "ipclab bench:") {
			t.Errorf("a %d-column line at 80 columns: %q", n, line)
		}
	}
	// After 3 cases in 30 s: 45 left at 10 s each.
	if !strings.Contains(got, "3/48 [") || !strings.Contains(got, "0:30 elapsed") || !strings.Contains(got, "ETA 7:30") {
		t.Errorf("no count, elapsed time or ETA of 7:30 after 3 cases of 10 s:\n%q", got)
	}
	if !strings.Contains(got, "ETA -") {
		t.Errorf("the first case has no estimate to give, and should say so: %q", got)
	}
	if !strings.Contains(got, "…") || strings.Contains(got, longName) {
		t.Errorf("the long case name is not cut to fit: %q", got)
	}
	if strings.Contains(got, "\033[3") {
		t.Errorf("colour without Color: %q", got)
	}
	if !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("End leaves the progress line on the screen: %q", got[max(0, len(got)-100):])
	}
	if strings.Count(got, "\n") != 2 {
		t.Errorf("on a terminal only the warning and the failure take a line of their own: %q", got)
	}
}

// Narrow terminals: the line shrinks (no bar, then a cut name) and still
// never reaches the last column.
func TestRenderAtEveryWidth(t *testing.T) {
	for w := 1; w <= 120; w++ {
		r := Render(7, 48, 93*time.Second, longName, w)
		if n := utf8.RuneCountInString(r); n > w {
			t.Fatalf("width %d: %d columns: %q", w, n, r)
		}
		// 93 s over 7 cases, 41 left: 9:05.
		if w >= 60 && !strings.Contains(r, "ETA 9:05") {
			t.Errorf("width %d: no ETA: %q", w, r)
		}
	}
	if r := Render(7, 48, time.Hour+2*time.Minute+3*time.Second, "x", 200); !strings.Contains(r, "1:02:03 elapsed") || !strings.Contains(r, "[#.........]") {
		t.Errorf("%q", r)
	}
}

// Off a terminal: one plain line per finished case with its headline and
// how long it took; no \r, no escape sequence, nothing before a case ends.
func TestPlainLinePerCase(t *testing.T) {
	var out strings.Builder
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	l := newLine(&out, Terminal{}, clk.now, false)
	l.Start(0, 2, "run 1 pipe raw 64 B latency go")
	if out.Len() != 0 {
		t.Fatalf("a line before the case ended: %q", out.String())
	}
	clk.advance(1250 * time.Millisecond)
	l.Finish("p50 45.6µs")
	l.Start(1, 2, "run 1 pipe raw 64 B throughput go")
	clk.advance(800 * time.Millisecond)
	l.FailedCase("ipclab bench: run 1 pipe raw 64 B throughput go failed, going on: boom")
	l.End()
	want := "[1/2] run 1 pipe raw 64 B latency go: p50 45.6µs (1.25s)\n" +
		"ipclab bench: run 1 pipe raw 64 B throughput go failed, going on: boom\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

// Colour: failures red, warnings yellow, and only when allowed, which
// NO_COLOR (non-empty) and a non-terminal both forbid.
func TestColour(t *testing.T) {
	var out strings.Builder
	l := newLine(&out, Terminal{IsTerminal: true, Color: true}, time.Now, false)
	l.Warn("careful")
	l.Fail("broken")
	l.End()
	if !strings.Contains(out.String(), "\033[33mcareful\033[0m") || !strings.Contains(out.String(), "\033[31mbroken\033[0m") {
		t.Errorf("%q", out.String())
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "NO_COLOR" {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		term bool
		env  string
		want bool
	}{{true, "", true}, {true, "1", false}, {false, "", false}, {false, "1", false}} {
		if got := ColorAllowed(c.term, env(c.env)); got != c.want {
			t.Errorf("terminal %v, NO_COLOR=%q: colour %v, want %v", c.term, c.env, got, c.want)
		}
	}
}
