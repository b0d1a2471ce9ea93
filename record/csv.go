package record

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The CSV is the record flattened, column for field, so that no field
// that tells two cases apart (offered rate, producers, warm-up, link
// counters, ...) can be left out by a list someone forgot to extend: the
// columns are derived from Record's JSON names. A nested struct's
// columns are prefixed with its name (rtt_p50_ns, sender_cpu_ns_per_msg,
// link_sender_capacity); the environment's are not (kernel, commit,
// command). Left out, and kept in results.jsonl: the 100 quantiles of
// each latency summary (the CDF) and the machine's floor, a JSON
// document of its own.
//
// Floats are rounded to what the instruments resolve, so no binary noise
// (65359.81000000006) poses as precision: latencies to the nanosecond
// (samples are whole nanoseconds; a percentile between two is no finer),
// every other float (rates, MB/s, CPU time and context switches per
// message, clock costs) to 4 significant digits, finer than the run-to-run
// spread of any of them here (percents at best) and than getrusage's
// microseconds spread over the messages of one case.

// csvSkip are the JSON names left out of the CSV (see above).
var csvSkip = map[string]bool{"quantiles_ns": true, "floor": true}

// CSVHeader are the CSV columns.
var CSVHeader = csvColumns(reflect.TypeOf(Record{}), "")

func csvColumns(t reflect.Type, prefix string) []string {
	var out []string
	for _, f := range csvFields(t) {
		name := jsonName(f)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == reflect.TypeOf(Env{}):
			out = append(out, csvColumns(ft, "")...)
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}):
			out = append(out, csvColumns(ft, prefix+name+"_")...)
		default:
			out = append(out, prefix+name)
		}
	}
	return out
}

// csvFields are t's fields that have a column or columns.
func csvFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		if name := jsonName(f); f.IsExported() && name != "-" && !csvSkip[name] {
			out = append(out, f)
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		name = f.Name
	}
	return name
}

// csvRow is r's cells, in CSVHeader's order.
func csvRow(r *Record) []string {
	return csvCells(reflect.ValueOf(r).Elem(), false)
}

// csvCells flattens v; ns says v is a latency summary, whose floats are
// nanoseconds.
func csvCells(v reflect.Value, ns bool) []string {
	var out []string
	t := v.Type()
	for _, f := range csvFields(t) {
		fv := v.FieldByIndex(f.Index)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
			if fv.IsNil() {
				n := 1
				if ft.Kind() == reflect.Struct {
					n = len(csvColumns(ft, ""))
				}
				out = append(out, make([]string, n)...)
				continue
			}
			fv = fv.Elem()
		}
		switch {
		case ft == reflect.TypeOf(time.Time{}):
			out = append(out, fv.Interface().(time.Time).Format(time.RFC3339Nano))
		case ft.Kind() == reflect.Struct:
			out = append(out, csvCells(fv, ft == reflect.TypeOf(Summary{}))...)
		default:
			out = append(out, csvValue(fv, ns))
		}
	}
	return out
}

func csvValue(v reflect.Value, ns bool) string {
	switch v.Kind() {
	case reflect.Float64:
		if ns {
			return RoundNs(v.Float())
		}
		return Round4(v.Float())
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		if v.Type().Elem().Kind() == reflect.String {
			return ShellJoin(parts)
		}
		return strings.Join(parts, " ")
	case reflect.Map:
		var parts []string
		for _, k := range v.MapKeys() {
			parts = append(parts, fmt.Sprintf("%v=%v", k.Interface(), v.MapIndex(k).Interface()))
		}
		slices.Sort(parts)
		return strings.Join(parts, " ")
	}
	b, _ := json.Marshal(v.Interface())
	return string(b)
}

// RoundNs writes nanoseconds to the nanosecond.
func RoundNs(v float64) string {
	return strconv.FormatFloat(float64(int64(v+0.5*sign(v))), 'f', -1, 64)
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// Round4 writes v to 4 significant digits, in plain decimals (1235000,
// 0.01235): the shortest decimal that reads back as the rounded value.
func Round4(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// ShellJoin quotes a command line so a POSIX shell reads it back word for
// word: words of safe characters as they are, others in single quotes.
func ShellJoin(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+%@") == "" {
			out[i] = w
		} else {
			out[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// WriteCSV writes the records to a file, one row each (columns:
// CSVHeader).
func WriteCSV(path string, recs []Record) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteCSVTo(f, recs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteCSVTo writes the records as CSV to w.
func WriteCSVTo(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	for i := range recs {
		cw.Write(csvRow(&recs[i]))
	}
	cw.Flush()
	return cw.Error()
}
