package shmchan

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ipclab/ipclab"
	"golang.org/x/sys/unix"
)

// setSysctl writes a sysctl of this IPC namespace for the test and puts
// the old value back afterwards. Only in the leak check's private
// namespace: elsewhere it would lower the limit for the whole machine.
func setSysctl(t *testing.T, name, value string) {
	t.Helper()
	if os.Getenv("IPCLAB_TEST_PRIVATE_IPC") != "1" {
		t.Skip("not in a private IPC namespace: lowering " + name + " would affect the whole machine")
	}
	path := "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		t.Skipf("cannot set %s in this namespace: %v", name, err)
	}
	t.Cleanup(func() { os.WriteFile(path, old, 0) })
}

func countLines(t *testing.T, file string) int {
	b, err := os.ReadFile("/proc/sysvipc/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n") - 1
}

func wantLimitError(t *testing.T, cfg Config, want ...string) {
	t.Helper()
	c, err := Create(cfg)
	if err == nil {
		c.Close()
		t.Fatalf("Create succeeded; want an error naming %q", want)
	}
	if !errors.Is(err, unix.ENOSPC) {
		t.Errorf("%v does not match ENOSPC", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	t.Log(err)
}

// TestKernelLimitErrorsNameTheLimit: each ENOSPC of shmget and semget says
// which sysctl is in the way and how to raise it.
func TestKernelLimitErrorsNameTheLimit(t *testing.T) {
	sets := countLines(t, "sem")
	setSysctl(t, "kernel.sem", "250 32000 32 "+strconv.Itoa(sets))
	wantLimitError(t, Config{Strategy: SysVSem, RingSize: 4096}, "kernel.sem SEMMNI="+strconv.Itoa(sets)+" semaphore sets allowed", `sysctl -w kernel.sem="250 32000 32 `+strconv.Itoa(max(2*sets, sets+1))+`"`)
	setSysctl(t, "kernel.sem", "250 2 32 32000")
	wantLimitError(t, Config{Strategy: SysVSem, RingSize: 4096}, "kernel.sem SEMMNS=2", `sysctl -w kernel.sem="250 4 32 32000"`)

	segs := countLines(t, "shm")
	setSysctl(t, "kernel.shmmni", strconv.Itoa(segs))
	wantLimitError(t, Config{RingSize: 4096}, "kernel.shmmni="+strconv.Itoa(segs)+" segments allowed", "sysctl -w kernel.shmmni=N")
	setSysctl(t, "kernel.shmmni", "4096")
	setSysctl(t, "kernel.shmall", "2")
	wantLimitError(t, Config{RingSize: 4096}, "kernel.shmall=2 pages", "sysctl -w kernel.shmall=N")
}

// TestRingSizeFor: the default ring for messages the default maximum
// admits, else the power of two that holds four records of the message;
// a channel so configured takes the message.
func TestRingSizeFor(t *testing.T) {
	for _, tc := range []struct{ msg, ring int }{
		{0, DefaultRingSize}, {64, DefaultRingSize}, {DefaultMaxMessage, DefaultRingSize},
		{DefaultMaxMessage + 1, 512 << 10}, {1 << 20, 8 << 20}, {1<<20 - recHeader, 4 << 20},
		{maxRing/4 - recHeader, maxRing}, {maxRing / 4, maxRing}, {maxRing/4 + 1, maxRing},
	} {
		if got := RingSizeFor(tc.msg); got != tc.ring {
			t.Errorf("RingSizeFor(%d) = %d, want %d", tc.msg, got, tc.ring)
		}
	}
	for _, n := range []int{DefaultMaxMessage + 1, 1 << 20} {
		c, o := pair(t, Config{Strategy: Futex, MaxMessage: n, RingSize: RingSizeFor(n)})
		msg, buf := msgFor(1, n), make([]byte, n)
		for range 5 { // more than one ringful's worth of records in all
			if err := c.Send(msg); err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			if k, err := o.Recv(buf); err != nil || k != n {
				t.Fatalf("%d bytes: received %d, %v", n, k, err)
			}
		}
	}
	if c, _ := pair(t, Config{Strategy: Futex}); c.MaxMessageSize() != DefaultMaxMessage || c.RingSize() != DefaultRingSize {
		t.Errorf("default channel: ring %d, maximum %d; want %d and %d", c.RingSize(), c.MaxMessageSize(), DefaultRingSize, DefaultMaxMessage)
	}
}

// TestSysVSemRingCeiling: plan gives no strategy a header its opener would
// refuse: SysVSem's records grow with its ring (its semaphores count
// units of them, up to SEMVMX), so a ring that would need them past the
// layout's largest alignment is refused as a limit, naming the largest
// ring, rather than made and then read as corrupt.
func TestSysVSemRingCeiling(t *testing.T) {
	for s := Strategy(0); s < numStrategies; s++ {
		for ring := minRing; ring <= maxRing; ring *= 2 {
			h, err := Config{Strategy: s, RingSize: ring}.plan()
			if err != nil {
				var le *ipclab.LimitError
				if s != SysVSem || !errors.As(err, &le) || le.Limit != 64<<20 || ring <= 64<<20 {
					t.Errorf("%s, %d-byte ring: %v; want a header, or for sysvsem beyond 64 MiB a LimitError naming 64 MiB", s, ring, err)
				}
				continue
			}
			if h.align > maxAlign || s == SysVSem && h.ringSize/h.align > semMax {
				t.Errorf("%s, %d-byte ring: record alignment %d, which an opener refuses or the semaphore cannot count", s, ring, h.align)
			}
		}
	}
	// What the harness would ask of sysvsem for 32 MiB messages.
	if _, err := (Config{Strategy: SysVSem, MaxMessage: 32 << 20, RingSize: RingSizeFor(32 << 20)}).plan(); err == nil || !strings.Contains(err.Error(), "SEMVMX") {
		t.Errorf("sysvsem with RingSizeFor(32 MiB): %v, want the semaphores' limit named", err)
	}
}
