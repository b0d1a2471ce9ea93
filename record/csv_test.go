package record

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// fullRecord has every field set, nested ones too.
func fullRecord() Record {
	s := Summary{N: 3, Min: 1, P50: 65359.81000000006, P90: 78802.00000000006, P99: 137925.89, P999: 201001.898000001, Max: 3e5,
		Mean: 70000.33333333333, Stddev: 1234.5678, Quantiles: []float64{1, 2}}
	ls := LinkStats{Capacity: 4, CapacityLimit: "mq_maxmsg", BudgetBytes: 1, Sent: 2, Dropped: 3, Acked: 4, Received: 5, MaxInFlight: 6,
		CreditWaits: 7, CreditWaited: 8, FullByBytes: 9, AckWaited: 10, AcksSent: 11, AckRetries: 12, Lost: 13, Duplicates: 14,
		Reordered: 15, Untracked: 16, ProtocolErrors: 17, HeaderBytes: 18, OneWayMaxNs: 19, OneWaySumNs: 20}
	cost := Cost{UserNs: 1, SysNs: 2, VolCtxSw: 3, InvolCtxSw: 4, CPUNsPerMsg: 1234.56789, CtxSwPerMsg: 0.0123456, CPUs: []int{0, 1},
		PID: 5, MaxRSSKiB: 6, ThreadsAtEnd: 7}
	env := &Env{Kernel: "Linux", CPUModel: "cpu", NumCPU: 2, GoVersion: "go", Commit: "abc", GOMAXPROCS: 2, ClockSource: "tsc",
		Limits: map[string]string{"kernel.msgmax": "8192"}, TimerNs: 20.123456, SampleOverheadNs: 41.5555, ClockPairErrorNs: 12.3,
		CCompiler: "gcc", Floor: json.RawMessage(`{"x":1}`), FloorError: "none", Command: []string{"ipclab", "bench", "-sizes", "64, 4K"},
		Options: map[string]string{"runs": "5", "pin": "split"}}
	return Record{Schema: SchemaVersion, Time: time.Unix(1700000000, 5).UTC(), Run: 2, Transport: "posixmq", Impl: ImplGo, Mode: Load,
		Link: "cap-4-drop", Size: 64, Count: 1000, Warmup: 100, Placement: "split", OfferedRate: 10000, Producers: 4, OrderErrors: 1,
		SendLateness: &s, Skipped: "no", RTT: &s, OneWay: &s, ElapsedNs: 123456789, MsgsPerSec: 625442.5396869873,
		MBPerSec: 5.003540317495898, InjectedDelayNs: 7, LinkSender: &ls, LinkReceiver: &ls, Sender: cost, Receiver: cost,
		StealMs: 3, Env: env}
}

// leafKeys are the JSON names of every value in a record's JSON, nested
// objects' names joined by "_" (env's kept bare, as the CSV does).
func leafKeys(prefix string, m map[string]any, out map[string]bool) {
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any:
			p := prefix + k + "_"
			if k == "env" {
				p = ""
			}
			if k != "floor" && k != "limits" && k != "options" {
				leafKeys(p, v, out)
				continue
			}
		}
		out[prefix+k] = true
	}
}

// Every value a record holds in JSON has its CSV column (but the
// quantiles and the floor, said in csv.go): found from the JSON, not
// from the struct the columns are derived from, so a field the
// flattening missed fails here.
func TestCSVHasEveryField(t *testing.T) {
	b, err := json.Marshal(fullRecord())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	keys := map[string]bool{}
	leafKeys("", m, keys)
	for k := range keys {
		if strings.HasSuffix(k, "quantiles_ns") || k == "floor" {
			continue
		}
		if !slices.Contains(CSVHeader, k) {
			t.Errorf("record field %s has no CSV column", k)
		}
	}
	// The ones issue 15 found missing, by name.
	for _, k := range []string{"time", "warmup", "offered_rate", "producers", "order_errors", "send_lateness_p99_ns", "placement",
		"link", "link_sender_capacity", "injected_delay_ns", "command", "options", "count", "impl"} {
		if !slices.Contains(CSVHeader, k) {
			t.Errorf("no column %s", k)
		}
	}
	if len(CSVHeader) != len(csvRow(&Record{})) {
		t.Errorf("%d columns, but an empty record has %d cells", len(CSVHeader), len(csvRow(&Record{})))
	}
}

// Latencies to the nanosecond, other floats to 4 significant digits;
// the command line quoted as a shell reads it.
func TestCSVRounding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	if err := WriteCSV(path, []Record{fullRecord()}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	cell := func(k string) string { return rows[1][slices.Index(rows[0], k)] }
	for k, want := range map[string]string{
		"rtt_p50_ns": "65360", "rtt_p90_ns": "78802", "one_way_p999_ns": "201002", "send_lateness_stddev_ns": "1235",
		"msgs_per_sec": "625400", "mb_per_sec": "5.004", "sender_cpu_ns_per_msg": "1235", "receiver_ctxsw_per_msg": "0.01235",
		"timer_ns": "20.12", "offered_rate": "10000", "elapsed_ns": "123456789", "sender_cpus": "0 1", "producers": "4",
		"time": "2023-11-14T22:13:20.000000005Z", "command": "ipclab bench -sizes '64, 4K'", "options": "pin=split runs=5",
		"link_sender_credit_waited": "8", "limits": "kernel.msgmax=8192", "warmup": "100",
	} {
		if got := cell(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// A fraction has at most 4 significant digits; no exponents.
	decimal := regexp.MustCompile(`^-?[0-9]+\.[0-9]+$`)
	for i, c := range rows[1] {
		if strings.ContainsAny(c, "eE") && regexp.MustCompile(`^-?[0-9.]+[eE]`).MatchString(c) {
			t.Errorf("%s = %q: an exponent", rows[0][i], c)
		}
		if rows[0][i] == "time" || !decimal.MatchString(c) {
			continue
		}
		if digits := strings.TrimLeft(strings.ReplaceAll(strings.TrimPrefix(c, "-"), ".", ""), "0"); len(digits) > 4 {
			t.Errorf("%s = %q: more digits than measured", rows[0][i], c)
		}
	}
}

func TestRound(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1e9: "1000000000", 123456: "123500", 0.000123456: "0.0001235", -2.5: "-2.5"} {
		if got := Round4(v); got != want {
			t.Errorf("Round4(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{0.4: "0", 2.5: "3", -2.5: "-3", 65359.81000000006: "65360"} {
		if got := RoundNs(v); got != want {
			t.Errorf("RoundNs(%v) = %q, want %q", v, got, want)
		}
	}
	if got := ShellJoin([]string{"ipclab", "it's", ""}); got != `ipclab 'it'\''s' ''` {
		t.Errorf("ShellJoin: %s", got)
	}
}
