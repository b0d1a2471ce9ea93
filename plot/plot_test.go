package plot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/bench"
)

func TestAllFromRecords(t *testing.T) {
	var recs []bench.Record
	for _, tr := range []string{"pipe", "sysvshm-futex"} {
		for i, size := range []int{8, 64, 4096} {
			s, _ := bench.Summarize([]float64{float64(1000 * (i + 1)), float64(2000 * (i + 1)), float64(9000 * (i + 1))})
			recs = append(recs,
				bench.Record{Schema: 1, Transport: tr, Impl: "go", Mode: bench.Latency, Link: "raw", Size: size, RTT: &s},
				bench.Record{Schema: 1, Transport: tr, Impl: "go", Mode: bench.Throughput, Link: "raw", Size: size, MBPerSec: float64(size)})
		}
	}
	recs = append(recs, bench.Record{Schema: 1, Transport: "sysvmsg", Mode: bench.Latency, Size: 65536, Skipped: "too large"})
	dir := t.TempDir()
	files, err := All(recs, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"latency_vs_size.png", "latency_vs_size.svg", "throughput_vs_size.png", "throughput_vs_size.svg",
		"latency_cdf_64B.png", "latency_cdf_64B.svg"}
	if len(files) != len(want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	for _, w := range want {
		b, err := os.ReadFile(filepath.Join(dir, w))
		if err != nil || len(b) < 1000 {
			t.Fatalf("%s: %d bytes, %v", w, len(b), err)
		}
		if strings.HasSuffix(w, ".svg") && !strings.Contains(string(b), "sysvshm-futex") {
			t.Fatalf("%s has no legend entry for sysvshm-futex", w)
		}
	}
	if files, err := All(nil, dir); err != nil || len(files) != 0 {
		t.Fatalf("no records: %v, %v", files, err)
	}
}

func TestLinkCostBars(t *testing.T) {
	var recs []bench.Record
	for _, tr := range []string{"pipe", "sysvmsg"} {
		for i, l := range []string{"raw", "rendezvous", "cap-16"} {
			s, _ := bench.Summarize([]float64{float64(1000 * (i + 1))})
			recs = append(recs,
				bench.Record{Schema: 1, Transport: tr, Impl: "go", Mode: bench.Latency, Link: l, Size: 64, RTT: &s},
				bench.Record{Schema: 1, Transport: tr, Impl: "go", Mode: bench.Throughput, Link: l, Size: 64, MsgsPerSec: 1e6 / float64(i+1)})
		}
	}
	dir := t.TempDir()
	files, err := LinkCost(recs, dir)
	if err != nil || len(files) != 4 {
		t.Fatalf("LinkCost: %v, %v", files, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "link_cost_latency.svg"))
	if !strings.Contains(string(b), "rendezvous") || !strings.Contains(string(b), "cap-16") {
		t.Fatal("the bar chart's legend lacks the link modes")
	}
	if files, _ := LinkCost(recs[:2], dir); len(files) != 0 {
		t.Fatalf("raw only: %v, want no bar chart", files)
	}
}
