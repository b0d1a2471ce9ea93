package record

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	// Only this test imports x/perf, to read our output with the parser
	// benchstat itself uses; the ipclab binary does not link it. The
	// version is pinned to one whose requirements do not raise the
	// plotting libraries' (x/image, x/text).
	"golang.org/x/perf/benchfmt"
)

// A bench run in the benchmark format reads back through benchstat's
// parser with no syntax error, one result per measured record, whose
// name, iterations, configuration and values are the record's.
func TestBenchfmtReadsBackAsTheRecords(t *testing.T) {
	var recs []Record
	for _, dir := range []string{"split", "split/load-fanin"} {
		r, _ := readReference(t, filepath.Join("..", "results", "reference", dir))
		recs = append(recs, r...)
	}
	var b strings.Builder
	if err := WriteBenchfmt(&b, recs); err != nil {
		t.Fatal(err)
	}
	var measured []Record
	for _, r := range recs {
		if r.Skipped == "" {
			measured = append(measured, r)
		}
	}
	rd := benchfmt.NewReader(strings.NewReader(b.String()), "bench.txt")
	i := 0
	modes := map[string]int{}
	for rd.Scan() {
		switch res := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Fatalf("benchfmt: %v", res)
		case *benchfmt.UnitMetadata:
			continue
		case *benchfmt.Result:
			if i >= len(measured) {
				t.Fatalf("more results than measured records: %s", res.Name)
			}
			r := measured[i]
			i++
			modes[r.Mode]++
			if got := "Benchmark" + string(res.Name.Full()); got != BenchName(&r) || !strings.HasPrefix(got, "BenchmarkIPC/transport="+r.Transport+"/") {
				t.Errorf("name %s for %s", got, BenchName(&r))
			}
			if res.Iters != r.Count {
				t.Errorf("%s: %d iterations, count %d", res.Name, res.Iters, r.Count)
			}
			for k, want := range map[string]string{"goos": "linux", "goarch": "amd64", "placement": r.Placement, "cpu": r.Env.CPUModel,
				"commit": r.Env.Commit, "pkg": "github.com/ipclab/ipclab/bench"} {
				if got := res.GetConfig(k); got != want {
					t.Errorf("%s: %s: %q, want %q", res.Name, k, got, want)
				}
			}
			value := func(unit string) float64 {
				for _, v := range res.Values {
					if v.OrigUnit == unit || (v.OrigUnit == "" && v.Unit == unit) {
						if v.OrigUnit != "" {
							return v.OrigValue
						}
						return v.Value
					}
				}
				t.Errorf("%s: no %s", res.Name, unit)
				return math.NaN()
			}
			exact := func(unit string, want float64) {
				if got := value(unit); got != want {
					t.Errorf("%s: %s = %v, want %v", res.Name, unit, got, want)
				}
			}
			near := func(unit string, want float64) { // 4 significant digits
				if got := value(unit); math.Abs(got-want) > 5e-4*math.Abs(want) {
					t.Errorf("%s: %s = %v, want %v", res.Name, unit, got, want)
				}
			}
			switch r.Mode {
			case Latency:
				exact("sec/op", math.Round(r.RTT.Mean)/1e9)
				exact("p50-ns", math.Round(r.RTT.P50))
				exact("p99-ns", math.Round(r.RTT.P99))
				if r.OneWay != nil {
					exact("one-way-p50-ns", math.Round(r.OneWay.P50))
				}
			case Throughput:
				exact("sec/op", math.Round(float64(r.ElapsedNs)/float64(r.Count))/1e9)
				near("msgs/s", r.MsgsPerSec)
				near("B/s", r.MBPerSec*1e6)
			case Load:
				near("msgs/s", r.MsgsPerSec)
				exact("one-way-p99-ns", math.Round(r.OneWay.P99))
				exact("send-late-p99-ns", math.Round(r.SendLateness.P99))
			case FanIn:
				near("msgs/s", r.MsgsPerSec)
				exact("order-errors", float64(r.OrderErrors))
			}
			near("cpu-ns/msg", r.Sender.CPUNsPerMsg+r.Receiver.CPUNsPerMsg)
			near("receiver-cpu-ns/msg", r.Receiver.CPUNsPerMsg)
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(measured) {
		t.Errorf("%d results for %d measured records", i, len(measured))
	}
	for _, m := range []string{Latency, Throughput, Load, FanIn} {
		if modes[m] == 0 {
			t.Errorf("no %s result checked", m)
		}
	}
}

// Configuration is sticky in the format: a key a later record does not
// have is ended with an empty value, not left to label it wrongly.
func TestBenchfmtEndsConfiguration(t *testing.T) {
	a, b := fullRecord(), fullRecord()
	a.Skipped, b.Skipped = "", ""
	b.Env = &Env{Kernel: a.Env.Kernel, GOMAXPROCS: 2} // no commit, no cpu
	var out strings.Builder
	if err := WriteBenchfmt(&out, []Record{a, b}); err != nil {
		t.Fatal(err)
	}
	rd := benchfmt.NewReader(strings.NewReader(out.String()), "x")
	var commits []string
	for rd.Scan() {
		if res, ok := rd.Result().(*benchfmt.Result); ok {
			commits = append(commits, res.GetConfig("commit")+"|"+res.GetConfig("cpu"))
		}
	}
	if len(commits) != 2 || commits[0] != "abc|cpu" || commits[1] != "|" {
		t.Errorf("commit|cpu per result: %q\n%s", commits, out.String())
	}
}
