// Package progress tells a person how a long run is going, as hyperfine
// does: on a terminal, one line rewritten in place (cases done of all,
// time elapsed, an estimate of the time left, the case running), never
// wider than the terminal, so it does not wrap into a new line at every
// update; elsewhere (a log, a pipe, CI) one plain line per finished case.
// Warnings and failures go through it too, so they never land in the
// middle of the progress line; on a terminal they are coloured, unless
// NO_COLOR is set.
//
// Our own ~200 lines rather than vbauerster/mpb or schollz/progressbar:
// both are built around a byte or item count they draw as a bar and
// would need wrapping to show a case name and to print the plain
// per-case lines off a terminal, and both draw from a goroutine of
// their own that a test at a fixed width would have to synchronise
// with. Here the drawing is a pure function of (done, total, elapsed,
// width, name), which the tests check at 80 columns.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Terminal is what the output is: a terminal of some width, or not.
type Terminal struct {
	IsTerminal bool
	// Width is the terminal's width in columns, asked at every redraw so
	// a resized window is followed; 0 (unknown) counts as 80.
	Width func() int
	// Color allows ANSI colours; see ColorAllowed.
	Color bool
}

// ColorAllowed is the colour rule of https://no-color.org: colour only on
// a terminal, and never when NO_COLOR is set to anything non-empty.
func ColorAllowed(isTerminal bool, getenv func(string) string) bool {
	return isTerminal && getenv("NO_COLOR") == ""
}

// Line is the progress of one run of cases. Its methods may be called
// from several goroutines.
type Line struct {
	mu        sync.Mutex
	w         io.Writer
	term      Terminal
	now       func() time.Time
	start     time.Time // of the run
	caseStart time.Time
	done      int
	total     int
	name      string // the case running
	drawn     bool   // a progress line is on the screen
	stop      chan struct{}
	stopped   sync.Once
}

// New starts the progress of a run on w. On a terminal the line is
// redrawn every second (the elapsed time moves) until End.
func New(w io.Writer, term Terminal) *Line {
	return newLine(w, term, time.Now, true)
}

func newLine(w io.Writer, term Terminal, now func() time.Time, tick bool) *Line {
	l := &Line{w: w, term: term, now: now, start: now(), stop: make(chan struct{})}
	if term.IsTerminal && tick {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-l.stop:
					return
				case <-t.C:
					l.mu.Lock()
					if l.drawn {
						l.draw()
					}
					l.mu.Unlock()
				}
			}
		}()
	}
	return l
}

// Start says case name, the done+1-th of total, begins.
func (l *Line) Start(done, total int, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done, l.total, l.name, l.caseStart = done, total, name, l.now()
	if l.term.IsTerminal {
		l.draw()
	}
}

// Finish says the case begun last ended with result (its headline
// figure, e.g. "p50 45.6µs"). Off a terminal that is a line of its own.
func (l *Line) Finish(result string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done++
	if !l.term.IsTerminal {
		fmt.Fprintf(l.w, "[%d/%d] %s: %s (%s)\n", l.done, l.total, l.name, result, roundDuration(l.now().Sub(l.caseStart)))
	}
}

// Warn prints a warning on a line of its own (yellow on a terminal).
func (l *Line) Warn(msg string) { l.message(msg, "33") }

// Fail prints that something failed on a line of its own (red on a
// terminal).
func (l *Line) Fail(msg string) { l.message(msg, "31") }

// FailedCase counts the case begun last as done, failed with msg.
func (l *Line) FailedCase(msg string) {
	l.mu.Lock()
	l.done++
	l.mu.Unlock()
	l.Fail(msg)
}

func (l *Line) message(msg, color string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	if l.term.Color {
		msg = "\033[" + color + "m" + msg + "\033[0m"
	}
	fmt.Fprintln(l.w, msg)
	if l.drawn {
		l.draw()
	}
}

// End clears the progress line and stops redrawing it.
func (l *Line) End() {
	l.stopped.Do(func() { close(l.stop) })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	l.drawn = false
}

// clear erases the progress line, if one is drawn: back to its start, and
// erase to the end of the line.
func (l *Line) clear() {
	if l.drawn {
		fmt.Fprint(l.w, "\r\033[K")
	}
}

func (l *Line) draw() {
	width := 80
	if l.term.Width != nil {
		if w := l.term.Width(); w > 0 {
			width = w
		}
	}
	// width-1: a line that fills the last column leaves some terminals
	// waiting to wrap, and the next \r then lands on the line below.
	fmt.Fprint(l.w, "\r\033[K"+Render(l.done, l.total, l.now().Sub(l.start), l.name, width-1))
	l.drawn = true
}

// Render is the progress line, at most width columns: cases done of
// total, a bar when there is room, the time elapsed, the estimated time
// left (the mean time of the cases done so far, times the cases left:
// "ETA -" before the first), and the case running, cut with "…" to fit.
func Render(done, total int, elapsed time.Duration, name string, width int) string {
	eta := "-"
	if done > 0 && total >= done {
		eta = clock(elapsed / time.Duration(done) * time.Duration(total-done))
	}
	head := fmt.Sprintf("%d/%d  %s elapsed  ETA %s", done, total, clock(elapsed), eta)
	if room := width - utf8.RuneCountInString(head) - 2; room >= 32 { // a bar leaves the name 20 columns at least
		const bar = 10
		fill := bar * done / max(total, 1)
		head = fmt.Sprintf("%d/%d [%s%s] %s elapsed  ETA %s", done, total,
			strings.Repeat("#", fill), strings.Repeat(".", bar-fill), clock(elapsed), eta)
	}
	return truncate(head+"  "+name, width)
}

// truncate cuts s to width runes, the last one "…" when it was cut.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:width-1]), " ") + "…"
}

// clock writes a duration as a clock does: 0:07, 12:34, 1:02:03.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// roundDuration keeps three significant digits or so: 812ms, 1.25s, 1m3s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
