package record

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
)

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

// TruncatedError says the last line of a records file was cut short (a
// run killed, or a disk filled, while it was written): ReadJSONL leaves
// that line out and returns the records before it with this error, which
// callers may take as a warning.
type TruncatedError struct {
	Path string
	Line int
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("%s: line %d is cut short (a run stopped while writing it?) and was left out", e.Path, e.Line)
}

// ReadJSONL reads records written by WriteJSONL or appended by a RunDir.
// Any malformed line is an error, except a last line without its newline,
// which a run cut short may leave: see TruncatedError.
func ReadJSONL(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []Record
	rd := bufio.NewReader(f)
	for line := 1; ; line++ {
		b, rerr := rd.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			var r Record
			if err := json.Unmarshal(b, &r); err != nil {
				if rerr == io.EOF { // no newline: the write was cut short
					return recs, &TruncatedError{Path: path, Line: line}
				}
				return recs, fmt.Errorf("%s: line %d: %w", path, line, err)
			}
			if r.Schema != SchemaVersion {
				return recs, fmt.Errorf("%s: line %d has schema %d; this ipclab reads %d", path, line, r.Schema, SchemaVersion)
			}
			recs = append(recs, r)
		}
		switch {
		case rerr == io.EOF:
			return recs, nil
		case rerr != nil:
			return recs, fmt.Errorf("%s: %w", path, rerr)
		}
	}
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
