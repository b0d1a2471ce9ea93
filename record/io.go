package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
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
