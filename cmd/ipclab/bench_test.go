package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/record"
)

// quick is a bench of small, fast cases.
var quick = []string{"bench", "-runs", "1", "-sizes", "64", "-count", "200", "-bytes", "64K", "-baseline", "none"}

func quickBench(more ...string) []string { return append(append([]string{}, quick...), more...) }

// noFigureFiles is bench's hidden flag that writes no PNG and SVG files,
// for the tests that look at other things: drawing the PNGs of one run
// takes 5-10 s under -race. TestBenchWritesRecordsAndPlots and the tests
// of a run directory's files keep them.
const noFigureFiles = "-testing-no-figure-files"

// waitFor polls until cond holds; after limit it fails the test with every
// goroutine's stack (a watchdog, not a timing assertion).
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("watchdog: still waiting for %s after %v\n%s", what, limit, buf[:runtime.Stack(buf, true)])
		}
	}
}

// interrupt sends SIGINT to a running bench, or to its process group,
// and returns its exit code once it ends, failing if it does not end
// promptly.
func interrupt(t *testing.T, cmd *exec.Cmd, group bool) int {
	t.Helper()
	if group {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	} else {
		cmd.Process.Signal(os.Interrupt)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		buf := make([]byte, 1<<20)
		t.Fatalf("bench still running a minute after SIGINT\n%s", buf[:runtime.Stack(buf, true)])
	}
	return -1
}

func lines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// TestBenchInterruptedKeepsFinishedCases: Ctrl-C in the middle of a run
// stops it promptly, and the cases finished by then are on disk with the
// CSV, the summary and the plots; the stderr says where. TestMain's leak
// check fails the package if any object of the interrupted case survives.
func TestBenchInterruptedKeepsFinishedCases(t *testing.T) {
	dir := t.TempDir()
	cmd := cliCommand(t, quickBench("-transports", "pipe,sysvmsg,sysvshm-futex", "-runs", "500", "-out", dir)...)
	// As at a terminal, where Ctrl-C signals the whole foreground group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer testmain.CmdWatchdog(t, cmd, 5*time.Minute).Stop()
	records := filepath.Join(dir, record.RecordsFile)
	waitFor(t, 2*time.Minute, "4 records", func() bool {
		b, _ := os.ReadFile(records)
		return bytes.Count(b, []byte("\n")) >= 4
	})
	code := interrupt(t, cmd, true)
	if code != 1 || !strings.Contains(errOut.String(), "interrupted after") || !strings.Contains(errOut.String(), dir) {
		t.Fatalf("after SIGINT: exit %d, stderr %q; want exit 1, saying it was interrupted and where the results are", code, errOut.String())
	}
	recs, err := record.ReadJSONL(records)
	if err != nil {
		t.Fatal(err)
	}
	total := 500 * 3 * 2
	if len(recs) < 4 || len(recs) >= total || !strings.Contains(errOut.String(), fmt.Sprintf("interrupted after %d of %d cases", len(recs), total)) {
		t.Fatalf("%d records on disk; stderr %q", len(recs), errOut.String())
	}
	for _, r := range recs {
		if r.Skipped != "" || r.Env == nil || (r.RTT == nil && r.MBPerSec <= 0) {
			t.Errorf("an incomplete record: %+v", r)
		}
	}
	if n := lines(t, filepath.Join(dir, "results.csv")); n != len(recs)+1 {
		t.Errorf("results.csv has %d lines for %d records", n, len(recs))
	}
	sum, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
	if err != nil || !strings.Contains(string(sum), "LATENCY") || !strings.Contains(string(sum), "pipe") {
		t.Errorf("summary.txt: %v\n%s", err, sum)
	}
	if !strings.Contains(out.String(), string(sum)) {
		t.Errorf("stdout does not show the summary:\n%s", out.String())
	}
	for _, f := range []string{"latency_vs_size.png", "throughput_vs_size.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, record.FailuresFile)); !os.IsNotExist(err) {
		t.Errorf("the interrupted case was written as a failure: %v", err)
	}
}

// TestBenchInterruptedBeforeAnyCase: a run stopped before it measured
// anything leaves no directory behind, and says so.
func TestBenchInterruptedBeforeAnyCase(t *testing.T) {
	cwd := t.TempDir()
	// One message a second: the first case would take half an hour.
	cmd := cliCommand(t, "bench", "-transports", "pipe", "-sizes", "64", "-modes", "load", "-rates", "1", "-baseline", "none")
	cmd.Dir = cwd
	var errOut strings.Builder
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer testmain.CmdWatchdog(t, cmd, 5*time.Minute).Stop()
	// The run directory exists once the signal handler is in place.
	waitFor(t, 2*time.Minute, "the run directory", func() bool {
		d, _ := os.ReadDir(filepath.Join(cwd, "results"))
		return len(d) > 0
	})
	if code := interrupt(t, cmd, false); code != 1 || !strings.Contains(errOut.String(), "before any case finished") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if d, err := os.ReadDir(filepath.Join(cwd, "results")); err != nil || len(d) != 0 {
		t.Fatalf("an empty run left %v (%v) behind", d, err)
	}
}

// TestBenchGoesOnAfterFailures: a case that fails is listed (stderr, the
// summary, failures.jsonl) and every other case is measured and recorded;
// the exit status says the run was not complete. One failure is injected
// (-testing-fail); the others are real: no POSIX queue can be made under
// RLIMIT_MSGQUEUE 0, and a load rate after a failed one is not run.
func TestBenchGoesOnAfterFailures(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := runCLI(t, "", quickBench("-transports", "pipe,sysvmsg", "-modes", "latency,throughput",
		"-testing-fail", "sysvmsg raw 64 B latency", "-out", dir, noFigureFiles)...)
	if code != 1 || !strings.Contains(errOut, "1 of 4 cases failed") || !strings.Contains(errOut, "run 1 sysvmsg raw 64 B latency go: "+bench.ErrInjected.Error()) {
		t.Fatalf("exit %d, stderr %q; want exit 1 listing the failed case", code, errOut)
	}
	recs, err := record.ReadJSONL(filepath.Join(dir, record.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range recs {
		if r.Skipped != "" || (r.RTT == nil && r.MBPerSec <= 0) {
			t.Errorf("%s %s not measured: %+v", r.Transport, r.Mode, r)
		}
		got[r.Transport+" "+r.Mode] = true
	}
	if len(recs) != 3 || !got["pipe latency"] || !got["pipe throughput"] || !got["sysvmsg throughput"] {
		t.Fatalf("records %v, want the 3 cases that did not fail", got)
	}
	fails, err := record.ReadFailures(dir)
	if err != nil || len(fails) != 1 || fails[0].Transport != "sysvmsg" || fails[0].Mode != bench.Latency || fails[0].Error != bench.ErrInjected.Error() {
		t.Fatalf("failures %+v, %v", fails, err)
	}
	sum, _ := os.ReadFile(filepath.Join(dir, "summary.txt"))
	if !strings.Contains(string(sum), "FAILED") {
		t.Errorf("summary.txt does not list the failure:\n%s", sum)
	}
	if again, _, _ := runCLI(t, "", "plot", "-summary", dir); again != string(sum) {
		t.Errorf("plot -summary prints\n%s\nbench wrote\n%s", again, sum)
	}

	// A real limit: no POSIX queue at all.
	dir = t.TempDir()
	cmd := cliCommand(t, quickBench("-transports", "posixmq,pipe", "-modes", "load,latency", "-rates", "1k,2k", "-out", dir)...)
	cmd.Env = append(cmd.Env, envNoMqueue+"=1")
	var e strings.Builder
	cmd.Stdout, cmd.Stderr = new(strings.Builder), &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer testmain.CmdWatchdog(t, cmd, 5*time.Minute).Stop()
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 1 || !strings.Contains(e.String(), "2 of 6 cases failed") {
		t.Fatalf("under RLIMIT_MSGQUEUE 0: %v, stderr %q", err, e.String())
	}
	fails, err = record.ReadFailures(dir)
	if err != nil || len(fails) != 2 {
		t.Fatalf("failures %+v, %v; want posixmq's load at 1k/s and its latency", fails, err)
	}
	for _, f := range fails {
		if f.Transport != "posixmq" || !strings.Contains(f.Error, "RLIMIT_MSGQUEUE") {
			t.Errorf("failure %+v; want posixmq, naming RLIMIT_MSGQUEUE", f)
		}
	}
	recs, err = record.ReadJSONL(filepath.Join(dir, record.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	var measured, notRun int
	for _, r := range recs {
		switch {
		case r.Transport == "posixmq" && r.OfferedRate == 2000 && strings.Contains(r.Skipped, "failed"):
			notRun++
		case r.Transport == "pipe" && (r.Skipped == "" || strings.HasPrefix(r.Skipped, "beyond saturation")):
			// A loaded machine may not keep up with 1k/s through a pipe;
			// then 2k/s is skipped as beyond saturation: still a pipe
			// case that ran its course, which is what this test is about.
			measured++
		default:
			t.Errorf("unexpected record %+v", r)
		}
	}
	if measured != 3 || notRun != 1 {
		t.Errorf("%d pipe cases measured or skipped as beyond saturation (want 3), %d posixmq rate after the failed one not run (want 1)", measured, notRun)
	}
}

// TestBenchCaseTimeout: a load case that cannot finish in -case-timeout
// (2,000 messages at 1 a second) is stopped, recorded as failed, the
// higher rate is not run, and the next mode is measured.
func TestBenchCaseTimeout(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := runCLI(t, "", quickBench("-transports", "pipe", "-modes", "load,latency", "-rates", "1,2", "-case-timeout", "1s", "-out", dir, noFigureFiles)...)
	if code != 1 || !strings.Contains(errOut, "1 of 3 cases failed") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	fails, err := record.ReadFailures(dir)
	if err != nil || len(fails) != 1 || fails[0].OfferedRate != 1 || !strings.Contains(fails[0].Error, "deadline exceeded") {
		t.Fatalf("failures %+v, %v; want the load case at 1/s, timed out", fails, err)
	}
	recs, err := record.ReadJSONL(filepath.Join(dir, record.RecordsFile))
	if err != nil || len(recs) != 2 || !strings.Contains(recs[0].Skipped, "not run") || recs[1].RTT == nil {
		t.Fatalf("records %+v, %v; want the 2/s rate not run and the latency case measured", recs, err)
	}
}

// TestBenchRunDirectories: runs started together get a directory each, and
// -out refuses a directory holding a run's records unless -force.
func TestBenchRunDirectories(t *testing.T) {
	cwd := t.TempDir()
	args := quickBench("-transports", "pipe", "-modes", "latency", "-count", "50", noFigureFiles)
	var cmds []*exec.Cmd
	for range 3 {
		cmd := cliCommand(t, args...)
		cmd.Dir = cwd
		var e strings.Builder
		cmd.Stdout, cmd.Stderr = new(strings.Builder), &e
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer testmain.CmdWatchdog(t, cmd, 5*time.Minute).Stop()
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("bench: %v, %s", err, cmd.Stderr)
		}
	}
	runs, err := os.ReadDir(filepath.Join(cwd, "results"))
	if err != nil || len(runs) != 3 {
		t.Fatalf("3 runs made %v (%v); want 3 directories", runs, err)
	}
	for _, d := range runs {
		if n := lines(t, filepath.Join(cwd, "results", d.Name(), record.RecordsFile)); n != 1 {
			t.Errorf("%s holds %d records, want its own 1", d.Name(), n)
		}
	}

	dir := t.TempDir()
	out := append(append([]string{}, args...), "-out", dir)
	if _, errOut, code := runCLI(t, "", out...); code != 0 {
		t.Fatalf("bench -out: exit %d, %s", code, errOut)
	}
	before, _ := os.ReadFile(filepath.Join(dir, record.RecordsFile))
	if _, errOut, code := runCLI(t, "", out...); code != 1 || !strings.Contains(errOut, "already holds the records of a run") || !strings.Contains(errOut, "-force") {
		t.Fatalf("a second run into %s: exit %d, %q; want a refusal naming -force", dir, code, errOut)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, record.RecordsFile)); !bytes.Equal(before, after) {
		t.Fatal("the refused run changed the records")
	}
	forced := append(append([]string{}, out...), "-runs", "2", "-force")
	if _, errOut, code := runCLI(t, "", forced...); code != 0 {
		t.Fatalf("bench -force: exit %d, %s", code, errOut)
	}
	if n := lines(t, filepath.Join(dir, record.RecordsFile)); n != 2 {
		t.Fatalf("after -force the directory holds %d records, want the new run's 2", n)
	}
	if _, errOut, code := runCLI(t, "", quickBench("-force")...); code != 2 || !strings.Contains(errOut, "-force replaces") {
		t.Errorf("-force without -out: exit %d, %q", code, errOut)
	}
	if help, _, code := runCLI(t, "", "bench", "-h"); code != 0 || strings.Contains(help, "testing-") || !strings.Contains(help, "-force") {
		t.Errorf("bench -h shows the test-only flags, or not -force:\n%s", help)
	}
}

// TestBenchBatch: -batch adds, beside each raw shared-memory throughput
// case, one that sends through SendBatch; the receiver checks every byte
// of both, and the pipe, which cannot batch, gets no such case.
func TestBenchBatch(t *testing.T) {
	out, errOut, code := runCLI(t, "", quickBench("-transports", "sysvshm-spin,pipe", "-modes", "throughput", "-batch", "16",
		"-out", t.TempDir(), "-format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	batched := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r record.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if r.MsgsPerSec <= 0 {
			t.Errorf("%s batch %d: no rate", r.Transport, r.Batch)
		}
		batched[fmt.Sprintf("%s/%d", r.Transport, r.Batch)]++
	}
	if want := map[string]int{"sysvshm-spin/0": 1, "sysvshm-spin/16": 1, "pipe/0": 1}; !maps.Equal(batched, want) {
		t.Errorf("cases %v, want %v", batched, want)
	}
	if _, errOut, code := runCLI(t, "", "bench", "-batch", "-1"); code != 2 || !strings.Contains(errOut, "-batch") {
		t.Errorf("-batch -1: exit %d, %q", code, errOut)
	}
}

// TestBenchHeld: -held measures, beside each raw case of a transport that
// can hold its waits, a case where both Go ends do, in two real processes;
// its records say so, the summary shows it as its own row, and
// a transport with nothing to hold (spinning shared memory) gets no such
// case.
func TestBenchHeld(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI(t, "", quickBench("-transports", "pipe,sysvmsg,sysvshm-spin", "-held", "-out", dir, "-format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	cases := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r record.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if r.Mode == "latency" && (r.RTT == nil || r.RTT.N == 0) || r.Mode == "throughput" && r.MsgsPerSec <= 0 {
			t.Errorf("%s %s %s held %v: nothing measured", r.Transport, r.Impl, r.Mode, r.HeldWaits)
		}
		cases[fmt.Sprintf("%s/%s/%s/%v", r.Transport, r.Mode, r.Impl, r.HeldWaits)]++
	}
	for _, tr := range []string{"pipe", "sysvmsg"} {
		for _, m := range []string{"latency", "throughput"} {
			if k := tr + "/" + m + "/go/true"; cases[k] != 1 {
				t.Errorf("no held case %s in %v", k, cases)
			}
		}
	}
	for k := range cases {
		if strings.HasPrefix(k, "sysvshm-spin/") && strings.HasSuffix(k, "/true") {
			t.Errorf("a held case for spinning shared memory: %s", k)
		}
	}
	summary, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^pipe held +64 B`).Match(summary) {
		t.Errorf("summary has no 'pipe held' row:\n%s", summary)
	}
}

// TestBenchCPoll: -baseline c,c-poll measures, beside the plain C case,
// the C baseline waiting in ppoll for a mechanism with a descriptor (pipe),
// not for one without (sysvmsg); its records count the waits and the
// summary sets Go beside it in a table of its own. A list it does not know
// is a usage error.
func TestBenchCPoll(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc, no C baseline (.ci/run installs it)")
	}
	dir := t.TempDir()
	out, errOut, code := runCLI(t, "", "bench", "-transports", "pipe,sysvmsg", "-sizes", "64", "-modes", "latency",
		"-count", "200", "-runs", "1", "-baseline", "c,c-poll", "-out", dir)
	if code != 0 {
		t.Fatalf("bench exit %d: %s", code, errOut)
	}
	recs, err := record.ReadJSONL(filepath.Join(dir, record.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, r := range recs {
		cases = append(cases, r.Transport+" "+r.Impl)
		// Not both sides: unpinned, the two may share a CPU, and then the
		// side that wakes the other can be preempted by it at once and
		// find its next message there when it reads (a one-CPU round trip
		// of 2.8 us on this project's VM, where the receiver never waited).
		if r.Impl == record.ImplCPoll && (r.RTT == nil || r.RTT.N != record.RTTSamples(200) || r.Sender.PollWaits+r.Receiver.PollWaits == 0) {
			t.Errorf("c-poll record: rtt %+v, poll waits %d and %d; want 200 round trips, and waits counted", r.RTT, r.Sender.PollWaits, r.Receiver.PollWaits)
		}
	}
	if want := []string{"pipe go", "pipe c", "pipe c-poll", "sysvmsg go", "sysvmsg c"}; !slices.Equal(cases, want) {
		t.Errorf("cases %q, want %q", cases, want)
	}
	if !strings.Contains(out, "Go beside C waiting in ppoll") {
		t.Errorf("no Go-beside-C-ppoll table in the summary:\n%s", out)
	}
	if _, errOut, code := runCLI(t, "", "bench", "-baseline", "c-pol"); code != 2 || !strings.Contains(errOut, "c,c-poll") {
		t.Errorf("-baseline c-pol: exit %d, %q; want a usage error naming the choices", code, errOut)
	}
}
