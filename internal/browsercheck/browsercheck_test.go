package browsercheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/internal/testmain"
)

// The browser is a process the tests start; under the leak check its
// objects, and its temporary files, are the test's own.
func TestMain(m *testing.M) { testmain.Main(m) }

// The check is not blind: a page with a broken image, an empty table, a
// ragged row, a console error and an exception fails it on each.
func TestCatchesBrokenPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.html")
	page := `<!DOCTYPE html><html><head><title>broken</title></head><body>
<img src="missing.png" alt="missing">
<img src="data:image/svg+xml;base64,bm90IGFuIHN2Zw==" alt="garbage">
<table><caption>empty</caption><thead><tr><th>a</th></tr></thead><tbody></tbody></table>
<table><caption>ragged</caption><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>
<script>console.error("boom"); undefinedFunction();</script>
</body></html>`
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	got := Check(t, path)
	all := strings.Join(got.Problems, "\n")
	for _, want := range []string{"image 1 (missing) does not decode", "image 2 (garbage) does not decode", "table 1 (empty) is empty",
		"table 2 (ragged) row 1 has 1 cells for 2 columns", "console.error: boom", "uncaught exception", "1 script element(s)"} {
		if !strings.Contains(all, want) {
			t.Errorf("the check missed %q; it saw:\n%s", want, all)
		}
	}
	if got.Images != 2 || got.Tables != 2 {
		t.Errorf("%d images and %d tables counted, want 2 and 2", got.Images, got.Tables)
	}
}

// A sound page passes: the check does not cry wolf either.
func TestPassesASoundPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sound.html")
	page := `<!DOCTYPE html><html><head><title>sound</title></head><body>
<img alt="dot" src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxMCIgaGVpZ2h0PSIxMCI+PHJlY3Qgd2lkdGg9IjEwIiBoZWlnaHQ9IjEwIi8+PC9zdmc+">
<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>
<p>hello</p>
</body></html>`
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	got := Check(t, path)
	if len(got.Problems) != 0 || got.Images != 1 || got.Tables != 1 || !strings.Contains(got.Text, "hello") {
		t.Errorf("a sound page: %+v", got)
	}
}
