package sysvshm

import (
	"fmt"
	"testing"

	"github.com/ipclab/ipclab/internal/sysipc"
)

// TestFtokAddr: path=,proj= is the key glibc's ftok gives, proj taken as
// C takes it (any int, low 8 bits), so the seeds' ftok("/bin/cat", 1300)
// and ftok(path, 0) name a segment here too.
func TestFtokAddr(t *testing.T) {
	for _, proj := range []int{0, 20, 1300, -1} {
		a, err := ParseAddr(fmt.Sprintf("sysvshm:path=/bin/cat,proj=%d", proj))
		if err != nil {
			t.Fatal(err)
		}
		want, err := sysipc.Ftok("/bin/cat", proj)
		if err != nil {
			t.Fatal(err)
		}
		if a.Key != want || a.ID != -1 {
			t.Errorf("proj %d: key %s id %d, want key %s", proj, a.Key, a.ID, want)
		}
		if got := a.String(); got != fmt.Sprintf("sysvshm:key=%#x", uint32(want)) {
			t.Errorf("proj %d: String() = %s", proj, got)
		}
	}
	a20, _ := ParseAddr("sysvshm:path=/bin/cat,proj=20")
	a1300, _ := ParseAddr("sysvshm:path=/bin/cat,proj=1300")
	if a20.Key != a1300.Key {
		t.Errorf("proj 20 gives %s, proj 1300 %s: glibc keeps the low 8 bits (1300 = 0x514)", a20.Key, a1300.Key)
	}
}
