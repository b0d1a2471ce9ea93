// Package peerproc runs the other end of a channel in a separate OS process:
// the running binary (a test binary, or the ipclab CLI) re-executes itself
// with a role name, and the role's function runs in the child. Channels
// between goroutines are not IPC, so tests and the harness use this instead.
//
// The child learns the parent's pid from os.Getppid and the parent the
// child's from Proc.Pid, so both can watch each other for death.
package peerproc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// envRole carries the role name to the child.
const envRole = "IPCLAB_PEER_ROLE"

var (
	mu    sync.Mutex
	roles = map[string]func(args []string) error{}
)

// Register makes fn runnable as role name in a peer process. Call it from
// init or before Dispatch.
func Register(name string, fn func(args []string) error) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := roles[name]; dup {
		panic("peerproc: role registered twice: " + name)
	}
	roles[name] = fn
}

// Dispatch runs the role this process was started for, if any, and exits:
// status 0 if the role returned nil, 1 with the error on stderr otherwise.
// In a process not started by Start it returns at once. Call it first thing
// in main or TestMain.
func Dispatch() {
	name := os.Getenv(envRole)
	if name == "" {
		return
	}
	mu.Lock()
	fn := roles[name]
	mu.Unlock()
	if fn == nil {
		fmt.Fprintf(os.Stderr, "peerproc: unknown role %q (known: %s)\n", name, known())
		os.Exit(2)
	}
	var args []string
	if len(os.Args) > 1 {
		args = os.Args[1:]
	}
	stop := startProfile(name)
	err := fn(args)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "peer %s: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// EnvCPUProfile names a directory: every peer started with it set writes
// a CPU profile there (ROLE-PID.pprof), so the other end of a measurement
// can be profiled as the process that started it is with -cpuprofile.
const EnvCPUProfile = "IPCLAB_PEER_CPUPROFILE"

func startProfile(role string) (stop func()) {
	dir := os.Getenv(EnvCPUProfile)
	if dir == "" {
		return func() {}
	}
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", role, os.Getpid())), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "peer %s: no CPU profile: %v\n", role, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func known() string {
	mu.Lock()
	defer mu.Unlock()
	var names []string
	for n := range roles {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Proc is a running peer process.
type Proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	pr     *os.File // our end of the child's stdout, closed by Wait and Kill
	stderr bytes.Buffer
	done   chan struct{}
	err    error

	// One goroutine reads stdout, started by the first ReadLine; a line
	// that comes after a ReadLine gave up waits in lines for the next.
	// Wait and Kill stop it (quit) and wait for it to end (readDone), so
	// a child that printed more than anyone read leaves no goroutine
	// blocked on a full lines.
	readOnce sync.Once
	lines    chan line
	readErr  error // after lines is closed: why
	quit     chan struct{}
	readDone chan struct{}
	stopOnce sync.Once
}

type line struct {
	s   string
	err error
}

// Options for Start.
type Options struct {
	// ExtraFiles become descriptors 3, 4, ... in the child.
	ExtraFiles []*os.File
	// Stdin, if set, is the child's standard input.
	Stdin io.Reader
	// Env is added to the child's environment.
	Env []string
}

// Start runs role in a new process of the current executable with args. The
// child is killed if this process dies first (PR_SET_PDEATHSIG), so an
// interrupted test or run leaves no orphan behind.
func Start(role string, args []string, opt Options) (*Proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), envRole+"="+role), opt.Env...)
	if os.Getenv("GORACE") == "" {
		// A -race binary otherwise sleeps a second at exit, once per peer.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	cmd.ExtraFiles = opt.ExtraFiles
	cmd.Stdin = opt.Stdin
	// A process group of its own: a Ctrl-C at the terminal reaches only
	// the parent, which stops the peer in order, rather than killing the
	// peer mid-case in a race with the parent's handler (which would see
	// a dead peer before it knew of the Ctrl-C).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	p := &Proc{cmd: cmd, done: make(chan struct{}),
		lines: make(chan line, 16), quit: make(chan struct{}), readDone: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: &p.stderr}
	// An *os.File as Stdout is handed to the child as is; unlike StdoutPipe,
	// Wait does not close our end, so lines printed just before exit are kept.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = pw
	p.pr, p.stdout = pr, bufio.NewReader(pr)
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// ReadLine returns the next line the child printed on stdout, without the
// newline, waiting at most timeout.
func (p *Proc) ReadLine(timeout time.Duration) (string, error) {
	p.readOnce.Do(func() { go p.readLines() })
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l, ok := <-p.lines:
		if !ok { // the error was returned before
			return "", fmt.Errorf("peer stdout: %w (stderr: %s)", p.readErr, p.Stderr())
		}
		if l.err != nil {
			return l.s, fmt.Errorf("peer stdout: %w (stderr: %s)", l.err, p.Stderr())
		}
		return l.s, nil
	case <-t.C:
		return "", fmt.Errorf("peer printed no line within %v (stderr: %s)", timeout, p.Stderr())
	}
}

// readLines is the one reader of the child's stdout, until it ends or
// Wait or Kill stop it.
func (p *Proc) readLines() {
	defer close(p.readDone)
	for {
		s, err := p.stdout.ReadString('\n')
		select {
		case p.lines <- line{strings.TrimSuffix(s, "\n"), err}:
		case <-p.quit: // nobody will read it: Wait or Kill ran
			err = errStopped
		}
		if err != nil {
			p.readErr = err // seen by whoever sees the close
			close(p.lines)
			return
		}
	}
}

var errStopped = errors.New("stopped by Wait or Kill")

// stopReading closes our end of the child's stdout and ends the reader,
// or keeps one from starting.
func (p *Proc) stopReading() {
	p.stopOnce.Do(func() {
		close(p.quit)
		p.pr.Close()
		p.readOnce.Do(func() { // never started: a later ReadLine finds lines closed
			p.readErr = errStopped
			close(p.lines)
			close(p.readDone)
		})
		<-p.readDone
	})
}

// Wait waits at most timeout for the child to exit; on timeout it kills it.
// A non-zero exit comes back as an error that includes the child's stderr.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		p.stopReading()
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("peer did not exit within %v and was killed (stderr: %s)", timeout, p.Stderr())
	}
	if p.err != nil {
		return fmt.Errorf("peer: %w (stderr: %s)", p.err, p.Stderr())
	}
	return nil
}

// Kill sends SIGKILL to the child and waits for it to be reaped.
func (p *Proc) Kill() {
	p.cmd.Process.Kill()
	<-p.done
	p.stopReading()
}

// Exited reports whether the child has exited and been reaped.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stderr is what the child wrote on stderr so far.
func (p *Proc) Stderr() string {
	lw := p.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return strings.TrimSpace(p.stderr.String())
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
