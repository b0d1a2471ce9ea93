package cpupin

import (
	"fmt"
	"runtime"
	"time"

	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/internal/testmain"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testmain.Main(m) }

func init() {
	peerproc.Register("cpupin-procs", procsAfterPin)
	peerproc.Register("cpupin-print-procs", func([]string) error { fmt.Println(runtime.GOMAXPROCS(0)); return nil })
}

// procsAfterPin pins this process to one CPU, waits past the runtime's
// re-check of the affinity mask (about a second, Go 1.25+), and prints
// GOMAXPROCS before and after. It runs in a process of its own: the
// testing package sets GOMAXPROCS itself, which stops the re-check.
// With the argument "unheld" it pins without Process's hold: the control,
// which shows the runtime lowers GOMAXPROCS here at all.
func procsAfterPin(args []string) error {
	cpus, err := Allowed()
	if err != nil {
		return err
	}
	before := runtime.GOMAXPROCS(0)
	var set unix.CPUSet
	set.Set(cpus[0])
	if len(args) > 0 && args[0] == "unheld" {
		err = pinThreads(&set)
	} else {
		err = Process(&set)
	}
	if err != nil {
		return err
	}
	// Short sleeps, not one long one: with every P idle until a far timer,
	// sysmon sleeps through its re-check.
	for range 50 {
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Println(before, runtime.GOMAXPROCS(0))
	return nil
}

// procsChild runs procsAfterPin in a child whose GOMAXPROCS the runtime
// chooses (an inherited GOMAXPROCS variable would stop the re-check, and
// the test could not fail), and returns what it printed.
func procsChild(t *testing.T, args ...string) (before, after int) {
	t.Helper()
	p, err := peerproc.Start("cpupin-procs", args, peerproc.Options{Env: []string{"GOMAXPROCS="}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	line, err := p.ReadLine(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(line, &before, &after); err != nil {
		t.Fatalf("child said %q: %v", line, err)
	}
	return before, after
}

// TestGOMAXPROCSStaysAfterPin: pinning must not change GOMAXPROCS under
// a case.
func TestGOMAXPROCSStaysAfterPin(t *testing.T) {
	if cpus, err := Allowed(); err != nil || len(cpus) < 2 {
		t.Skipf("needs two CPUs to see GOMAXPROCS lowered; this process may use %v (%v)", cpus, err)
	}
	if before, after := procsChild(t, "unheld"); after >= before {
		t.Skipf("this runtime keeps GOMAXPROCS %d after a pin without the hold (%d): nothing to hold (GODEBUG=updatemaxprocs=0?)", before, after)
	}
	if before, after := procsChild(t); before < 2 || after != before {
		t.Errorf("GOMAXPROCS %d at start, %d after pinning to one CPU; want it held", before, after)
	}
}

func TestPinAndRestore(t *testing.T) {
	cpus, err := Allowed()
	if err != nil || len(cpus) == 0 {
		t.Fatalf("Allowed() = %v, %v", cpus, err)
	}
	before, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	defer Process(&before)
	last := cpus[len(cpus)-1]
	if err := ProcessTo(last); err != nil {
		t.Fatal(err)
	}
	// Every thread, not only the calling one, is on that CPU alone.
	tids, _ := os.ReadDir("/proc/self/task")
	for _, d := range tids {
		tid, _ := strconv.Atoi(d.Name())
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); err != nil {
			continue // the thread exited
		}
		if set.Count() != 1 || !set.IsSet(last) {
			t.Errorf("thread %d: %d CPUs in its mask, want only CPU %d", tid, set.Count(), last)
		}
	}
	if got, _ := Allowed(); len(got) != 1 || got[0] != last {
		t.Errorf("Allowed() after ProcessTo(%d) = %v", last, got)
	}
	if err := Process(&before); err != nil {
		t.Fatal(err)
	}
	if got, _ := Allowed(); len(got) != len(cpus) {
		t.Errorf("after restore: %v, want %v", got, cpus)
	}
}

// TestChildEnvKeepsGOMAXPROCS: a child started while this process runs
// pinned to one CPU (as the harness starts its peer) has this process's
// GOMAXPROCS with ChildEnv, not the 1 its inherited mask would give.
func TestChildEnvKeepsGOMAXPROCS(t *testing.T) {
	cpus, err := Allowed()
	if err != nil || len(cpus) < 2 {
		t.Skipf("needs two CPUs; this process may use %v (%v)", cpus, err)
	}
	all, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	if err := ProcessTo(cpus[0]); err != nil {
		t.Fatal(err)
	}
	defer Process(&all)
	want := runtime.GOMAXPROCS(0)
	for _, env := range [][]string{{"GOMAXPROCS="}, ChildEnv()} {
		p, err := peerproc.Start("cpupin-print-procs", nil, peerproc.Options{Env: env})
		if err != nil {
			t.Fatal(err)
		}
		line, err := p.ReadLine(30 * time.Second)
		p.Kill()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := strconv.Atoi(line)
		switch {
		case env[0] == "GOMAXPROCS=" && got != 1:
			t.Skipf("a child started on one CPU chose GOMAXPROCS %d, not 1: nothing to correct here", got)
		case env[0] != "GOMAXPROCS=" && got != want:
			t.Errorf("child with %v: GOMAXPROCS %d, want this process's %d", env, got, want)
		}
	}
}
