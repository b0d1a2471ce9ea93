package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/record"
	"golang.org/x/sys/unix"
)

const (
	envMain     = "IPCLAB_TEST_RUN_MAIN"
	envNoMqueue = "IPCLAB_TEST_RLIMIT_MSGQUEUE_0"
)

// TestMain lets the test binary play the ipclab command, so the tests run
// the real CLI, peers and all, under the leak check.
func TestMain(m *testing.M) {
	if os.Getenv(envMain) == "1" {
		if os.Getenv(envNoMqueue) == "1" {
			// A real kernel limit for TestBenchGoesOnAfterFailures: no
			// byte of POSIX queue for this process (lowering needs no
			// privilege).
			var lim unix.Rlimit
			unix.Getrlimit(unix.RLIMIT_MSGQUEUE, &lim)
			lim.Cur = 0
			if err := unix.Setrlimit(unix.RLIMIT_MSGQUEUE, &lim); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
		}
		main()
		os.Exit(0)
	}
	// A private /dev/shm: posixshm's objects are checked for leaks too.
	testmain.MainWith(m, testmain.Options{PrivateDevShm: true})
}

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIIn(t, "", stdin, args...)
}

// runCLIIn runs the CLI in directory dir ("": this one), under a watchdog.
func runCLIIn(t *testing.T, dir, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := cliCommand(t, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer testmain.CmdWatchdog(t, cmd, 5*time.Minute).Stop()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// cliCommand is the ipclab command: this test binary, playing it.
func cliCommand(t *testing.T, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), envMain+"=1")
	if os.Getenv("GORACE") == "" {
		// As peerproc does for peers: a -race binary otherwise sleeps a
		// second at each exit with status 0, once per command run here.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	return cmd
}

func TestBenchWritesRecordsAndPlots(t *testing.T) {
	dir := t.TempDir()
	names := []string{"pipe", "fifo", "sysvmsg", "posixmq", "sysvshm-futex", "sysvshm-sysvsem", "sysvshm-spin",
		"posixshm-futex", "posixshm-posixsem", "posixshm-spin", "posixshm-eventfd",
		"unixsock-stream", "unixsock-seqpacket", "unixsock-dgram", "tcp"}
	args := []string{"bench", "-count", "200", "-bytes", "256K", "-runs", "1", "-sizes", "64,16K", "-out", dir}
	if testing.Short() {
		// One transport of each family (CI's race run, where every peer
		// is a race-detector binary: 87 s for all 15); the plain run
		// covers every default.
		names = []string{"pipe", "posixmq", "sysvshm-futex", "posixshm-eventfd", "unixsock-dgram", "tcp"}
		args = append(args, "-transports", strings.Join(names, ","))
	}
	out, errOut, code := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("bench exit %d: %s", code, errOut)
	}
	recs, err := record.ReadJSONL(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Every transport has a C baseline, measured when gcc is there.
	impls := 2
	if _, err := exec.LookPath("gcc"); err != nil {
		impls = 1
		if !strings.Contains(errOut, "gcc not found") {
			t.Errorf("without gcc, bench should say it measures Go only: %s", errOut)
		}
	}
	if len(recs) != len(names)*2*2*impls {
		t.Fatalf("%d records, want %d (transports x sizes x modes x implementations)", len(recs), len(names)*2*2*impls)
	}
	perImpl := map[string]int{}
	for _, r := range recs {
		perImpl[r.Impl]++
		switch {
		case r.Impl != "go" && r.Impl != "c":
			t.Fatalf("record of impl %q", r.Impl)
		case r.Env == nil || r.Env.Kernel == "" || r.Env.Limits["kernel.msgmax"] == "":
			t.Fatalf("record without its environment: %+v", r)
		case r.Size == 16<<10 && (r.Transport == "sysvmsg" || r.Transport == "posixmq"):
			if !strings.Contains(r.Skipped, "sysctl -w") {
				t.Errorf("%s 16K: skipped %q, want the limit and how to raise it", r.Transport, r.Skipped)
			}
		case r.Skipped != "":
			t.Errorf("%s %d %s skipped: %s", r.Transport, r.Size, r.Mode, r.Skipped)
		case r.Mode == bench.Latency && (r.RTT == nil || r.RTT.N != record.RTTSamples(200) || r.RTT.P50 <= 0 || r.OneWay == nil || r.OneWay.N != 200/record.OneWayEvery):
			t.Errorf("%s %d latency: %+v", r.Transport, r.Size, r.RTT)
		case r.Mode == bench.Throughput && (r.MBPerSec <= 0 || r.Receiver.PID == 0 || r.Receiver.PID == r.Sender.PID):
			t.Errorf("%s %d throughput: %.1f MB/s, sender pid %d, receiver pid %d", r.Transport, r.Size, r.MBPerSec, r.Sender.PID, r.Receiver.PID)
		}
	}
	if impls == 2 {
		if perImpl["go"] != perImpl["c"] || !strings.Contains(out, "Go/C") {
			t.Errorf("records per impl %v; summary:\n%s", perImpl, out)
		}
		if st, err := os.Stat(filepath.Join(dir, "go_vs_c.png")); err != nil || st.Size() == 0 {
			t.Errorf("go_vs_c.png: %v", err)
		}
	}
	for _, f := range []string{"results.csv", "latency_vs_size.png", "latency_vs_size.svg", "throughput_vs_size.png", "latency_cdf_64B.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, n := range names {
		if !strings.Contains(out, n) {
			t.Errorf("summary has no row for %s:\n%s", n, out)
		}
	}
	// All of stdout fits 100 columns (the tables, the clock, the floor),
	// but the line naming the results directory, as long as its path.
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > record.TextWidth && !strings.Contains(l, dir) {
			t.Errorf("a %d-column line on stdout: %q", n, l)
		}
	}
	// ipclab plot redraws from the records alone.
	os.Remove(filepath.Join(dir, "latency_vs_size.png"))
	if _, errOut, code := runCLI(t, "", "plot", dir); code != 0 {
		t.Fatalf("plot: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "latency_vs_size.png")); err != nil {
		t.Fatalf("plot did not redraw: %v", err)
	}
	// bench wrote the report; ipclab report writes it again from the
	// records, and the other files derived from them.
	for _, f := range []string{"report.html", "report.md"} {
		path := filepath.Join(dir, f)
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), "Summary") || (f == "report.md" && !strings.Contains(string(b), "latency_vs_size.svg")) {
			t.Fatalf("%s after bench: %v\n%.300s", f, err, b)
		}
		os.Remove(path)
	}
	summary, _ := os.ReadFile(filepath.Join(dir, "summary.txt"))
	for _, f := range []string{"summary.txt", "summary.md", "results.csv", "results.bench"} {
		os.Remove(filepath.Join(dir, f))
	}
	out, errOut, code = runCLI(t, "", "report", dir)
	if code != 0 || !strings.Contains(out, filepath.Join(dir, "report.html")) {
		t.Fatalf("report: exit %d: %s%s", code, out, errOut)
	}
	if html, err := os.ReadFile(filepath.Join(dir, "report.html")); err != nil || !strings.Contains(string(html), `<img src="data:image/svg`) {
		t.Fatalf("report.html from ipclab report: %v, no inline figure", err)
	}
	for _, f := range []string{"summary.md", "results.csv", "results.bench"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("ipclab report did not write %s again: %v", f, err)
		}
	}
	if again, err := os.ReadFile(filepath.Join(dir, "summary.txt")); err != nil || string(again) != string(summary) {
		t.Errorf("summary.txt from ipclab report differs from bench's (%v):\n%s\n---\n%s", err, again, summary)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frob"}, 2, `unknown command "frob"`},
		{nil, 2, "usage"},
		{[]string{"send", "bogus:x"}, 1, "unknown transport bogus"},
		{[]string{"send", "sysvmsg:key=zz"}, 1, "key must be"},
		{[]string{"send", "posixmq:/ipclab-nothing-here"}, 1, "no POSIX message queue"},
		// A wrong command line exits 2 with one line and where the usage is.
		{[]string{"send"}, 2, "want one address"},
		{[]string{"bench", "-count", "0"}, 2, "must be 1 or more"},
		{[]string{"bench", "-nope"}, 2, "flag provided but not defined"},
		{[]string{"bench", "-sizs", "4"}, 2, "(did you mean -sizes?)"},
		{[]string{"bnech"}, 2, "(did you mean bench?)"},
		{[]string{"bench", "-transports", "carrier-pigeon"}, 2, "unknown transport"},
		{[]string{"bench", "-sizes", "12Q"}, 2, "is not a size"},
		{[]string{"bench", "-sizes", "4KB"}, 2, "KB and MB are ambiguous"},
		{[]string{"bench", "-bytes", "0"}, 2, "nothing to stream"},
		{[]string{"bench", "-modes", "load", "-rates", "10kk"}, 2, "is not a rate"},
		{[]string{"bench", "-transports", "pipe", "-modes", "fanin"}, 2, "no case to run"},
		{[]string{"bench", "-pin", "left"}, 2, "unknown placement"},
		{[]string{"bench", "-modes", "vibes"}, 2, "unknown mode"},
		{[]string{"bench", "-case-timeout", "0s"}, 2, "-case-timeout must be positive"},
		{[]string{"plot"}, 2, "want one results directory"},
		{[]string{"recv", "pipe"}, 2, "anonymous pipe"},
		{[]string{"plot", "/nonexistent"}, 1, "no results.jsonl"},
	}
	for _, c := range cases {
		_, errOut, code := runCLI(t, "", c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("ipclab %q: exit %d, stderr %q; want exit %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	// Help is on stdout and exits 0, like every tool a person pipes to less.
	for _, cmd := range []string{"bench", "plot", "send", "recv", "limits", "floor", "compare", "report", "ls", "clean", "lab"} {
		if out, errOut, code := runCLI(t, "", cmd, "-h"); code != 0 || !strings.Contains(out, "usage: ipclab "+cmd) || errOut != "" {
			t.Errorf("ipclab %s -h: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
	}
	if out, _, code := runCLI(t, "", "--version"); code != 0 || !strings.HasPrefix(out, "ipclab ") {
		t.Errorf("ipclab --version: exit %d, %q", code, out)
	}
	if out, _, code := runCLI(t, "", "limits"); code != 0 || !strings.Contains(out, "kernel.msgmnb") || !strings.Contains(out, "how far a sender runs ahead") {
		t.Errorf("ipclab limits says nothing of what each limit bounds: exit %d, %q", code, out)
	}
}

func TestSendRecvTwoProcesses(t *testing.T) {
	exe, _ := os.Executable()
	addr := "posixmq:/ipclab-cli-test"
	recv := exec.Command(exe, "recv", addr)
	recv.Env = append(os.Environ(), envMain+"=1")
	var out strings.Builder
	recv.Stdout = &out
	errPipe, _ := recv.StderrPipe()
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 256)
	n, _ := errPipe.Read(line) // "waiting on ..." once the channel exists
	if !strings.Contains(string(line[:n]), "waiting on "+addr) {
		t.Fatalf("recv said %q", line[:n])
	}
	if _, errOut, code := runCLI(t, "uno\ndos\n", "send", addr); code != 0 {
		t.Fatalf("send: exit %d: %s", code, errOut)
	}
	// recv runs until the sender closes: it must exit by itself, and
	// remove its queues (the leak check sees any left).
	done := make(chan error, 1)
	go func() { done <- recv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("recv after the sender closed: %v", err)
		}
	case <-time.After(10 * time.Second): // a correctness bound, generous
		recv.Process.Signal(os.Interrupt)
		t.Fatalf("recv still running 10s after the sender closed (Ctrl-C sent): %v", <-done)
	}
	if out.String() != "prio=0 uno\nprio=0 dos\n" { // a POSIX queue: recv shows each priority
		t.Fatalf("recv printed %q", out.String())
	}

	// Ctrl-C while it waits: recv ends and removes its queues.
	recv = exec.Command(exe, "recv", addr)
	recv.Env = append(os.Environ(), envMain+"=1")
	errPipe, _ = recv.StderrPipe()
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	if n, _ = errPipe.Read(line); !strings.Contains(string(line[:n]), "waiting on "+addr) {
		t.Fatalf("recv said %q", line[:n])
	}
	recv.Process.Signal(os.Interrupt)
	if err := recv.Wait(); err != nil {
		t.Fatalf("recv after Ctrl-C: %v", err)
	}
	if _, errOut, code := runCLI(t, "", "send", addr); code != 1 || !strings.Contains(errOut, "no POSIX message queue") {
		t.Fatalf("send after recv's Ctrl-C: exit %d, %q; want its queues gone", code, errOut)
	}
}

// TestLsAndCleanRemoveOnlyOrphans: receivers killed with SIGKILL leave
// their channels behind; ls lists them as orphans, clean removes them and
// nothing else (a queue ipclab did not create survives).
func TestLsAndCleanRemoveOnlyOrphans(t *testing.T) {
	foreign, err := sysipc.Msgget(sysipc.IPCPrivate, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer sysipc.MsgctlRemove(foreign)
	fifo := filepath.Join(os.TempDir(), "orphan")
	addrs := []string{"sysvmsg:key=0x7e570001", "posixmq:/ipclab-orphan-test", "sysvshm:key=0x7e570002,wait=sysvsem", "fifo:" + fifo}
	exe, _ := os.Executable()
	for _, a := range addrs {
		cmd := exec.Command(exe, "recv", a)
		cmd.Env = append(os.Environ(), envMain+"=1")
		errPipe, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 256)
		if n, _ := errPipe.Read(buf); !strings.Contains(string(buf[:n]), "waiting on") {
			t.Fatalf("recv %s said %q", a, buf[:n])
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	out, errOut, code := runCLI(t, "", "ls")
	if code != 0 {
		t.Fatalf("ls: %s", errOut)
	}
	for _, want := range []string{"sysvmsg id=", "key=0x7e570001", "posixmq /ipclab-orphan-test.1", "posixmq /ipclab-orphan-test.2",
		"sysvshm id=", "key=0x7e570002", "sysvsem id=", "fifo " + fifo + ".1", "fifo " + fifo + ".2"} {
		if !strings.Contains(out, want) {
			t.Errorf("ls does not show %q:\n%s", want, out)
		}
	}
	if strings.Count(out, " orphan ") != 7 || strings.Contains(out, fmt.Sprintf("sysvmsg id=%d ", foreign)) {
		t.Errorf("ls should show 7 orphans and not the foreign queue %d:\n%s", foreign, out)
	}
	out, errOut, code = runCLI(t, "", "clean")
	if code != 0 || !strings.Contains(out, "7 object(s) removed") {
		t.Fatalf("clean: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, _ := runCLI(t, "", "ls"); !strings.Contains(out, "no IPC objects created by ipclab") {
		t.Fatalf("ls after clean:\n%s", out)
	}
	if _, err := sysipc.MsgctlStat(foreign); err != nil {
		t.Fatalf("clean removed a queue ipclab did not create: %v", err)
	}
	if _, err := os.Lstat(fifo + ".1"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("FIFO still there after clean: %v", err)
	}
}

// compare finds a deliberately slowed case, says it is slower, and
// nothing else changed. 5 runs a side: with 4 figures tested (p50 and
// p99 of two transports) and two changed, 4 runs (p >= 0.029) cannot
// pass the Benjamini–Hochberg correction at 0.05.
func TestCompareFindsTheSlowedCase(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	common := []string{"bench", "-runs", "5", "-count", "200", "-modes", "latency", "-sizes", "64", "-transports", "pipe,sysvshm-spin", "-baseline", "none", noFigureFiles}
	for _, dir := range []string{a, b} {
		args := append(append([]string{}, common...), "-out", dir)
		if dir == b {
			args = append(args, "-testing-delay", "pipe=1ms")
		}
		if _, errOut, code := runCLI(t, "", args...); code != 0 {
			t.Fatalf("bench: exit %d: %s", code, errOut)
		}
	}
	out, errOut, code := runCLI(t, "", "compare", a, b)
	if code != 0 {
		t.Fatalf("compare: exit %d: %s", code, errOut)
	}
	found := false
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "pipe 64 B latency ") || !strings.Contains(line, " p50 ") {
			continue
		}
		found = true
		if !strings.Contains(line, "× slower") {
			t.Errorf("a 1 ms delay per round trip of ~50 µs is not said to be many times slower:\n%s", out)
		}
	}
	if !found {
		t.Fatalf("no pipe p50 row:\n%s", out)
	}
	if !strings.Contains(out, "Benjamini–Hochberg correction over the 4 figures") {
		t.Errorf("the correction and the number of figures tested are not said:\n%s", out)
	}
}

// compare refuses two runs at different placements unless forced, and
// then says so loudly; a differing commit is a warning only; cases of one
// side only are listed.
func TestCompareRefusesDifferentPlacements(t *testing.T) {
	write := func(placement, commit string, transports ...string) string {
		dir := t.TempDir()
		var recs []record.Record
		for _, tr := range transports {
			for run := 1; run <= 5; run++ {
				recs = append(recs, record.Record{Schema: record.SchemaVersion, Run: run, Transport: tr, Impl: "go", Mode: record.Latency,
					Link: "raw", Size: 64, Placement: placement, RTT: &record.Summary{P50: float64(1000 + run), P99: 5000},
					Env: &record.Env{Kernel: "Linux 6.1", CPUModel: "CPU", Commit: commit}})
			}
		}
		if err := record.WriteJSONL(filepath.Join(dir, record.RecordsFile), recs); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	split, same := write("split", "aaa", "pipe", "fifo"), write("same", "aaa", "pipe", "sysvmsg")
	_, errOut, code := runCLI(t, "", "compare", split, same)
	if code != 1 || !strings.Contains(errOut, "placement differs: old split, new same") || !strings.Contains(errOut, "-force") {
		t.Fatalf("different placements: exit %d, %q; want exit 1 naming the placements and -force", code, errOut)
	}
	out, errOut, code := runCLI(t, "", "compare", "-force", split, same)
	if code != 0 || !strings.Contains(out, "WARNING: placement differs") || !strings.Contains(out, "FORCED") {
		t.Fatalf("-force: exit %d, %s%s", code, out, errOut)
	}
	for _, want := range []string{"measured only in OLD, not compared (1):\n  fifo 64 B latency", "measured only in NEW, not compared (1):\n  sysvmsg 64 B latency"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare does not say %q:\n%s", want, out)
		}
	}
	out, errOut, code = runCLI(t, "", "compare", split, write("split", "bbb", "pipe"))
	if code != 0 || !strings.Contains(out, "WARNING: commit differs: old aaa, new bbb (compared anyway") {
		t.Fatalf("another commit: exit %d, %s%s; want a warning and the comparison", code, out, errOut)
	}
}

func TestCompareErrors(t *testing.T) {
	for _, args := range [][]string{{"compare"}, {"compare", t.TempDir()}, {"compare", "-alpha", "2", "a", "b"}, {"compare", t.TempDir(), t.TempDir()}} {
		if _, errOut, code := runCLI(t, "", args...); code == 0 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q; want an error", args, code, errOut)
		}
	}
}

// The load mode paces at the offered rate, measures from the intended
// send times, and stops raising the rate once a transport saturates.
func TestBenchLoad(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := runCLI(t, "", "bench", "-modes", "load", "-rates", "2k,50M,100M", "-sizes", "64", "-transports", "sysvmsg", "-runs", "1", "-out", dir)
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errOut)
	}
	recs, err := record.ReadJSONL(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want one per rate", len(recs))
	}
	slow, fast, beyond := recs[0], recs[1], recs[2]
	// Open loop never sends faster than offered; how close it comes to
	// the offered rate is a speed, which a loaded machine may not reach.
	if slow.OneWay == nil || slow.SendLateness == nil || slow.MsgsPerSec <= 0 || slow.MsgsPerSec > 2200 {
		t.Errorf("2k/s: achieved %.0f/s, one-way %+v", slow.MsgsPerSec, slow.OneWay)
	}
	// No kernel queue carries 50 M messages a second: the shortfall shows,
	// and the latency of the late messages counts their wait.
	if fast.Skipped != "" || fast.MsgsPerSec > 0.9*50e6 || fast.OneWay.P99 < slow.OneWay.P50 {
		t.Errorf("50M/s: achieved %.0f/s, one-way %+v, skipped %q", fast.MsgsPerSec, fast.OneWay, fast.Skipped)
	}
	if !strings.Contains(beyond.Skipped, "saturation") {
		t.Errorf("100M/s after saturation: skipped %q", beyond.Skipped)
	}
	if st, err := os.Stat(filepath.Join(dir, "load_latency.png")); err != nil || st.Size() == 0 {
		t.Errorf("load_latency.png: %v", err)
	}
	if _, errOut, code := runCLI(t, "", "bench", "-modes", "load", "-sizes", "4", "-out", t.TempDir()); code == 0 || !strings.Contains(errOut, "8 bytes") {
		t.Errorf("load with 4-byte messages: exit %d, %s", code, errOut)
	}
}

// Fan-in: every producer's messages arrive, in its order, for 1 to 8
// producers into one consumer, over each mechanism that can fan in.
func TestBenchFanIn(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := runCLI(t, "", "bench", "-modes", "fanin", "-sizes", "64,8K", "-transports", "fifo,sysvmsg,posixmq,sysvshm-futex,pipe", "-runs", "1", "-out", dir)
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errOut)
	}
	recs, err := record.ReadJSONL(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// pipe cannot fan in (an anonymous pipe has two ends); 4 transports x
	// 2 sizes x 4 producer counts.
	if len(recs) != 4*2*4 {
		t.Fatalf("%d records, want 32", len(recs))
	}
	for _, r := range recs {
		switch {
		case r.Size == 8<<10 && (r.Transport == "fifo" || r.Transport == "posixmq" || r.Transport == "sysvmsg"):
			// Beyond PIPE_BUF a FIFO's writes may interleave; the queues' limit is 8 KiB less nothing, so they may run.
			if r.Transport == "fifo" && !strings.Contains(r.Skipped, "PIPE_BUF") {
				t.Errorf("fifo 8K fan-in: skipped %q, want the PIPE_BUF reason", r.Skipped)
			}
		case r.Skipped != "":
			t.Errorf("%s %d producers: skipped %s", r.Transport, r.Producers, r.Skipped)
		case r.Producers < 1 || r.MsgsPerSec <= 0 || r.OrderErrors != 0 || r.Count != 40000/r.Producers*r.Producers:
			t.Errorf("%s %d producers: %.0f msgs/s, %d out of order, count %d", r.Transport, r.Producers, r.MsgsPerSec, r.OrderErrors, r.Count)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "fanin_throughput.png")); err != nil || st.Size() == 0 {
		t.Errorf("fanin_throughput.png: %v", err)
	}
}

// TestSendLongLinesOverSharedMemory: a line longer than a shared-memory
// channel's largest message (64 KiB by default) fails naming the limit and
// how the CLI raises it; recv -max raises it (with a link too).
func TestSendLongLinesOverSharedMemory(t *testing.T) {
	addr := "posixshm:name=/ipclab-cli-max-test"
	long := strings.Repeat("a", 100_000) + "\n"
	recvThen := func(sendArgs []string, stdin string, recvArgs ...string) (recvOut, sendErr string, sendCode int) {
		t.Helper()
		recv := cliCommand(t, append(append([]string{"recv"}, recvArgs...), addr)...)
		var out strings.Builder
		recv.Stdout = &out
		errPipe, _ := recv.StderrPipe()
		if err := recv.Start(); err != nil {
			t.Fatal(err)
		}
		defer testmain.CmdWatchdog(t, recv, time.Minute).Stop()
		line := make([]byte, 256)
		if n, _ := errPipe.Read(line); !strings.Contains(string(line[:n]), "waiting on "+addr) {
			recv.Process.Kill()
			recv.Wait()
			t.Fatalf("recv %q said %q", recvArgs, line[:n])
		}
		_, sendErr, sendCode = runCLI(t, stdin, append(append([]string{"send"}, sendArgs...), addr)...)
		if err := recv.Wait(); err != nil { // the sender closed: recv ends, its channel gone
			t.Fatalf("recv %q after the sender closed: %v", recvArgs, err)
		}
		return out.String(), sendErr, sendCode
	}
	out, errOut, code := recvThen(nil, "short\n"+long)
	if code != 1 || !strings.Contains(errOut, "longer than 65536 bytes") || !strings.Contains(errOut, "ipclab recv -max SIZE "+addr) || out != "short\n" {
		t.Errorf("a 100,000-byte line to a default channel: exit %d, stderr %q, recv printed %d bytes; want exit 1 naming the 65536-byte limit and recv -max, and the short line through", code, errOut, len(out))
	}
	if out, errOut, code = recvThen(nil, long, "-max", "100000"); code != 0 || out != long {
		t.Errorf("a 100,000-byte line to recv -max 100000: exit %d, %q; recv printed %d bytes", code, errOut, len(out))
	}
	if out, errOut, code = recvThen([]string{"-link", "cap-4"}, long, "-link", "cap-4", "-max", "100000"); code != 0 || out != long {
		t.Errorf("a 100,000-byte line over a cap-4 link to recv -max 100000: exit %d, %q; recv printed %d bytes", code, errOut, len(out))
	}
	for _, args := range [][]string{{"-max", "1M", "fifo:/tmp/ipclab-cli-max"}, {"-max", "0", addr}, {"-max", "1MB", addr}} {
		if _, errOut, code := runCLI(t, "", append([]string{"recv"}, args...)...); code != 2 || !strings.Contains(errOut, "-max") {
			t.Errorf("ipclab recv %q: exit %d, %q; want a usage error about -max", args, code, errOut)
		}
	}
}
