package examples_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/ctest"
	"github.com/ipclab/ipclab/internal/ipcobj"
)

// stepTimeout bounds every wait for a line or an exit: a hung program is
// killed and the test fails with what it printed.
const stepTimeout = 20 * time.Second

var programs = []string{"pline", "cline", "forkshm", "msgq", "mqueue", "ftokshm", "shmstat"}

// impl is one implementation of every program: the Go one or the C one.
type impl struct {
	lang string            // "go" or "c"
	bins map[string]string // program -> executable
}

func (im impl) bin(prog string) string { return im.bins[prog] }

// buildAll builds the Go programs with the go command and the C ones with
// gcc (ctest.Build skips the test, saying why, without gcc).
func buildAll(t *testing.T) (goImpl, cImpl impl) {
	t.Helper()
	cImpl = impl{lang: "c", bins: map[string]string{}}
	for _, p := range programs {
		cImpl.bins[p] = ctest.Build(t, filepath.Join("c", p+".c"), "-pthread", "-lrt")
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		gocmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	args := []string{"build", "-o", dir + "/"}
	for _, p := range programs {
		args = append(args, "./"+p)
	}
	if out, err := exec.Command(gocmd, args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	goImpl = impl{lang: "go", bins: map[string]string{}}
	for _, p := range programs {
		goImpl.bins[p] = filepath.Join(dir, p)
	}
	return goImpl, cImpl
}

// proc is a running example program.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // stdout, line by line
	mu    sync.Mutex
	out   strings.Builder // stdout and stderr so far, for failure messages
	done  chan struct{}
	err   error
}

func (p *proc) record(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.WriteString(s)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type stderrTo struct{ p *proc }

func (w stderrTo) Write(b []byte) (int, error) { w.p.record(string(b)); return len(b), nil }

// start runs bin in dir; the process is killed when the test ends, and
// with the test binary (Pdeathsig).
func start(t *testing.T, dir, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(filepath.Dir(bin)) + "/" + filepath.Base(bin) + " " + strings.Join(args, " "),
		lines: make(chan string, 1000), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.cmd.Stderr = stderrTo{p}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.record(sc.Text() + "\n")
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = p.cmd.Wait() // after the last read, as StdoutPipe requires
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// expect reads lines until one satisfies ok and returns it; a line for
// which bad returns true, the end of output or stepTimeout fail the test.
func (p *proc) expect(t *testing.T, what string, ok func(string) bool) string {
	t.Helper()
	timeout := time.After(stepTimeout)
	for {
		select {
		case l, open := <-p.lines:
			if !open {
				t.Fatalf("%s ended without printing %s; output:\n%s", p.name, what, p.output())
			}
			if ok(l) {
				return l
			}
		case <-timeout:
			t.Fatalf("%s printed no %s within %v; output:\n%s", p.name, what, stepTimeout, p.output())
		}
	}
}

// expectLine waits for a line equal to want.
func (p *proc) expectLine(t *testing.T, want string) {
	t.Helper()
	p.expect(t, fmt.Sprintf("%q", want), func(l string) bool { return l == want })
}

// rest drains the remaining lines after the process exited successfully.
func (p *proc) wait(t *testing.T) []string {
	t.Helper()
	var rest []string
	timeout := time.After(stepTimeout)
	for {
		select {
		case l, open := <-p.lines:
			if open {
				rest = append(rest, l)
				continue
			}
			<-p.done
			if p.err != nil {
				t.Fatalf("%s: %v; output:\n%s", p.name, p.err, p.output())
			}
			return rest
		case <-timeout:
			p.cmd.Process.Kill()
			t.Fatalf("%s did not exit within %v and was killed; output:\n%s", p.name, stepTimeout, p.output())
		}
	}
}

// run runs bin to completion and returns its stdout lines.
func run(t *testing.T, dir, bin string, args ...string) []string {
	t.Helper()
	return start(t, dir, bin, args...).wait(t)
}

// objects lists the System V objects and the files in /dev/shm: with the
// leak check's private namespaces and PrivateDevShm, all are the tests'.
func objects(t *testing.T) []string {
	t.Helper()
	var all []string
	for _, k := range []ipcobj.Kind{ipcobj.SysVMsg, ipcobj.SysVSem, ipcobj.SysVShm} {
		objs, err := ipcobj.SysV(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			all = append(all, o.String())
		}
	}
	ents, _ := os.ReadDir("/dev/shm")
	for _, e := range ents {
		all = append(all, "/dev/shm/"+e.Name())
	}
	sort.Strings(all)
	return all
}

// noLeaks fails the test if objects made since before are still alive.
func noLeaks(t *testing.T, before []string) {
	t.Helper()
	old := map[string]bool{}
	for _, o := range before {
		old[o] = true
	}
	for _, o := range objects(t) {
		if !old[o] {
			t.Errorf("left alive: %s", o)
		}
	}
}
