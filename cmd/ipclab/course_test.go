package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/ctest"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/internal/testmain"
)

// The course's send/recv: raw System V types, POSIX priorities and the
// single POSIX queue, each with real processes and, where gcc is
// present, the seeds' C programs (examples/c) as the peer.

// recvProc is a running `ipclab recv`.
type recvProc struct {
	cmd    *exec.Cmd
	lines  chan string // its stdout, line by line; closed at its end
	wd     *time.Timer
	waited bool
}

// startRecv starts `ipclab recv ARGS...` and returns once the channel
// exists (it said "waiting on").
func startRecv(t *testing.T, args ...string) *recvProc {
	t.Helper()
	cmd := cliCommand(t, append([]string{"recv"}, args...)...)
	outPipe, _ := cmd.StdoutPipe()
	errPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &recvProc{cmd: cmd, lines: make(chan string, 100), wd: testmain.CmdWatchdog(t, cmd, time.Minute)}
	// A test that fails midway must not leave recv to the watchdog,
	// which would end the whole test binary a minute later.
	t.Cleanup(func() {
		if !p.waited {
			cmd.Process.Signal(os.Interrupt)
			for range p.lines {
			}
			cmd.Wait()
			p.wd.Stop()
		}
	})
	sc := bufio.NewScanner(errPipe)
	if !sc.Scan() || !strings.Contains(sc.Text(), "waiting on") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("recv %q said %q", args, sc.Text())
	}
	go func() {
		for sc.Scan() { // keep stderr drained
		}
	}()
	go func() {
		out := bufio.NewScanner(outPipe)
		for out.Scan() {
			p.lines <- out.Text()
		}
		close(p.lines)
	}()
	return p
}

// next returns the next n lines recv prints (a correctness bound of 20 s).
func (p *recvProc) next(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("recv ended after %q, want %d lines", got, n)
			}
			got = append(got, l)
		case <-time.After(20 * time.Second):
			t.Fatalf("recv printed %q in 20 s, want %d lines", got, n)
		}
	}
	return got
}

// stop waits for recv's end, with Ctrl-C first if interrupt, and returns
// the lines it printed that next did not take.
func (p *recvProc) stop(t *testing.T, interrupt bool) []string {
	t.Helper()
	defer p.wd.Stop()
	if interrupt {
		p.cmd.Process.Signal(os.Interrupt)
	}
	var rest []string
	for l := range p.lines {
		rest = append(rest, l)
	}
	p.waited = true
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("recv %q: %v", p.cmd.Args, err)
	}
	return rest
}

// runC runs a C example program under a watchdog and returns its output.
func runC(t *testing.T, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	defer testmain.CmdWatchdog(t, cmd, 30*time.Second).Stop()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", filepath.Base(prog), args, err, out)
	}
	return string(out)
}

// TestSendRecvTypes: -type on both ends (Go to Go): recv -type 7 takes
// only type 7, prints it, and still ends by itself when the sender closes
// (its close marker is not of type 7). One sender: a creator's channel
// ends once every opener that opened has closed, so a second sender
// started after the first closed may find it gone.
func TestSendRecvTypes(t *testing.T) {
	addr := "sysvmsg:key=0x7e570010"
	r := startRecv(t, "-type", "7", addr)
	// A message of type 3 queued first, as a C program would (no
	// markers): recv -type 7 leaves it.
	id, err := sysipc.Msgget(0x7e570010, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := make([]byte, sysipc.MsgHeader+4)
	sysipc.PutMtype(m, 3)
	copy(m[sysipc.MsgHeader:], "tres")
	if err := sysipc.Msgsnd(id, m, 0); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "siete\nsiete-2\n", "send", "-type", "7", addr); code != 0 {
		t.Fatalf("send -type 7: exit %d: %s", code, errOut)
	}
	// No interrupt: recv must notice that every sender closed.
	if got := r.stop(t, false); !slices.Equal(got, []string{"type=7 siete", "type=7 siete-2"}) {
		t.Fatalf("recv -type 7 printed %q", got)
	}
	for _, bad := range [][]string{
		{"send", "-type", "0", addr}, {"send", "-type", "4611686018427387904", addr},
		{"send", "-type", "3", "posixmq:/x"}, {"send", "-prio", "3", addr}, {"send", "-type", "3", "-link", "seq", addr},
		{"recv", "-type", "3", "fifo:/tmp/x"}, {"send", "-prio", "32767", "posixmq:/x"},
	} {
		if _, errOut, code := runCLI(t, "", bad...); code != 2 {
			t.Errorf("ipclab %q: exit %d (%s), want a usage error", bad, code, errOut)
		}
	}
}

// TestTypesWithCPeer: the seed's msgq.c (ftok(PATH, 1300), msgtyp as
// msgrcv takes it) against ipclab send and recv.
func TestTypesWithCPeer(t *testing.T) {
	msgq := ctest.Build(t, "../../examples/c/msgq.c")
	keyFile := filepath.Join(t.TempDir(), "ipc1")
	os.WriteFile(keyFile, nil, 0o600)
	// proj 1300 is ftok's proj 20: the C program and ipclab meet on one key.
	addr := "sysvmsg:path=" + keyFile + ",proj=1300"

	// C sends, ipclab recv -type -3 takes the lowest type <= 3 first.
	r := startRecv(t, "-type", "-3", addr)
	runC(t, msgq, "send", keyFile, "20", "3", "tres", "1", "uno", "7", "siete")
	got := append(r.next(t, 2), r.stop(t, true)...)
	// recv may have taken tres before uno arrived: both, and never siete.
	slices.Sort(got)
	if !slices.Equal(got, []string{"type=1 uno", "type=3 tres"}) {
		t.Fatalf("recv -type -3 printed %q, want uno and tres, never siete", got)
	}

	// ipclab sends with -type, C takes by type: a C receiver creates the
	// queue (msgq creates it if needed) and waits for type 7.
	crecv := exec.Command(msgq, "recv", keyFile, "1300", "7", "1", "rm")
	var cout strings.Builder
	crecv.Stdout, crecv.Stderr = &cout, &cout
	if err := crecv.Start(); err != nil {
		t.Fatal(err)
	}
	defer testmain.CmdWatchdog(t, crecv, 30*time.Second).Stop()
	var code int
	var errOut string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, errOut, code = runCLI(t, "siete\n", "send", "-type", "7", addr); code == 0 || !strings.Contains(errOut, "no message queue") {
			break
		}
	}
	if code != 0 {
		crecv.Process.Kill()
		crecv.Wait()
		t.Fatalf("send -type 7: exit %d: %s", code, errOut)
	}
	if err := crecv.Wait(); err != nil || !strings.Contains(cout.String(), "siete") {
		t.Fatalf("C msgq recv 7: %v\n%s", err, cout.String())
	}
}

// TestSingleQueueWithCPeer: posixmq:/NAME,single is the queue a C
// mq_open("/NAME") opens: the seed's mqueue.c sends to ipclab recv, and
// receives what ipclab send -prio sent, highest priority first.
func TestSingleQueueWithCPeer(t *testing.T) {
	mq := ctest.Build(t, "../../examples/c/mqueue.c", "-lrt")

	// C sends into the queue ipclab recv created; recv shows priorities.
	r := startRecv(t, "posixmq:/ipclab-lab,single")
	runC(t, mq, "send", "/ipclab-lab", "1", "baja", "9", "alta")
	got := append(r.next(t, 2), r.stop(t, true)...)
	slices.Sort(got)
	if !slices.Equal(got, []string{"prio=1 baja", "prio=9 alta"}) {
		t.Fatalf("recv printed %q", got)
	}

	// The C sender creates the queue; ipclab send -prio adds to it; the C
	// receiver takes the highest priority first and unlinks the queue.
	runC(t, mq, "send", "/ipclab-lab2", "1", "primero")
	if _, errOut, code := runCLI(t, "alta\n", "send", "-prio", "9", "posixmq:/ipclab-lab2,single"); code != 0 {
		t.Fatalf("send -prio 9: exit %d: %s", code, errOut)
	}
	out := runC(t, mq, "recv", "/ipclab-lab2", "2", "unlink")
	if i, j := strings.Index(out, "alta"), strings.Index(out, "primero"); i < 0 || j < i || !strings.Contains(out, "mq_curmsgs=2") {
		t.Fatalf("C mqueue recv printed %q; want alta (9) before primero (1), and no marker in the queue (2 messages)", out)
	}
}

// TestSendRecvLink: -link puts the same link mode on both ends of send
// and recv; every line arrives, acknowledged, and send reports the
// link's counters.
func TestSendRecvLink(t *testing.T) {
	for _, mode := range []string{"ack-1", "cap-4", "rendezvous"} {
		t.Run(mode, func(t *testing.T) {
			addr := "sysvmsg:key=0x7e570011"
			r := startRecv(t, "-link", mode, addr)
			_, errOut, code := runCLI(t, "uno\ndos\ntres\n", "send", "-link", mode, addr)
			if code != 0 {
				r.stop(t, true)
				t.Fatalf("send -link %s: exit %d: %s", mode, code, errOut)
			}
			if got := r.stop(t, false); !slices.Equal(got, []string{"uno", "dos", "tres"}) {
				t.Fatalf("recv -link %s printed %q", mode, got)
			}
			if !strings.Contains(errOut, "sent 3 (dropped 0)") {
				t.Fatalf("send -link %s reported %q; want its counters, 3 sent", mode, errOut)
			}
		})
	}
}
