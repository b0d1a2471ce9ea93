package pipe

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSecondFIFOOpenerIsRefused is the race found on main: two openers of
// one FIFO started together were both accepted and their messages
// interleaved. Now exactly one gets in, the other is told why, and the
// first pair carries 100,000-byte messages intact both ways.
func TestSecondFIFOOpenerIsRefused(t *testing.T) {
	timer := time.AfterFunc(60*time.Second, func() {
		buf := make([]byte, 1<<20)
		panic(fmt.Sprintf("TestSecondFIFOOpenerIsRefused hangs:\n%s", buf[:runtime.Stack(buf, true)]))
	})
	defer timer.Stop()
	for trial := 0; trial < 8; trial++ {
		base := filepath.Join(t.TempDir(), "two")
		c, err := CreateFIFO(base, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg    sync.WaitGroup
			conns [2]*Conn
			errs  [2]error
		)
		for i := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conns[i], errs[i] = Open("fifo:"+base, Options{})
			}()
		}
		wg.Wait()
		var opener *Conn
		refused := 0
		for i := range conns {
			switch {
			case errs[i] == nil:
				opener = conns[i]
			case errors.Is(errs[i], unix.EBUSY) && strings.Contains(errs[i].Error(), "already has an opener"):
				refused++
				if trial == 0 {
					t.Logf("second opener: %v", errs[i])
				}
			case errors.Is(errs[i], unix.ENOENT):
				refused++ // the first was in and had unlinked the paths already
			default:
				t.Fatalf("trial %d: opener %d: %v", trial, i, errs[i])
			}
		}
		if opener == nil || refused != 1 {
			t.Fatalf("trial %d: %d opener(s) accepted, %d refused; want exactly one of each", trial, 2-refused, refused)
		}
		a, b := bytes.Repeat([]byte{'A'}, 100_000), bytes.Repeat([]byte{'B'}, 100_000)
		buf := make([]byte, 200_000)
		sendErr := make(chan error, 1)
		go func() { sendErr <- c.Send(a) }()
		if n, err := opener.Recv(buf); err != nil || !bytes.Equal(buf[:n], a) {
			t.Fatalf("trial %d: opener received %d bytes, %v; want the creator's 100,000 A", trial, n, err)
		}
		if err := <-sendErr; err != nil {
			t.Fatal(err)
		}
		go func() { sendErr <- opener.Send(b) }()
		if n, err := c.Recv(buf); err != nil || !bytes.Equal(buf[:n], b) {
			t.Fatalf("trial %d: creator received %d bytes, %v; want the opener's 100,000 B", trial, n, err)
		}
		if err := <-sendErr; err != nil {
			t.Fatal(err)
		}
		opener.Close()
		c.Close()
	}
}
