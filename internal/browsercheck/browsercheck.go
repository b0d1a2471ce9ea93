// Package browsercheck loads an HTML page in a real browser, for tests:
// Chromium, headless, driven over the DevTools protocol with chromedp (a
// pure Go client, no Node, maintained and released through 2026; the
// protocol, unlike --dump-dom, reports console messages, exceptions and
// failed loads as events, and lets the test measure what was rendered).
//
// It is one checker for every report the project writes (the bench run's,
// the course lab's), so a fix to what "renders correctly" means reaches
// all of them.
package browsercheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ipclab/ipclab/internal/testmain"
)

// Chromium finds the browser: $IPCLAB_CHROMIUM, else chromium,
// chromium-browser or google-chrome on PATH. Without one the test is
// skipped, except under CI (CI=true), where .ci/run installs it and its
// absence is a failure.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("IPCLAB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true and no Chromium on PATH: .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("no Chromium on PATH (apt-get install chromium, or set IPCLAB_CHROMIUM): the page is not checked in a browser")
	return ""
}

// Page is what the browser saw of a page.
type Page struct {
	Problems []string // console errors, exceptions, failed loads, broken images, empty tables, scripts
	Images   int      // images in the page (each one that is not drawn with a size is a problem)
	Tables   int      // tables (each one without rows, or with a ragged row, is a problem)
	Text     string   // the page's text, as rendered
}

// inspect is run in the page: it waits for every image to decode and
// measures what was laid out.
const inspect = `(async () => {
  const problems = [];
  const imgs = [...document.images];
  const decoded = await Promise.allSettled(imgs.map(i => i.decode()));
  imgs.forEach((img, n) => {
    const r = img.getBoundingClientRect();
    const name = 'image ' + (n + 1) + ' (' + (img.alt || img.src.slice(0, 40)) + ')';
    if (decoded[n].status !== 'fulfilled') problems.push(name + ' does not decode: ' + decoded[n].reason);
    else if (!(img.naturalWidth > 0 && img.naturalHeight > 0)) problems.push(name + ' has no natural size');
    if (!(r.width > 0 && r.height > 0)) problems.push(name + ' is drawn ' + r.width + 'x' + r.height);
  });
  document.querySelectorAll('svg').forEach((s, n) => {
    const r = s.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0)) problems.push('inline svg ' + (n + 1) + ' is drawn ' + r.width + 'x' + r.height);
  });
  const tables = [...document.querySelectorAll('table')];
  tables.forEach((t, n) => {
    const name = 'table ' + (n + 1) + ' (' + (t.caption ? t.caption.textContent : 'no caption') + ')';
    const cols = t.tHead && t.tHead.rows.length ? t.tHead.rows[0].cells.length : 0;
    const rows = t.tBodies.length ? [...t.tBodies[0].rows] : [];
    if (cols === 0) problems.push(name + ' has no header');
    if (rows.length === 0) problems.push(name + ' is empty');
    rows.forEach((r, k) => { if (r.cells.length !== cols) problems.push(name + ' row ' + (k + 1) + ' has ' + r.cells.length + ' cells for ' + cols + ' columns'); });
    const h = t.getBoundingClientRect();
    if (!(h.width > 0 && h.height > 0)) problems.push(name + ' is drawn ' + h.width + 'x' + h.height);
  });
  if (document.scripts.length) problems.push(document.scripts.length + ' script element(s) in the page');
  return {Problems: problems, Images: imgs.length, Tables: tables.length, Text: document.body.innerText};
})()`

// Check loads path in headless Chromium and returns what it saw, with
// every console error, uncaught exception and browser log error among
// the problems. It skips the test where Chromium is absent (see
// Chromium), and fails it with every goroutine's stack if the browser
// does not answer within two minutes.
func Check(t testing.TB, path string) Page {
	t.Helper()
	exe := Chromium(t)
	testmain.Watchdog(t, 2*time.Minute)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in a container: the setuid sandbox cannot start
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		// Its singleton socket goes in a directory under TMPDIR, which a
		// killed browser leaves behind (and the leak check finds): in one
		// the test removes, with a short name (a socket path has 108 bytes).
		chromedp.Env("TMPDIR="+shortTempDir(t)),
		chromedp.WindowSize(1300, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()

	var mu sync.Mutex
	var seen []string
	listen := func(ev any) { // on chromedp's reading goroutine: record, nothing more
		var p string
		switch ev := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				p = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
			}
		case *cdpruntime.EventExceptionThrown:
			d := ev.ExceptionDetails
			p = "uncaught exception: " + d.Text
			if d.Exception != nil {
				p += " " + d.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				p = fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if p != "" {
			mu.Lock()
			seen = append(seen, p)
			mu.Unlock()
		}
	}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(listen))
	defer cancel()
	// The first run starts the browser, which lives as long as ctx: no
	// timeout on it (the watchdog covers a browser that never answers).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium (%s): %v", exe, err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate("file://"+abs)); err != nil {
		t.Fatalf("chromium on %s: %v", path, err)
	}
	got, err := chromedp.Run(tctx, chromedp.Evaluate[Page](inspect, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("inspecting %s in chromium: %v", path, err)
	}
	// Events are delivered apart from the calls' answers: give the last
	// ones (a late console error) a moment, under the same watchdog.
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	got.Problems = append(got.Problems, seen...)
	mu.Unlock()
	return got
}

// shortTempDir is a temporary directory with a short path, removed when
// the test ends.
func shortTempDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "chr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
