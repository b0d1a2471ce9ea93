package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTwoFIFOSendersOneAccepted is the race found on main, with real
// processes: two `ipclab send fifo:PATH` started together against one
// `ipclab recv fifo:PATH`. Exactly one is accepted, the other fails saying
// why, and the receiver gets exactly one whole 100,000-byte message.
func TestTwoFIFOSendersOneAccepted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // the watchdog: kills all three
	defer cancel()
	exe, _ := os.Executable()
	env := append(os.Environ(), envMain+"=1")
	path := filepath.Join(t.TempDir(), "race")
	recv := exec.CommandContext(ctx, exe, "recv", "fifo:"+path)
	recv.Env = env
	var out strings.Builder
	recv.Stdout = &out
	errPipe, _ := recv.StderrPipe()
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 512)
	if n, _ := errPipe.Read(line); !strings.Contains(string(line[:n]), "waiting on") {
		t.Fatalf("recv said %q", line[:n])
	}
	msgs := []string{strings.Repeat("A", 100_000), strings.Repeat("B", 100_000)}
	var sends [2]*exec.Cmd
	var errs [2]bytes.Buffer
	for i := range sends {
		sends[i] = exec.CommandContext(ctx, exe, "send", "fifo:"+path)
		sends[i].Env = env
		sends[i].Stdin = strings.NewReader(msgs[i] + "\n")
		sends[i].Stderr = &errs[i]
	}
	for _, s := range sends {
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
	accepted := -1
	for i, s := range sends {
		if err := s.Wait(); err == nil {
			if accepted >= 0 {
				t.Fatalf("both senders were accepted")
			}
			accepted = i
			continue
		}
		e := errs[i].String()
		if !strings.Contains(e, "already has an opener") && !strings.Contains(e, "no such file") {
			t.Errorf("refused sender %d says %q; want it to say the FIFO already has an opener (or is gone)", i, e)
		}
		t.Logf("refused sender: %s", strings.TrimSpace(e))
	}
	if accepted < 0 {
		t.Fatalf("no sender was accepted: %q, %q", errs[0].String(), errs[1].String())
	}
	if err := recv.Wait(); err != nil {
		t.Fatalf("recv: %v", err)
	}
	if out.String() != msgs[accepted]+"\n" {
		got := out.String()
		t.Fatalf("recv printed %d bytes (%.20q...); want exactly sender %d's 100,000-byte message", len(got), got, accepted)
	}
}
