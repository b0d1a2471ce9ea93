package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Failure is a case that ended in an error (a timeout, a peer that died,
// a kernel limit met while creating the channel); the run went on
// without it. Its fields are documented in results/README.md.
type Failure struct {
	Schema      int       `json:"schema"`
	Time        time.Time `json:"time"`
	Case        string    `json:"case"` // as the progress line names it
	Run         int       `json:"run"`
	Transport   string    `json:"transport"`
	Impl        string    `json:"impl"`
	Mode        string    `json:"mode"`
	Link        string    `json:"link"`
	Size        int       `json:"size"`
	OfferedRate float64   `json:"offered_rate,omitempty"`
	Producers   int       `json:"producers,omitempty"`
	Error       string    `json:"error"`
}

// The files of a run directory that RunDir appends to.
const (
	RecordsFile  = "results.jsonl"
	FailuresFile = "failures.jsonl"
)

// ErrRunExists is returned for a directory that already holds a run's
// records, which a new run would overwrite.
var ErrRunExists = errors.New("already holds the records of a run")

// RunDir is the results directory of one run. Each record is appended to
// RecordsFile, and each failure to FailuresFile (made at the first), and
// synced to disk before the harness starts the next case.
type RunDir struct {
	Path    string
	made    bool // the directory is this run's: NewRunDir made it
	aside   bool // OpenRunDir set an earlier run's files aside (ReplacedSuffix)
	records *os.File
	fails   *os.File
	nrec    int
}

// NewRunDir makes a new directory under parent named after the time, with
// a suffix (-2, -3, ...) when another run took that name: mkdir fails on
// an existing directory, so two runs started in the same second never
// share one.
func NewRunDir(parent string, now time.Time) (*RunDir, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(parent, now.Format("20060102-150405"))
	for i := 1; i <= 1000; i++ {
		path := base
		if i > 1 {
			path += "-" + strconv.Itoa(i)
		}
		err := os.Mkdir(path, 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		d := &RunDir{Path: path, made: true}
		if d.records, err = createFile(path, RecordsFile, false); err != nil {
			os.Remove(path)
			return nil, err
		}
		return d, nil
	}
	return nil, fmt.Errorf("%s: 1000 runs already started in this second", base)
}

// ReplacedSuffix names the files of the run a replacing run set aside.
const ReplacedSuffix = ".replaced"

// OpenRunDir writes a run into dir, which may exist, made if not. A dir
// that holds the records of an earlier run is refused with ErrRunExists
// unless replace is set; then those records and failures are replaced
// (plots are redrawn, and plots of cases not measured again stay). What
// is replaced is not lost: the earlier files are renamed with
// ReplacedSuffix (over the ones an earlier replacement left), and put
// back by Close if the new run recorded nothing at all, so a run stopped
// before its first case leaves the directory as it was.
func OpenRunDir(dir string, replace bool) (*RunDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := &RunDir{Path: dir}
	if replace {
		var err error
		if d.aside, err = setAside(dir); err != nil {
			return nil, err
		}
	}
	var err error
	if d.records, err = createFile(dir, RecordsFile, false); errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s %w (%s); choose another -out, or -force to replace them", dir, ErrRunExists, RecordsFile)
	}
	if err != nil {
		d.putBack()
		return nil, err
	}
	return d, nil
}

// setAside renames an earlier run's records and failures in dir with
// ReplacedSuffix; false if there were none. Rename moves a symlink
// planted there, never what it points to.
//
// An empty records file with no failures beside it is not a run: it is
// what a replacing run killed before its first case (so before Close
// could put the earlier run back) leaves. It goes, and the run set aside
// then stays aside, and comes back if this run records nothing either:
// setting the empty file aside over it would lose the run -force was
// promised to keep.
func setAside(dir string) (bool, error) {
	p := filepath.Join(dir, RecordsFile)
	st, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, ferr := os.Lstat(filepath.Join(dir, FailuresFile)); st.Mode().IsRegular() && st.Size() == 0 && errors.Is(ferr, fs.ErrNotExist) {
		if err := os.Remove(p); err != nil {
			return false, err
		}
		_, err := os.Lstat(p + ReplacedSuffix)
		return err == nil, nil
	}
	for _, name := range []string{FailuresFile, RecordsFile} {
		p := filepath.Join(dir, name)
		os.Remove(p + ReplacedSuffix)
		if err := os.Rename(p, p+ReplacedSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("setting the run being replaced aside: %w", err)
		}
	}
	return true, nil
}

// putBack restores what setAside renamed.
func (d *RunDir) putBack() {
	if !d.aside {
		return
	}
	for _, name := range []string{RecordsFile, FailuresFile} {
		p := filepath.Join(d.Path, name)
		if _, err := os.Lstat(p + ReplacedSuffix); err == nil {
			os.Rename(p+ReplacedSuffix, p)
		}
	}
}

// createFile creates name in dir, failing if it exists unless replace is
// set. O_NOFOLLOW: a symlink planted there is not written through.
func createFile(dir, name string, replace bool) (*os.File, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND | syscall.O_NOFOLLOW
	if replace {
		flags |= os.O_TRUNC
	} else {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(filepath.Join(dir, name), flags, 0o644)
	if err == nil {
		syncDir(dir) // the new name, too, survives the machine stopping
	}
	return f, err
}

// syncDir fsyncs a directory, so the names made in it are on disk.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Record appends r to RecordsFile and syncs it.
func (d *RunDir) Record(r Record) error {
	if err := appendLine(d.records, &r); err != nil {
		return fmt.Errorf("%s: %w", d.records.Name(), err)
	}
	d.nrec++
	return nil
}

// Failure appends f to FailuresFile, made at the first, and syncs it.
func (d *RunDir) Failure(f Failure) error {
	if d.fails == nil {
		var err error
		if d.fails, err = createFile(d.Path, FailuresFile, false); err != nil {
			return err
		}
	}
	if err := appendLine(d.fails, &f); err != nil {
		return fmt.Errorf("%s: %w", d.fails.Name(), err)
	}
	return nil
}

// Empty reports whether nothing was recorded, neither a record nor a
// failure.
func (d *RunDir) Empty() bool { return d.nrec == 0 && d.fails == nil }

// Close closes the files. A run that recorded nothing leaves nothing: its
// empty records file goes, and the directory if NewRunDir made it; a run
// it was to replace comes back.
func (d *RunDir) Close() error {
	err := d.records.Close()
	if d.fails != nil {
		err = errors.Join(err, d.fails.Close())
	}
	if d.Empty() {
		os.Remove(d.records.Name())
		d.putBack()
		if d.made {
			os.Remove(d.Path)
		}
	}
	return err
}

// appendLine writes v as one JSON line and syncs the file, so the line
// survives the process (and the machine) stopping right after.
func appendLine(f *os.File, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return err
	}
	return f.Sync()
}

// ReadFailures reads the failures a RunDir wrote; a directory without
// FailuresFile had none.
func ReadFailures(dir string) ([]Failure, error) {
	b, err := os.ReadFile(filepath.Join(dir, FailuresFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Failure
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var f Failure
		if err := dec.Decode(&f); err != nil {
			return out, fmt.Errorf("%s: failure %d: %w", FailuresFile, len(out)+1, err)
		}
		out = append(out, f)
	}
	return out, nil
}
