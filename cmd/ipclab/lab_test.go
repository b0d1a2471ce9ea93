package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLabCommands: lab list and show print the ready experiments; lab
// run of a small file measures in two processes, writes the report
// (report.md and report.html) with the answers; lab report writes both
// again; lab check passes it, then fails it (exit 1) once a record
// is edited. A functional run with small counts, not a measurement.
func TestLabCommands(t *testing.T) {
	out, errOut, code := runCLI(t, "", "lab", "list")
	if code != 0 || !strings.Contains(out, "shm-vs-pipes") || !strings.Contains(out, "Capacidad del enlace") {
		t.Fatalf("lab list: exit %d, %q %q", code, out, errOut)
	}
	if out, _, code = runCLI(t, "", "lab", "show", "capacity"); code != 0 || !strings.Contains(out, "[[expect]]") {
		t.Fatalf("lab show capacity: exit %d, %q", code, out)
	}
	if _, errOut, code = runCLI(t, "", "lab", "run", "no-such-thing"); code != 1 || !strings.Contains(errOut, "shm-vs-pipes") {
		t.Fatalf("lab run of an unknown experiment: exit %d, %q", code, errOut)
	}
	tmp := t.TempDir()
	exp := filepath.Join(tmp, "mini.toml")
	os.WriteFile(exp, []byte(`name = "mini"
title = { es = "Mini", en = "Mini" }
[run]
transports = ["sysvmsg"]
links = ["raw", "ack-1"]
modes = ["latency"]
sizes = [64]
placement = "none"
runs = 1
count = 30
floor_time = "0s"
[[questions]]
id = "q1"
text = { es = "¿Cuántos mensajes por send con ack-1?", en = "How many messages per send with ack-1?" }
[[expect]]
id = "ack-is-acknowledged"
left = { link = "ack-1", metric = "acked" }
op = ">"
right = { value = 0 }
`), 0o644)
	answers := filepath.Join(tmp, "answers.md")
	os.WriteFile(answers, []byte("## q1\nDos: el mensaje y su ACK.\n"), 0o644)
	dir := filepath.Join(tmp, "run")
	out, errOut, code = runCLI(t, "", "lab", "run", "-out", dir, "-answers", answers, exp)
	if code != 0 || !strings.Contains(out, "PASS  ack-is-acknowledged") {
		t.Fatalf("lab run: exit %d\n%s\n%s", code, out, errOut)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !strings.Contains(string(md), "Dos: el mensaje y su ACK.") || !strings.Contains(string(md), "| cumple |") {
		t.Fatalf("report.md: %v\n%s", err, md)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(page), "<p>Dos: el mensaje y su ACK.</p>") || !strings.Contains(string(page), "<tr><td>ack-is-acknowledged</td>") ||
		!strings.Contains(string(page), "<td>cumple</td>") || !strings.Contains(string(page), `<img src="data:image/svg`) {
		t.Fatalf("report.html: %v\n%s", err, page)
	}
	if !strings.Contains(out, filepath.Join(dir, "report.html")) || !strings.Contains(out, filepath.Join(dir, "report.md")) {
		t.Errorf("lab run does not name both reports:\n%s", out)
	}
	if out, errOut, code = runCLI(t, "", "lab", "check", dir); code != 0 || !strings.Contains(out, "ok: intact") {
		t.Fatalf("lab check of an untouched run: exit %d\n%s%s", code, out, errOut)
	}
	os.Remove(filepath.Join(dir, "report.html"))
	if out, _, code = runCLI(t, "", "lab", "report", "-lang", "en", dir); code != 0 ||
		out != filepath.Join(dir, "report.html")+"\n"+filepath.Join(dir, "report.md")+"\n" {
		t.Fatalf("lab report: exit %d %q", code, out)
	}
	if page, err := os.ReadFile(filepath.Join(dir, "report.html")); err != nil || !strings.Contains(string(page), `<html lang="en">`) {
		t.Fatalf("report.html after lab report -lang en: %v", err)
	}
	recs := filepath.Join(dir, "results.jsonl")
	b, _ := os.ReadFile(recs)
	os.WriteFile(recs, []byte(strings.Replace(string(b), `"acked":`, `"acked":9`, 1)), 0o644)
	if out, errOut, code = runCLI(t, "", "lab", "check", dir); code != 1 || !strings.Contains(out, "PROBLEM integrity: results.jsonl differs") {
		t.Fatalf("lab check after an edit: exit %d\n%s%s", code, out, errOut)
	}
}
