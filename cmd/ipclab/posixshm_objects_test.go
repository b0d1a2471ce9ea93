package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCleanPosixShm: a posixshm channel whose creator was killed before
// any opener came is listed as an orphan and removed, semaphores and all;
// a /dev/shm file is judged by owner and header, never by its name: one
// with ipclab's header and a dead creator, owned by this user but in no
// registry entry, is removed; the same owned by another user, and a file
// with an ipclab-like name but no header, are left alone.
func TestCleanPosixShm(t *testing.T) {
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		t.Skip("no /dev/shm")
	}
	reg := t.TempDir()
	os.Chmod(reg, 0o700)
	t.Setenv("IPCLAB_REGISTRY", reg)

	name := "/ipclab-test-orphan-" + filepath.Base(reg)
	cmd := cliCommand(t, "recv", "posixshm:name="+name+",wait=posixsem")
	errPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 256)
	if n, _ := errPipe.Read(line); !strings.Contains(string(line[:n]), "waiting on") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("recv said %q", line[:n])
	}
	cmd.Process.Kill() // SIGKILL: its Close never runs
	cmd.Wait()
	files := []string{"/dev/shm" + name}
	for _, s := range []string{"-f0", "-e0", "-f1", "-e1"} {
		files = append(files, "/dev/shm/sem."+name[1:]+s)
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the killed creator's %s: %v", f, err)
		}
		defer os.Remove(f)
	}

	// Found by header only: ours, a dead creator.
	header := func(path string) {
		b := make([]byte, 8192)
		binary.LittleEndian.PutUint64(b[0:], 0x4853_4241_4c43_5049) // shmchan's magic
		binary.LittleEndian.PutUint32(b[56:], uint32(deadPID(t)))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(path) })
	}
	byHeader := "/dev/shm/ipclab-test-byheader-" + filepath.Base(reg)
	header(byHeader)
	noHeader := "/dev/shm/ipclab-test-noheader-" + filepath.Base(reg)
	if err := os.WriteFile(noHeader, make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(noHeader)
	others := ""
	if os.Geteuid() == 0 {
		others = "/dev/shm/ipclab-test-others-" + filepath.Base(reg)
		header(others)
		if err := os.Chown(others, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}

	out, errOut, code := runCLI(t, "", "ls")
	if code != 0 {
		t.Fatalf("ls: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"posixshm " + name, "posixsem " + name + "-f0", "posixshm /" + filepath.Base(byHeader)} {
		if !strings.Contains(out, want) {
			t.Errorf("ls does not list %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, filepath.Base(noHeader)) {
		t.Errorf("ls lists a file without a channel header:\n%s", out)
	}
	out, errOut, code = runCLI(t, "", "clean")
	if code != 0 {
		t.Fatalf("clean: exit %d: %s\n%s", code, errOut, out)
	}
	for _, f := range append(files, byHeader) {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("clean left %s:\n%s", f, out)
		}
	}
	if _, err := os.Stat(noHeader); err != nil {
		t.Errorf("clean removed a file by its name alone: %v", err)
	}
	if others != "" {
		if _, err := os.Stat(others); err != nil {
			t.Errorf("clean removed another user's file: %v", err)
		}
		if !strings.Contains(out, "not verified posixshm /"+filepath.Base(others)+": owned by uid 65534") {
			t.Errorf("clean does not say why it left another user's file:\n%s", out)
		}
	}
	t.Logf("clean:\n%s", out)
}
