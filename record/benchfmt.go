package record

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// WriteBenchfmt writes the measured records in the Go benchmark data
// format (https://go.googlesource.com/proposal/+/master/design/14313-benchmark-format.md),
// one line per case and run, so benchstat reads a bench run as it reads
// `go test -bench` output: `benchstat old.txt new.txt`. Configuration
// lines (goos, goarch, cpu, pkg, and ipclab's placement, kernel, commit,
// ...) come before the first result and again wherever one changes. The
// name holds the case's parameters as key=value parts and GOMAXPROCS as
// its suffix, as go test writes it:
//
//	BenchmarkIPC/transport=pipe/link=raw/size=64/mode=latency/impl=go-2  5000  4.6e-05 sec/op  45630 p50-ns ...
//
// The iteration count is the record's count (round trips or messages).
// Latencies are in whole nanoseconds and other figures to 4 significant
// digits, as in the CSV. Skipped cases are left out: the format has no
// way to say "not measured".
func WriteBenchfmt(w io.Writer, recs []Record) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "Unit msgs/s better=higher")
	fmt.Fprintln(bw, "Unit B/s better=higher")
	last := map[string]string{}
	for i := range recs {
		r := &recs[i]
		if r.Skipped != "" {
			continue
		}
		keys, vals := benchConfig(r)
		for k := range last { // configuration is sticky: an empty value ends it
			if !slices.Contains(keys, k) {
				delete(last, k)
				fmt.Fprintf(bw, "%s:\n", k)
			}
		}
		for j, k := range keys {
			if v, seen := last[k]; !seen || v != vals[j] {
				last[k] = vals[j]
				fmt.Fprintf(bw, "%s: %s\n", k, vals[j])
			}
		}
		fmt.Fprintf(bw, "%s %d", BenchName(r), r.Count)
		for _, v := range BenchValues(r) {
			fmt.Fprintf(bw, " %s %s", v.Value, v.Unit)
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

// benchConfig is a record's configuration lines, keys in order.
func benchConfig(r *Record) (keys, vals []string) {
	add := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			keys, vals = append(keys, k), append(vals, v)
		}
	}
	goos, goarch := runtime.GOOS, runtime.GOARCH
	e := r.Env
	if e == nil {
		e = &Env{}
	}
	// Kernel is "Linux 6.18.0 x86_64" (uname's sysname, release, machine).
	if f := strings.Fields(e.Kernel); len(f) == 3 {
		goos = strings.ToLower(f[0])
		goarch = map[string]string{"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm"}[f[2]]
		if goarch == "" {
			goarch = f[2]
		}
	}
	add("goos", goos)
	add("goarch", goarch)
	add("pkg", "github.com/ipclab/ipclab/bench")
	add("cpu", e.CPUModel)
	add("placement", r.Placement)
	add("kernel", e.Kernel)
	add("go", e.GoVersion)
	add("commit", e.Commit)
	add("clocksource", e.ClockSource)
	add("cc", e.CCompiler) // the run's, beside Go's and C's lines alike
	return keys, vals
}

// BenchName is a record's benchmark name: its case's parameters, and
// GOMAXPROCS as go test's suffix.
func BenchName(r *Record) string {
	k := KeyOf(*r)
	name := fmt.Sprintf("BenchmarkIPC/transport=%s/link=%s/size=%d/mode=%s", k.Transport, k.Link, k.Size, k.Mode)
	switch k.Mode {
	case Load:
		name += "/rate=" + Round4(k.Rate)
	case FanIn:
		name += "/producers=" + strconv.Itoa(k.Producers)
	}
	if k.Batch > 0 {
		name += "/batch=" + strconv.Itoa(k.Batch)
	}
	if k.Held {
		name += "/waits=held"
	}
	name += "/impl=" + k.Impl
	if r.Env != nil && r.Env.GOMAXPROCS > 1 {
		name += "-" + strconv.Itoa(r.Env.GOMAXPROCS)
	}
	return name
}

// BenchValue is one value of a benchmark line, formatted.
type BenchValue struct{ Value, Unit string }

// BenchValues are the values of a measured record's benchmark line:
//
//	latency:    sec/op (mean round trip), p50-ns, p99-ns, p999-ns (round trip), one-way-p50-ns
//	throughput: sec/op (per message, first send to last byte), B/s, msgs/s
//	load:       msgs/s (achieved), one-way-p50-ns, one-way-p99-ns, one-way-p999-ns, send-late-p99-ns
//	fanin:      msgs/s (all producers), B/s, order-errors
//
// and for every mode cpu-ns/msg and ctxsw/msg (both processes), and the
// sender's and receiver's CPU apart (sender-cpu-ns/msg,
// receiver-cpu-ns/msg): in load mode the sender's includes the pacing.
func BenchValues(r *Record) []BenchValue {
	var out []BenchValue
	nsv := func(v float64, unit string) { out = append(out, BenchValue{RoundNs(v), unit}) }
	num := func(v float64, unit string) { out = append(out, BenchValue{Round4(v), unit}) }
	secs := func(ns float64) {
		out = append(out, BenchValue{strconv.FormatFloat(math.Round(ns)/1e9, 'g', -1, 64), "sec/op"})
	}
	switch r.Mode {
	case Latency:
		if r.RTT != nil {
			secs(r.RTT.Mean)
			nsv(r.RTT.P50, "p50-ns")
			nsv(r.RTT.P99, "p99-ns")
			nsv(r.RTT.P999, "p999-ns")
		}
		if r.OneWay != nil {
			nsv(r.OneWay.P50, "one-way-p50-ns")
		}
	case Throughput:
		if r.Count > 0 && r.ElapsedNs > 0 {
			secs(float64(r.ElapsedNs) / float64(r.Count))
		}
		num(r.MBPerSec*1e6, "B/s")
		num(r.MsgsPerSec, "msgs/s")
	case Load:
		num(r.MsgsPerSec, "msgs/s")
		if r.OneWay != nil {
			nsv(r.OneWay.P50, "one-way-p50-ns")
			nsv(r.OneWay.P99, "one-way-p99-ns")
			nsv(r.OneWay.P999, "one-way-p999-ns")
		}
		if r.SendLateness != nil {
			nsv(r.SendLateness.P99, "send-late-p99-ns")
		}
	case FanIn:
		num(r.MsgsPerSec, "msgs/s")
		num(r.MBPerSec*1e6, "B/s")
		out = append(out, BenchValue{strconv.Itoa(r.OrderErrors), "order-errors"})
	}
	num(r.Sender.CPUNsPerMsg+r.Receiver.CPUNsPerMsg, "cpu-ns/msg")
	num(r.Sender.CtxSwPerMsg+r.Receiver.CtxSwPerMsg, "ctxsw/msg")
	num(r.Sender.CPUNsPerMsg, "sender-cpu-ns/msg")
	num(r.Receiver.CPUNsPerMsg, "receiver-cpu-ns/msg")
	return out
}
