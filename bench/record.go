package bench

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/ipclab/ipclab/link"
)

// SchemaVersion changes when a record field changes meaning.
const SchemaVersion = 1

// Record is one measured (or skipped) case of one run: one JSON line.
// Field names are stable and documented in results/README.md.
type Record struct {
	Schema    int       `json:"schema"`
	Time      time.Time `json:"time"`
	Run       int       `json:"run"`
	Transport string    `json:"transport"`
	Impl      string    `json:"impl"` // "go"; the C baseline will add "c"
	Mode      string    `json:"mode"` // "latency" or "throughput"
	Link      string    `json:"link"` // link semantics on top of the transport; "raw" is none
	Size      int       `json:"size"`
	Count     int       `json:"count"`  // measured messages (round trips for latency)
	Warmup    int       `json:"warmup"` // messages before measuring
	Placement string    `json:"placement"`
	// OfferedRate is the load mode's send rate in messages per second;
	// MsgsPerSec is then the rate achieved, and OneWay the latency of
	// each message from its intended send time.
	OfferedRate float64 `json:"offered_rate,omitempty"`
	// Producers (fan-in) is how many processes sent; MsgsPerSec is then
	// what the one consumer received from all, and OrderErrors the
	// messages that arrived out of their producer's order (0 for every
	// mechanism here: each keeps a producer's messages in order).
	Producers   int `json:"producers,omitempty"`
	OrderErrors int `json:"order_errors,omitempty"`
	// SendLateness (load) is how late the sender got to each intended
	// send time: the part of OneWay the sender, not the channel, caused.
	SendLateness *Summary `json:"send_lateness,omitempty"`

	// Skipped says why the case was not measured (a limit, with how to
	// raise it); nothing else but the parameters is set then.
	Skipped string `json:"skipped,omitempty"`

	RTT    *Summary `json:"rtt,omitempty"`     // latency: round trips
	OneWay *Summary `json:"one_way,omitempty"` // latency: sender's timestamp to receiver's clock

	ElapsedNs  int64   `json:"elapsed_ns,omitempty"` // throughput: first send to the receiver's last byte
	MsgsPerSec float64 `json:"msgs_per_sec,omitempty"`
	MBPerSec   float64 `json:"mb_per_sec,omitempty"` // 10^6 bytes per second

	// InjectedDelayNs is a delay added before every send on purpose, to
	// test the analysis (bench -testing-delay); 0 in any real measurement.
	InjectedDelayNs int64 `json:"injected_delay_ns,omitempty"`

	// LinkSender and LinkReceiver are the link's counters at each end
	// (credit waits, acknowledgements, drops, window in force, order
	// errors); nil for raw cases.
	LinkSender   *link.Stats `json:"link_sender,omitempty"`
	LinkReceiver *link.Stats `json:"link_receiver,omitempty"`

	Sender   Cost  `json:"sender"` // the process that drives the case
	Receiver Cost  `json:"receiver"`
	StealMs  int64 `json:"steal_ms"` // host steal time during the case, all CPUs (/proc/stat)

	Env *Env `json:"env"`
}

// Cost is what one process spent during the measured part of a case.
type Cost struct {
	UserNs       int64   `json:"user_ns"`
	SysNs        int64   `json:"sys_ns"`
	VolCtxSw     int64   `json:"vol_ctxsw"`
	InvolCtxSw   int64   `json:"invol_ctxsw"`
	CPUNsPerMsg  float64 `json:"cpu_ns_per_msg"`
	CtxSwPerMsg  float64 `json:"ctxsw_per_msg"`
	CPUs         []int   `json:"cpus"` // last CPU of each thread that ran during the case
	PID          int     `json:"pid"`
	MaxRSSKiB    int64   `json:"max_rss_kib"`
	ThreadsAtEnd int     `json:"threads"`
}

// WriteJSONL writes records as JSON lines.
func WriteJSONL(path string, recs []Record) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadJSONL reads records written by WriteJSONL.
func ReadJSONL(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []Record
	dec := json.NewDecoder(bufio.NewReader(f))
	for dec.More() {
		var r Record
		if err := dec.Decode(&r); err != nil {
			return recs, fmt.Errorf("%s: record %d: %w", path, len(recs)+1, err)
		}
		if r.Schema != SchemaVersion {
			return recs, fmt.Errorf("%s: record %d has schema %d; this ipclab reads %d", path, len(recs)+1, r.Schema, SchemaVersion)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// CSVHeader are the CSV columns: the flat part of a record.
var CSVHeader = []string{"run", "transport", "impl", "mode", "link", "size", "count", "placement", "skipped",
	"rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_p999_ns", "rtt_min_ns", "rtt_max_ns", "rtt_mean_ns", "rtt_stddev_ns",
	"oneway_p50_ns", "oneway_p99_ns", "msgs_per_sec", "mb_per_sec",
	"sender_cpu_ns_per_msg", "sender_ctxsw_per_msg", "receiver_cpu_ns_per_msg", "receiver_ctxsw_per_msg",
	"steal_ms", "kernel", "cpu_model", "go_version", "commit"}

// WriteCSV writes the flat part of the records, one row each.
func WriteCSV(path string, recs []Record) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(CSVHeader)
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, r := range recs {
		row := []string{strconv.Itoa(r.Run), r.Transport, r.Impl, r.Mode, r.Link, strconv.Itoa(r.Size),
			strconv.Itoa(r.Count), r.Placement, r.Skipped}
		if s := r.RTT; s != nil {
			row = append(row, num(s.P50), num(s.P90), num(s.P99), num(s.P999), num(s.Min), num(s.Max), num(s.Mean), num(s.Stddev))
		} else {
			row = append(row, "", "", "", "", "", "", "", "")
		}
		if s := r.OneWay; s != nil {
			row = append(row, num(s.P50), num(s.P99))
		} else {
			row = append(row, "", "")
		}
		row = append(row, num(r.MsgsPerSec), num(r.MBPerSec),
			num(r.Sender.CPUNsPerMsg), num(r.Sender.CtxSwPerMsg), num(r.Receiver.CPUNsPerMsg), num(r.Receiver.CtxSwPerMsg),
			strconv.FormatInt(r.StealMs, 10))
		if e := r.Env; e != nil {
			row = append(row, e.Kernel, e.CPUModel, e.GoVersion, e.Commit)
		} else {
			row = append(row, "", "", "", "")
		}
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
