package record

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"
)

// Runs started in the same second, at once, get a directory each.
func TestNewRunDirIsUniqueWithinASecond(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "results")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const n = 8
	paths := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d, err := NewRunDir(parent, now)
			if err != nil {
				t.Error(err)
				return
			}
			if err := d.Record(Record{Schema: SchemaVersion, Transport: "pipe"}); err != nil {
				t.Error(err)
			}
			d.Close()
			paths[i] = filepath.Base(d.Path)
		})
	}
	wg.Wait()
	sort.Strings(paths)
	want := []string{"20260102-030405", "20260102-030405-2", "20260102-030405-3", "20260102-030405-4",
		"20260102-030405-5", "20260102-030405-6", "20260102-030405-7", "20260102-030405-8"}
	for i := range want {
		if paths[i] != want[i] {
			t.Fatalf("directories %q, want %q", paths, want)
		}
		recs, err := ReadJSONL(filepath.Join(parent, paths[i], RecordsFile))
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %d records, %v; want its own one", paths[i], len(recs), err)
		}
	}
}

// Records and failures are on disk as each is handed over, before Close.
func TestRunDirAppendsAsItGoes(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenRunDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if err := d.Record(Record{Schema: SchemaVersion, Run: i}); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadJSONL(filepath.Join(dir, RecordsFile))
		if err != nil || len(recs) != i || recs[i-1].Run != i {
			t.Fatalf("after %d records the file holds %d (%v)", i, len(recs), err)
		}
	}
	if fails, err := ReadFailures(dir); err != nil || fails != nil {
		t.Fatalf("failures before any: %v, %v", fails, err)
	}
	f := Failure{Schema: SchemaVersion, Case: "run 1 posixmq raw 64 B latency go", Run: 1, Transport: "posixmq", Impl: "go",
		Mode: Latency, Link: "raw", Size: 64, Error: "boom"}
	if err := d.Failure(f); err != nil {
		t.Fatal(err)
	}
	if fails, err := ReadFailures(dir); err != nil || len(fails) != 1 || !reflect.DeepEqual(fails[0], f) {
		t.Fatalf("failures %+v, %v", fails, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// -out: a directory holding a run is refused unless replace; a symlink
// planted as the records file is not written through; a run that recorded
// nothing leaves nothing.
func TestOpenRunDirRefusesAnExistingRun(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenRunDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	d.Record(Record{Schema: SchemaVersion, Run: 1})
	d.Failure(Failure{Error: "x"})
	d.Close()
	if _, err := OpenRunDir(dir, false); !errors.Is(err, ErrRunExists) {
		t.Fatalf("a second run into %s: %v, want ErrRunExists", dir, err)
	}
	d, err = OpenRunDir(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if recs, _ := ReadJSONL(filepath.Join(dir, RecordsFile)); len(recs) != 0 {
		t.Errorf("replace kept %d old records", len(recs))
	}
	if fails, _ := ReadFailures(dir); len(fails) != 0 {
		t.Errorf("replace kept %d old failures", len(fails))
	}
	d.Close()
	// A replacing run that recorded nothing (stopped before its first
	// case) leaves the earlier run as it was.
	if recs, _ := ReadJSONL(filepath.Join(dir, RecordsFile)); len(recs) != 1 {
		t.Errorf("a replacing run that recorded nothing left %d of the 1 earlier record", len(recs))
	}
	if fails, _ := ReadFailures(dir); len(fails) != 1 {
		t.Errorf("a replacing run that recorded nothing left %d of the 1 earlier failure", len(fails))
	}
	// One that recorded something keeps the earlier run aside.
	d, err = OpenRunDir(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	d.Record(Record{Schema: SchemaVersion, Run: 2})
	d.Close()
	if recs, _ := ReadJSONL(filepath.Join(dir, RecordsFile)); len(recs) != 1 || recs[0].Run != 2 {
		t.Errorf("after replacing: %+v, want the new run's one record", recs)
	}
	if recs, _ := ReadJSONL(filepath.Join(dir, RecordsFile+ReplacedSuffix)); len(recs) != 1 || recs[0].Run != 1 {
		t.Errorf("the replaced records: %+v, want the earlier run's one record", recs)
	}
	if _, err := os.Stat(filepath.Join(dir, FailuresFile+ReplacedSuffix)); err != nil {
		t.Errorf("the replaced failures were not kept: %v", err)
	}

	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	planted := t.TempDir()
	os.Symlink(victim, filepath.Join(planted, RecordsFile))
	if d, err := OpenRunDir(planted, true); err == nil {
		// Replacing sets the symlink aside (rename moves the link) and
		// writes a new file of its own.
		d.Record(Record{Schema: SchemaVersion})
		d.Close()
		if st, err := os.Lstat(filepath.Join(planted, RecordsFile)); err != nil || !st.Mode().IsRegular() {
			t.Errorf("the records file after replacing a planted symlink: %v, %v; want a regular file", st, err)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the symlink's target was written: %q", b)
	}

	parent := t.TempDir()
	d, err = NewRunDir(parent, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("an empty run left %v", left)
	}
}

// A run stopped while it wrote a record leaves a last line without its
// newline: the records before it are still read, and the cut line is
// said; a malformed line anywhere else is an error.
// TestForceAfterAKilledForce: a replacing run killed before its first
// case leaves an empty records file and the earlier run aside; -force
// again must not set that empty file aside over the earlier run, which
// comes back if this run records nothing too, and stays aside if it
// records something.
func TestForceAfterAKilledForce(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenRunDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	d.Record(Record{Schema: SchemaVersion, Run: 1})
	d.Close()
	killed := func() {
		t.Helper()
		d, err := OpenRunDir(dir, true)
		if err != nil {
			t.Fatal(err)
		}
		d.records.Close() // killed: no Close, nothing put back
	}
	killed()
	killed()
	d, err = OpenRunDir(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if recs, _ := ReadJSONL(filepath.Join(dir, RecordsFile)); len(recs) != 1 || recs[0].Run != 1 {
		t.Fatalf("after two killed replacements and an empty one: records %+v, want the earlier run's one", recs)
	}
	if _, err := os.Lstat(filepath.Join(dir, RecordsFile+ReplacedSuffix)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the earlier run is back, but a copy stayed aside: %v", err)
	}
	killed()
	d, err = OpenRunDir(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	d.Record(Record{Schema: SchemaVersion, Run: 2})
	d.Close()
	if recs, _ := ReadJSONL(filepath.Join(dir, RecordsFile+ReplacedSuffix)); len(recs) != 1 || recs[0].Run != 1 {
		t.Errorf("after a killed replacement and one that recorded: aside %+v, want the earlier run's one record", recs)
	}
}

func TestReadJSONLLeavesOutALastLineCutShort(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenRunDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []string{"pipe", "fifo"} {
		if err := d.Record(Record{Schema: SchemaVersion, Transport: tr}); err != nil {
			t.Fatal(err)
		}
	}
	d.records.Write([]byte(`{"schema":1,"transp`)) // what a kill -9 mid-write leaves
	path := filepath.Join(dir, RecordsFile)
	recs, err := ReadJSONL(path)
	var cut *TruncatedError
	if !errors.As(err, &cut) || cut.Line != 3 || len(recs) != 2 || recs[1].Transport != "fifo" {
		t.Fatalf("read %d records, %v; want the 2 whole ones and a TruncatedError for line 3", len(recs), err)
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append(b, "\n"+`{"schema":1,"transport":"sysvmsg"}`+"\n"...), 0o644)
	if _, err := ReadJSONL(path); err == nil || errors.As(err, &cut) {
		t.Fatalf("a malformed line before the last: %v, want an error that is not a TruncatedError", err)
	}
}
