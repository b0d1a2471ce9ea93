// Package ctest builds the small C programs that interoperability tests run
// against ipclab, so a test can show a plain C process and a Go process
// exchanging messages over the same kernel object.
package ctest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Build compiles the C source src with gcc into a temporary directory and
// returns the program's path. It skips the test, saying why, when gcc is
// missing; .ci/run installs gcc so CI never skips.
func Build(t *testing.T, src string, libs ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found: the C interoperability test needs it (apt-get install gcc)")
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c"))
	args := append([]string{"-O2", "-Wall", "-Werror", "-o", out, src}, libs...)
	if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", src, err, b)
	}
	return out
}
