package record

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The summary tables of the committed reference runs are what
// WriteSummary writes from their records, byte for byte: the table moved
// here from the CLI unchanged.
func TestSummaryOfTheReferenceRuns(t *testing.T) {
	for _, dir := range []string{"split", "split/load-fanin", "same", "same/load-fanin"} {
		dir = filepath.Join("..", "results", "reference", dir)
		recs, err := ReadJSONL(filepath.Join(dir, RecordsFile))
		if err != nil {
			t.Fatal(err)
		}
		fails, err := ReadFailures(dir)
		if err != nil {
			t.Fatal(err)
		}
		wantb, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		WriteSummary(&got, recs, fails)
		if want := string(wantb); got.String() != want {
			t.Errorf("%s: the summary differs from summary.txt:\n%s", dir, got.String())
		}
	}
}
