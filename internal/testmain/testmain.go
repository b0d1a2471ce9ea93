// Package testmain is the test scaffold of every package that creates IPC
// objects or starts peer processes: one TestMain, and the helper that
// starts and watches a peer.
//
//	func TestMain(m *testing.M) { testmain.Main(m) }
//
// The order is fixed here, once: a binary started as a peer runs its role
// and exits (internal/peerproc) before anything else, and only then do the
// tests run under the leak check (internal/leakcheck), which re-executes
// the binary in a private IPC namespace. The other order would start every
// peer in a namespace of its own, where it cannot see the channel.
package testmain

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/leakcheck"
	"github.com/ipclab/ipclab/internal/peerproc"
)

// Options adjust Main.
type Options struct {
	// PrivateDevShm gives the tests an empty /dev/shm of their own (POSIX
	// semaphores, shm_open), see leakcheck.PrivateDevShm.
	PrivateDevShm bool
}

// Main is the TestMain of a package whose tests create IPC objects.
func Main(m *testing.M) { MainWith(m, Options{}) }

// MainWith is Main with options.
func MainWith(m *testing.M, opt Options) {
	peerproc.Dispatch()
	if opt.PrivateDevShm {
		leakcheck.PrivateDevShm()
	}
	leakcheck.MainNaming(m, peerName)
}

// started records the peers StartPeer started, so a leak report can say
// which test's peer made a leaked object.
var started sync.Map // pid -> string

func peerName(pid int) string {
	if s, ok := started.Load(pid); ok {
		return s.(string)
	}
	return ""
}

// Peer is a peer process StartPeer started.
type Peer struct {
	*peerproc.Proc
	stdin *os.File
}

// CloseStdin closes the peer's standard input, which ends roles that wait
// for it (an idle peer, a peer that lives on after its Close).
func (p *Peer) CloseStdin() { p.stdin.Close() }

// Stdin is the peer's standard input, for roles that take orders on it.
func (p *Peer) Stdin() io.Writer { return p.stdin }

// StartPeer starts role in a peer process with args, handing it files
// as descriptors 3, 4, ... (closed here once it has started) and a
// standard input that CloseStdin, or the end of the test, closes. If c
// is a PeerWatcher it watches the peer, so the peer's death is ErrPeerGone
// here. At the end of the test the peer is killed if it is still running.
func StartPeer(tb testing.TB, c ipclab.Conn, files []*os.File, role string, args ...string) *Peer {
	tb.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	// The peer keeps this process's GOMAXPROCS: started while a benchmark
	// has pinned this process to one CPU, its runtime would take 1 from
	// the inherited mask (cpupin.ChildEnv, which this package cannot
	// import: cpupin's tests use it).
	env := []string{"GOMAXPROCS=" + strconv.Itoa(runtime.GOMAXPROCS(0))}
	p, err := peerproc.Start(role, args, peerproc.Options{ExtraFiles: files, Stdin: r, Env: env})
	r.Close()
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		w.Close()
		tb.Fatalf("start peer %s: %v", role, err)
	}
	started.Store(p.Pid(), fmt.Sprintf("peer %s of %s", role, tb.Name()))
	tb.Cleanup(func() {
		w.Close()
		if !p.Exited() {
			p.Kill()
		}
	})
	if pw, ok := c.(ipclab.PeerWatcher); ok {
		if err := pw.WatchPeer(p.Pid()); err != nil {
			tb.Fatalf("watch peer: %v", err)
		}
	}
	return &Peer{Proc: p, stdin: w}
}
