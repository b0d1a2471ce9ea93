package lab

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ipclab/ipclab/record"
)

// The files of a lab run directory beside bench's (record.RecordsFile,
// record.FailuresFile, the CSV, summary and plots).
const (
	ExperimentFile   = "experiment.toml"   // the experiment as it was run
	ExpectationsFile = "expectations.json" // the outcomes at run time
	ManifestFile     = "lab.json"          // Manifest: environment, commit, digests
)

// ManifestSchema changes when the manifest or its digest changes meaning.
const ManifestSchema = 1

// Manifest is written at the end of a run. Its Digest is a SHA-256 over
// the files that hold what was measured and under what (the experiment,
// the records with their environment and latency distributions, the
// failures, the expectations' outcomes) and over the manifest's own
// environment, commit and settings; `ipclab lab check` recomputes it.
//
// The digest catches a figure changed by hand, a record added or removed,
// results moved from another run or another commit. It is not a
// signature: whoever has the run directory and ipclab can recompute it
// after editing, so it proves consistency, not authorship; the
// plausibility checks and the instructor's own rerun cover the rest.
type Manifest struct {
	Schema     int         `json:"schema"`
	Experiment string      `json:"experiment"`
	Commit     string      `json:"commit"`
	Started    time.Time   `json:"started"`
	Finished   time.Time   `json:"finished"`
	Overrides  Overrides   `json:"overrides"`
	Env        record.Env  `json:"env"`
	Files      []FileEntry `json:"files"`
	Digest     string      `json:"digest"`
}

// FileEntry is one digested file; a file the run did not write (no
// failures) is listed with Missing.
type FileEntry struct {
	Name    string `json:"name"`
	SHA256  string `json:"sha256,omitempty"`
	Missing bool   `json:"missing,omitempty"`
}

// digestedFiles are the files the digest covers, in its order.
var digestedFiles = []string{ExperimentFile, record.RecordsFile, record.FailuresFile, ExpectationsFile}

// seal computes the file entries and the digest of m over dir.
func (m *Manifest) seal(dir string) error {
	files, digest, err := computeDigest(dir, m)
	m.Files, m.Digest = files, digest
	return err
}

// computeDigest hashes each file (length-prefixed, named) and the
// manifest's own fields in a fixed order.
func computeDigest(dir string, m *Manifest) ([]FileEntry, string, error) {
	h := sha256.New()
	part := func(name string, b []byte) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
	}
	var files []FileEntry
	for _, name := range digestedFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			files = append(files, FileEntry{Name: name, Missing: true})
			part(name, []byte("\x00missing"))
			continue
		case err != nil:
			return nil, "", err
		}
		sum := sha256.Sum256(b)
		files = append(files, FileEntry{Name: name, SHA256: hex.EncodeToString(sum[:])})
		part(name, b)
	}
	meta, err := json.Marshal(struct {
		Schema     int
		Experiment string
		Commit     string
		Started    time.Time
		Finished   time.Time
		Overrides  Overrides
		Env        record.Env
	}{m.Schema, m.Experiment, m.Commit, m.Started, m.Finished, m.Overrides, m.Env})
	if err != nil {
		return nil, "", err
	}
	part("manifest", meta)
	return files, hex.EncodeToString(h.Sum(nil)), nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadManifest reads a run directory's manifest.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("%w (is %s a directory of ipclab lab run?)", err, dir)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	if m.Schema != ManifestSchema {
		return nil, fmt.Errorf("%s: schema %d, this ipclab reads %d", ManifestFile, m.Schema, ManifestSchema)
	}
	return &m, nil
}
