package cbaseline

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/internal/ctest"
	"github.com/ipclab/ipclab/internal/testmain"
)

// ringdesign.c measures how near a ring's round trip can come to the
// cache-line floor (results/README.md quotes it); these tests check that
// every design carries its messages, wraps its rings and reports, not how
// fast anything is.

type ringDesignReport struct {
	Design string  `json:"design"`
	Align  int     `json:"align"`
	Size   int     `json:"size"`
	Count  int     `json:"count"`
	P50    float64 `json:"p50_ns"`
	P99    float64 `json:"p99_ns"`
}

func TestRingDesigns(t *testing.T) {
	prog := ctest.Build(t, "c/ringdesign.c")
	cpus, err := cpupin.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) < 2 {
		t.Skip("the designs spin: they need two CPUs")
	}
	a, b := strconv.Itoa(cpus[0]), strconv.Itoa(cpus[len(cpus)-1])
	for _, design := range []string{"line", "tail", "seq"} {
		for _, align := range []int{8, 64} {
			// 24 bytes: thousands of records per 256 KiB ring; 4096: a
			// record that does not divide the ring, so padding comes;
			// 40: at align 8 a 56-byte record leaves 8 bytes at each
			// lap's end, too few for a padding header.
			for _, size := range []int{24, 40, 4096} {
				count := 3 * (256 << 10) / (16 + size) // three laps of each ring
				t.Run(fmt.Sprintf("%s/%d/%d", design, align, size), func(t *testing.T) {
					testmain.Watchdog(t, time.Minute)
					stdout, stderr, status, _ := runStraight(t, prog, 30*time.Second, design,
						strconv.Itoa(align), strconv.Itoa(size), strconv.Itoa(count), a, b)
					if status != 0 {
						t.Fatalf("exit status %d: %s", status, stderr)
					}
					var r ringDesignReport
					if err := json.Unmarshal([]byte(stdout), &r); err != nil {
						t.Fatalf("%v: %q", err, stdout)
					}
					want := ringDesignReport{Design: design, Align: align, Size: size, Count: count, P50: r.P50, P99: r.P99}
					if r != want || r.P50 <= 0 || r.P99 < r.P50 {
						t.Errorf("report %+v, want %+v with 0 < p50 <= p99", r, want)
					}
				})
			}
		}
	}
}

func TestRingDesignBadInput(t *testing.T) {
	prog := ctest.Build(t, "c/ringdesign.c")
	for _, args := range [][]string{
		{"ring", "8", "64", "100", "-1", "-1"},
		{"tail", "16", "64", "100", "-1", "-1"},
		{"tail", "8", "7", "100", "-1", "-1"},
		{"tail", "8", "4097", "100", "-1", "-1"},
		{"tail", "8", "64", "9", "-1", "-1"},
		{"tail", "8", "64", "100"},
		{"tail", "8", "64", "100", "first", "-1"},
		{"tail", "8", "64", "100", "-1", "-2"},
	} {
		_, stderr, status, _ := runStraight(t, prog, 10*time.Second, args...)
		if status != 2 || !strings.Contains(stderr, "usage: ringdesign") {
			t.Errorf("%v: exit status %d, stderr %q; want 2 and the usage", args, status, stderr)
		}
	}
}
