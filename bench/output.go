package bench

import (
	"time"

	"github.com/ipclab/ipclab/record"
)

// Output takes each case's outcome the moment the case ends, so a run
// stopped at any point keeps what it measured. Run stops when Output
// cannot keep one: a measurement that cannot be kept is not worth making.
type Output interface {
	Record(record.Record) error
	Failure(record.Failure) error
}

var _ Output = (*record.RunDir)(nil)

// newFailure is the failure of case c.
func newFailure(c Case, err error) record.Failure {
	return record.Failure{Schema: record.SchemaVersion, Time: time.Now().UTC(), Case: c.String(), Run: c.Run, Transport: c.Transport,
		Impl: c.Impl, Mode: c.Mode, Link: c.Link.String(), Size: c.Size, OfferedRate: c.Rate, Producers: c.Producers, Error: err.Error()}
}
