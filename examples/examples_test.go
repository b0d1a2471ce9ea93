package examples_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/examples/line"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	testmain.MainWith(m, testmain.Options{PrivateDevShm: true})
}

// pairing runs one exchange with x as the writing side and y as the
// reading side, in a fresh directory holding the key files.
type pairing func(t *testing.T, dir string, x, y impl)

var pairings = []struct {
	name string
	fn   pairing
}{
	{"line", pairLine},
	{"forkshm", pairForkShm},
	{"msgq", pairMsgq},
	{"mqueue", pairMqueue},
	{"ftokshm", pairFtokShm},
	{"shmstat", pairShmStat},
}

// TestPairings runs every example with every pairing of implementations:
// Go→C, C→Go, Go→Go and C→C, writer first.
func TestPairings(t *testing.T) {
	testmain.Watchdog(t, 3*time.Minute)
	goImpl, cImpl := buildAll(t)
	impls := []impl{goImpl, cImpl}
	for _, p := range pairings {
		for _, x := range impls {
			for _, y := range impls {
				t.Run(fmt.Sprintf("%s/%s-to-%s", p.name, x.lang, y.lang), func(t *testing.T) {
					before := objects(t)
					dir := t.TempDir()
					if err := os.WriteFile(filepath.Join(dir, "ipc1"), nil, 0o600); err != nil {
						t.Fatal(err)
					}
					p.fn(t, dir, x, y)
					noLeaks(t, before)
				})
			}
		}
	}
	// The two programs that are whole in one process, as the seeds run them.
	for _, x := range impls {
		t.Run("forkshm-both/"+x.lang, func(t *testing.T) {
			before := objects(t)
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "ipc1"), nil, 0o600)
			out := run(t, dir, x.bin("forkshm"), "both", "2", "20")
			if rows := checkRows(t, out); len(rows) != 20 {
				t.Fatalf("%d rows, want 20:\n%s", len(rows), strings.Join(out, "\n"))
			}
			if !contains(out, "Soy el hijo y termino.....") {
				t.Fatalf("the producer did not finish:\n%s", strings.Join(out, "\n"))
			}
			noLeaks(t, before)
		})
		t.Run("shmstat-alone/"+x.lang, func(t *testing.T) {
			before := objects(t)
			out := run(t, t.TempDir(), x.bin("shmstat"))
			checkShmStat(t, out, -1)
			if out[len(out)-1] != "removed" {
				t.Fatalf("segment not removed:\n%s", strings.Join(out, "\n"))
			}
			noLeaks(t, before)
		})
	}
}

// pairLine: x is cline, y is pline (seed 000).
func pairLine(t *testing.T, dir string, x, y impl) {
	// Without pline there is no segment: cline says so and fails.
	if out, err := runFail(t, dir, x.bin("cline"), "x", "20"); !strings.Contains(out, "shmget") {
		t.Fatalf("cline with no segment: %v, %q; want a shmget error", err, out)
	}
	pline := start(t, dir, y.bin("pline"), "10")
	pline.expectLine(t, "aaaaaaaaaa")
	run(t, dir, x.bin("cline"), "x", "20")
	// A line may mix the old length with the new character (cline writes the
	// two fields one after the other), but never anything else.
	pline.expect(t, "20 x's", func(l string) bool {
		if l != strings.Repeat("a", 10) && l != strings.Repeat("x", 10) && l != strings.Repeat("x", 20) {
			t.Fatalf("pline printed %q between aaaaaaaaaa and 20 x's", l)
		}
		return l == strings.Repeat("x", 20)
	})
	run(t, dir, x.bin("cline"), "f", "0")
	pline.wait(t)
	if _, err := unix.SysvShmGet(line.Key, 0, 0); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("segment 1234 after pline ended: %v, want ENOENT (pline removes it)", err)
	}
}

// pairForkShm: x is the producer, y the consumer (seed 001).
func pairForkShm(t *testing.T, dir string, x, y impl) {
	// One after the other: the consumer finds every value the producer wrote.
	out := run(t, dir, x.bin("forkshm"), "producer", "1")
	if !contains(out, "Soy el hijo y termino.....") {
		t.Fatalf("producer:\n%s", strings.Join(out, "\n"))
	}
	out = run(t, dir, y.bin("forkshm"), "consumer", "1", "2")
	for _, k := range checkRows(t, out) {
		if k != 10 {
			t.Fatalf("the consumer saw %d of the 10 values:\n%s", k, strings.Join(out, "\n"))
		}
	}
	// At the same time, on one semaphore: the consumer starts once the
	// producer holds both objects, so its removal at the end cannot make the
	// producer create them anew. Each row it prints must be a state the
	// producer went through.
	producer := start(t, dir, x.bin("forkshm"), "producer", "5")
	producer.expect(t, "its pid", func(l string) bool { return strings.HasPrefix(l, "Soy el hijo con PID") })
	out = run(t, dir, y.bin("forkshm"), "consumer", "1", "40")
	if rows := checkRows(t, out); len(rows) != 40 {
		t.Fatalf("%d rows, want 40", len(rows))
	}
	producer.wait(t)
}

var rowRE = regexp.MustCompile(`^(\s*-?\d+ ){10}$`)

// checkRows parses the consumer's rows and returns, for each, how many of
// data[0..9] = 0..9 the producer had written; it fails on a row no state
// of the producer explains, or on rows that go backwards.
func checkRows(t *testing.T, out []string) []int {
	t.Helper()
	var written []int
	for _, l := range out {
		if !rowRE.MatchString(l) {
			continue
		}
		f := strings.Fields(l)
		k := 1 // data[0] = 0 looks the same written or not
		for k < 10 && f[k] == strconv.Itoa(k) {
			k++
		}
		for j := k; j < 10; j++ {
			if f[j] != "0" {
				t.Fatalf("row %q: value %s at %d after an unwritten one", l, f[j], j)
			}
		}
		if n := len(written); n > 0 && k < written[n-1] {
			t.Fatalf("rows went backwards:\n%s", strings.Join(out, "\n"))
		}
		written = append(written, k)
	}
	return written
}

// pairMsgq: x sends, y receives by mtype (seed 001's message queues).
func pairMsgq(t *testing.T, dir string, x, y impl) {
	keyfile := filepath.Join(dir, "ipc1")
	want, err := sysipc.Ftok(keyfile, 1300)
	if err != nil {
		t.Fatal(err)
	}
	if low, _ := sysipc.Ftok(keyfile, 1300&0xff); low != want {
		t.Fatalf("ftok(%d) = %s but ftok(%d) = %s: only the low 8 bits count", 1300, want, 1300&0xff, low)
	}
	sent := run(t, dir, x.bin("msgq"), "send", keyfile, "1300", "3", "tres", "1", "uno", "2", "dos", "7", "siete")
	got := run(t, dir, y.bin("msgq"), "recv", keyfile, "1300", "-3", "3")
	got = append(got, run(t, dir, y.bin("msgq"), "recv", keyfile, "20", "7", "1", "rm")...) // 20 = 1300 & 0xff
	for _, out := range [][]string{sent, got} {
		if out[0] != "key="+want.String() {
			t.Fatalf("key line %q, want key=%s", out[0], want)
		}
	}
	assertLines(t, got, "received mtype=1 mtext=uno", "received mtype=2 mtext=dos",
		"received mtype=3 mtext=tres", "received mtype=7 mtext=siete")
	// A receiver blocked on type 5 is woken by the sender's type-5 message
	// and skips the type-1 one; rm removes the queue with it.
	recv := start(t, dir, y.bin("msgq"), "recv", keyfile, "1300", "5", "1", "rm")
	recv.expectLine(t, "key="+want.String())
	run(t, dir, x.bin("msgq"), "send", keyfile, "1300", "1", "uno", "5", "cinco")
	recv.expectLine(t, "received mtype=5 mtext=cinco")
	recv.wait(t)
}

// pairMqueue: x sends with priorities, y receives (seed 001's POSIX queues).
func pairMqueue(t *testing.T, dir string, x, y impl) {
	sent := run(t, dir, x.bin("mqueue"), "send", "/lab", "1", "baja", "9", "alta", "5", "media", "5", "media-2")
	assertLines(t, sent, "sent prio=1 text=baja", "sent prio=9 text=alta", "mq_maxmsg=8 mq_msgsize=128 mq_curmsgs=4")
	got := run(t, dir, y.bin("mqueue"), "recv", "/lab", "4", "unlink")
	want := []string{"mq_maxmsg=8 mq_msgsize=128 mq_curmsgs=4", "received prio=9 text=alta",
		"received prio=5 text=media", "received prio=5 text=media-2", "received prio=1 text=baja"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("receiver printed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := sysipc.MqOpen("/lab", unix.O_RDONLY, 0, nil); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("queue /lab after recv ... unlink: %v, want ENOENT", err)
	}
}

// pairFtokShm: x serves the segment, y reads it (seeds 002 and 003).
func pairFtokShm(t *testing.T, dir string, x, y impl) {
	keyfile := filepath.Join(dir, "ipc1")
	want, _ := sysipc.Ftok(keyfile, 1300)
	server := start(t, dir, x.bin("ftokshm"), "serve", keyfile, "1300")
	server.expectLine(t, "key="+want.String())
	server.expect(t, "ready", func(l string) bool { return strings.HasPrefix(l, "ready id=") })
	// 1300 + 256 has the same low 8 bits: the same key, the same segment.
	got := run(t, dir, y.bin("ftokshm"), "read", keyfile, "1556")
	assertLines(t, got, "key="+want.String(), "0 1 2 3 4 5 6 7 8 9 ")
	// A second exclusive create under the key fails, as IPC_EXCL promises.
	if out, err := runFail(t, dir, y.bin("ftokshm"), "serve", keyfile, "1300"); !strings.Contains(out, "shmget") {
		t.Fatalf("second serve: %v, %q; want a shmget failure", err, out)
	}
	fmt.Fprintln(server.stdin)
	server.expectLine(t, "removed")
	server.wait(t)
}

// pairShmStat: x creates the private segment, y attaches it by id (seed 004).
func pairShmStat(t *testing.T, dir string, x, y impl) {
	creator := start(t, dir, x.bin("shmstat"), "create")
	idLine := creator.expect(t, "the id", func(l string) bool { return strings.HasPrefix(l, "id=") })
	got := run(t, dir, y.bin("shmstat"), "attach", strings.TrimPrefix(idLine, "id="))
	checkShmStat(t, got, creator.cmd.Process.Pid)
	fmt.Fprintln(creator.stdin)
	creator.expectLine(t, "removed")
	creator.wait(t)
}

// checkShmStat checks what IPC_STAT and the re-attach printed; creator < 0
// means the program checked itself (its pid is not known here).
func checkShmStat(t *testing.T, out []string, creator int) {
	t.Helper()
	assertLines(t, out, "segment size: 25600", "shared memory reattached at address 0x5000000", "Hello, world")
	if creator > 0 {
		assertLines(t, out, fmt.Sprintf("creator pid: %d", creator))
	}
}

// assertLines fails unless every want is one of the lines, in this order.
func assertLines(t *testing.T, lines []string, want ...string) {
	t.Helper()
	i := 0
	for _, l := range lines {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("missing %q (in order) in:\n%s", want[i], strings.Join(lines, "\n"))
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// runFail runs a program expected to fail and returns its output.
func runFail(t *testing.T, dir, bin string, args ...string) (string, error) {
	t.Helper()
	p := start(t, dir, bin, args...)
	select {
	case <-p.done:
	case <-time.After(stepTimeout):
		t.Fatalf("%s did not exit within %v", p.name, stepTimeout)
	}
	if p.err == nil {
		t.Fatalf("%s succeeded; it should have failed:\n%s", p.name, p.output())
	}
	return p.output(), p.err
}
