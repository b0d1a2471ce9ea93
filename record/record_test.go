package record

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

func sampleRecords() []Record {
	env := &Env{Kernel: "Linux 6.x", NumCPU: 2, GoVersion: "go1.x", Limits: map[string]string{"kernel.msgmax": "8192"}}
	rtt, _ := Summarize([]float64{1000, 2000, 3000, 4000})
	return []Record{
		{Schema: SchemaVersion, Time: time.Unix(1700000000, 0).UTC(), Run: 1, Transport: "pipe", Impl: "go", Mode: Latency,
			Link: "raw", Size: 64, Count: 4, Warmup: 1, Placement: "none", RTT: &rtt, OneWay: &rtt,
			Sender: Cost{UserNs: 5, CPUs: []int{0}}, Receiver: Cost{SysNs: 7, CPUs: []int{1}}, Env: env},
		{Schema: SchemaVersion, Time: time.Unix(1700000001, 0).UTC(), Run: 1, Transport: "sysvmsg", Impl: "go", Mode: Throughput,
			Link: "raw", Size: 65536, Placement: "none", Skipped: "exceeds kernel.msgmax=8192", Env: env},
		{Schema: SchemaVersion, Time: time.Unix(1700000002, 0).UTC(), Run: 1, Transport: "pipe", Impl: "go", Mode: Throughput,
			Link: "raw", Size: 4096, Count: 100, ElapsedNs: 1e6, MsgsPerSec: 1e5, MBPerSec: 409.6, Placement: "none", Env: env},
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	recs := sampleRecords()
	if err := WriteJSONL(filepath.Join(dir, "r.jsonl"), recs); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSONL(filepath.Join(dir, "r.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, recs) {
		t.Fatalf("read back differs:\n%+v\nwant\n%+v", back, recs)
	}
	if err := WriteCSV(filepath.Join(dir, "r.csv"), recs); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(dir, "r.csv"))
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 4 || len(rows[1]) != len(CSVHeader) {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
	if p50 := rows[1][slices.Index(CSVHeader, "rtt_p50_ns")]; p50 != "2500" { // of 1000..4000
		t.Fatalf("csv p50 %q, want 2500", p50)
	}
}

func TestReadJSONLRejectsOtherSchemas(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.jsonl")
	os.WriteFile(p, []byte(`{"schema": 99}`+"\n"), 0o600)
	if _, err := ReadJSONL(p); err == nil {
		t.Fatal("a record of schema 99 was read")
	}
}

// TestWaitCountsPlusMinus: every count is summed and subtracted, so a
// count added to WaitCounts and forgotten in Plus or Minus fails here.
func TestWaitCountsPlusMinus(t *testing.T) {
	var a, b WaitCounts
	va, vb := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range va.NumField() {
		va.Field(i).SetUint(uint64(100 * (i + 1)))
		vb.Field(i).SetUint(uint64(i + 1))
	}
	sum, diff := reflect.ValueOf(a.Plus(b)), reflect.ValueOf(a.Minus(b))
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		if got, want := sum.Field(i).Uint(), uint64(101*(i+1)); got != want {
			t.Errorf("Plus: %s = %d, want %d", name, got, want)
		}
		if got, want := diff.Field(i).Uint(), uint64(99*(i+1)); got != want {
			t.Errorf("Minus: %s = %d, want %d", name, got, want)
		}
	}
}

// RTTSamples counts exactly the round trips OneWaySampled leaves to RTT,
// and OneWay gets some in every OneWayEvery.
func TestRTTSamplesMatchesOneWaySampled(t *testing.T) {
	for _, count := range []int{0, 1, OneWayEvery - 1, OneWayEvery, OneWayEvery + 1, 200, 5001} {
		rtt, oneWay := 0, 0
		for i := range count {
			if OneWaySampled(i) {
				oneWay++
			} else {
				rtt++
			}
		}
		if rtt != RTTSamples(count) || oneWay != count/OneWayEvery {
			t.Errorf("count %d: %d round trips left to RTT, RTTSamples says %d; %d timed one way, want %d",
				count, rtt, RTTSamples(count), oneWay, count/OneWayEvery)
		}
	}
	if OneWaySampled(-1) {
		t.Error("a warm-up round trip (index -1) is timed one way")
	}
}
