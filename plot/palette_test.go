package plot

import (
	"testing"

	"github.com/ipclab/ipclab/transports"
)

// Every transport of the table has a style of its own: no two share a
// colour and a marker, and none falls back to the hashed extras, which
// several transports can share.
func TestEveryTransportHasItsOwnStyle(t *testing.T) {
	seen := map[markStyle]string{}
	for _, name := range transports.Distinct() {
		s, ok := transportStyles[name]
		if !ok {
			t.Errorf("%s has no style of its own in transportStyles", name)
			continue
		}
		if other, dup := seen[s]; dup {
			t.Errorf("%s and %s share a colour and marker", name, other)
		}
		seen[s] = name
	}
}
