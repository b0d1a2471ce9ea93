package bench

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/record"
	"golang.org/x/sys/unix"
)

// CollectEnv reads the environment.
func CollectEnv(clock *Clock) record.Env {
	e := record.Env{NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Limits: kernlimits.All(), Commit: commit(), ClockPairErrorNs: float64(clock.ErrorBound)}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		e.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource"); err == nil {
		e.ClockSource = strings.TrimSpace(string(b))
	}
	e.TimerNs, e.SampleOverheadNs = timerCost()
	return e
}

// timerCost measures a clock reading and the per-sample harness overhead
// (one reading of the run's clock and a store, as the latency loop does
// between two round trips).
func timerCost() (timer, sample float64) {
	const n = 200000
	start := time.Now()
	var t time.Time
	for i := 0; i < n; i++ {
		t = time.Now()
	}
	_ = t
	timer = float64(time.Since(start).Nanoseconds()) / n
	clock := NewClock()
	buf := make([]float64, n)
	start = time.Now()
	prev := clock.Now()
	for i := 0; i < n; i++ {
		now := clock.Now()
		buf[i] = float64(now - prev)
		prev = now
	}
	sample = float64(time.Since(start).Nanoseconds()) / n
	return timer, sample
}

// commit is the git commit of the ipclab source, if it can be told.
func commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		c := strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			c += "-dirty"
		}
		return c
	}
	return "unknown"
}
