package report

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/internal/browsercheck"
)

// The report is checked in a real browser: internal/browsercheck, the
// checker every report of the project shares (its own tests show it
// catches a broken page).

// The run report, as bench writes it, in a real browser: no console
// error, every figure drawn with a size, every table with rows, and the
// records' markup shown as text.
func TestRunReportInBrowser(t *testing.T) {
	d, figs := runDoc(t)
	dir := t.TempDir()
	if _, err := d.WriteFiles(dir, RunBase); err != nil {
		t.Fatal(err)
	}
	got := browsercheck.Check(t, filepath.Join(dir, RunBase+".html"))
	for _, p := range got.Problems {
		t.Error(p)
	}
	if got.Images != len(figs) {
		t.Errorf("%d images drawn, want the %d figures", got.Images, len(figs))
	}
	if got.Tables < 6 { // 4 modes, links, environment
		t.Errorf("%d tables, want at least 6", got.Tables)
	}
	for _, want := range []string{"<script>alert(1)</script>", "bimodal", "1 case(s) failed"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
}
