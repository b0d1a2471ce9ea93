package record

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// ManifestFile is the run directory's manifest.
const ManifestFile = "manifest.json"

// Manifest says what a run was and what it left: enough to repeat it and
// to know whether its directory is whole. Its fields are documented in
// results/README.md.
type Manifest struct {
	Schema  int               `json:"schema"`
	Command []string          `json:"command"` // os.Args
	Options map[string]string `json:"options"` // every flag in force, given or defaulted
	// Spec is the effective specification, defaults filled in, as the
	// harness ran it.
	Spec    any       `json:"spec"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Version string    `json:"version"` // ipclab's version line (ipclab --version)
	Commit  string    `json:"commit"`  // as records' env.commit
	Cases   CaseCount `json:"cases"`
	// Interrupted: the run was stopped (Ctrl-C) before every case ran.
	Interrupted bool `json:"interrupted,omitempty"`
	// Error is what ended the run early, if anything did.
	Error string `json:"error,omitempty"`
	// Files are the files this run wrote in its directory, the manifest
	// included, in the order written.
	Files []string `json:"files"`
}

// CaseCount counts a run's cases.
type CaseCount struct {
	Planned  int `json:"planned"`
	Finished int `json:"finished"` // a record each (measured or skipped)
	Skipped  int `json:"skipped"`  // of those finished: at a limit, or beyond saturation
	Failed   int `json:"failed"`
}

// WriteManifest writes m to dir/ManifestFile, adding that name to Files.
func WriteManifest(dir string, m Manifest) error {
	m.Schema = SchemaVersion
	m.Files = append(m.Files, ManifestFile)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o644)
}

// ReadManifest reads a run directory's manifest.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, err
	}
	err = json.Unmarshal(b, &m)
	return m, err
}
