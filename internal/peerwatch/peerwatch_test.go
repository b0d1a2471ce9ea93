package peerwatch

import (
	"os/exec"
	"testing"
	"time"
)

func TestWatchReportsExitOfAnotherProcess(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep(1):", err)
	}
	gone := make(chan struct{})
	w, err := Watch(cmd.Process.Pid, func() { close(gone) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case <-gone:
		t.Fatal("reported gone while the process runs")
	case <-time.After(50 * time.Millisecond):
	}
	cmd.Process.Kill()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("exit not reported within 5s")
	}
	cmd.Wait()
}

func TestStopCancels(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep(1):", err)
	}
	defer cmd.Wait()
	called := make(chan struct{}, 1)
	w, err := Watch(cmd.Process.Pid, func() { called <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	w.Stop()
	w.Stop()
	cmd.Process.Kill()
	select {
	case <-called:
		t.Fatal("gone called after Stop")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSlotReplaceForgetsTheOldPid(t *testing.T) {
	a, b := exec.Command("sleep", "10"), exec.Command("sleep", "10")
	if a.Start() != nil || b.Start() != nil {
		t.Skip("no sleep(1)")
	}
	defer b.Wait()
	var s Slot
	gone := make(chan string, 2)
	if err := s.Watch(a.Process.Pid, func() { gone <- "a" }); err != nil {
		t.Fatal(err)
	}
	if err := s.Watch(b.Process.Pid, func() { gone <- "b" }); err != nil {
		t.Fatal(err)
	}
	a.Process.Kill()
	a.Wait()
	b.Process.Kill()
	select {
	case who := <-gone:
		if who != "b" {
			t.Fatalf("the replaced watch of %s fired", who)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the current watch did not fire")
	}
	s.Stop()
}
