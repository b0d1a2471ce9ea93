package peerproc_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Main(m) }

func init() {
	peerproc.Register("peerproc-late-lines", func([]string) error {
		time.Sleep(300 * time.Millisecond)
		fmt.Println("first")
		fmt.Println("second")
		return nil
	})
	peerproc.Register("peerproc-many-lines", func([]string) error {
		for i := 0; i < 100; i++ {
			fmt.Println("line", i)
		}
		return nil
	})
}

// TestReadLineKeepsALateLine: a line printed after a ReadLine gave up is
// the next ReadLine's, not lost to the reader the first one left behind
// (which also raced the next one on the same buffer).
func TestReadLineKeepsALateLine(t *testing.T) {
	p, err := peerproc.Start("peerproc-late-lines", nil, peerproc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Wait(time.Minute)
	if s, err := p.ReadLine(10 * time.Millisecond); err == nil {
		t.Fatalf("ReadLine before the peer printed: %q, want a timeout", s)
	}
	for _, want := range []string{"first", "second"} {
		s, err := p.ReadLine(time.Minute)
		if err != nil || s != want {
			t.Fatalf("ReadLine: %q, %v; want %q", s, err, want)
		}
	}
	if s, err := p.ReadLine(time.Minute); err == nil {
		t.Fatalf("ReadLine after the peer's last line: %q, want end of file", s)
	}
}

// TestWaitEndsTheReader: a child that printed more lines than anyone read
// leaves no reader behind once Wait returns (it used to stay blocked on
// its full channel of lines for good), and Kill likewise.
func TestWaitEndsTheReader(t *testing.T) {
	for _, kill := range []bool{false, true} {
		p, err := peerproc.Start("peerproc-many-lines", nil, peerproc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s, err := p.ReadLine(time.Minute); err != nil || s != "line 0" {
			p.Kill()
			t.Fatalf("ReadLine: %q, %v; want %q", s, err, "line 0")
		}
		if kill {
			p.Kill()
		} else if err := p.Wait(time.Minute); err != nil {
			t.Fatal(err)
		}
		// The reader closes readDone in a deferred call, so Wait can return
		// while its goroutine is on its way out (seen in CI: runnable at the
		// function's closing brace). One that is still there after 10 s is
		// stuck, not leaving.
		if g := readerLeft(10 * time.Second); g != "" {
			t.Fatalf("kill %v: a reader of the peer's stdout outlived Wait/Kill:\n%s", kill, g)
		}
		if s, err := p.ReadLine(time.Minute); err == nil && !strings.HasPrefix(s, "line ") {
			t.Fatalf("ReadLine after Wait: %q, want a line the child printed or an error", s)
		}
	}
}

// readerLeft returns the stack of a goroutine still running a method of
// Proc once limit has passed, or "" as soon as there is none.
func readerLeft(limit time.Duration) string {
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(limit); ; time.Sleep(5 * time.Millisecond) {
		left := ""
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "internal/peerproc.(*Proc).") {
				left = g
			}
		}
		if left == "" || time.Now().After(deadline) {
			return left
		}
	}
}
