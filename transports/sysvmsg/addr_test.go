package sysvmsg

import (
	"testing"

	"github.com/ipclab/ipclab/internal/sysipc"
)

// TestProjAnyInt: proj is any int, as C passes it to ftok; glibc keeps
// its low 8 bits, so 1300 and 20 are one key, and 0 is a key too.
func TestProjAnyInt(t *testing.T) {
	keyOf := func(addr string) sysipc.Key {
		t.Helper()
		a, err := ParseAddr(addr)
		if err != nil {
			t.Fatal(err)
		}
		k, err := a.key()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k20, k1300 := keyOf("sysvmsg:path=/bin/cat,proj=20"), keyOf("sysvmsg:path=/bin/cat,proj=1300"); k20 != k1300 {
		t.Errorf("proj 20: %s, proj 1300: %s; glibc gives one key", k20, k1300)
	}
	want, _ := sysipc.Ftok("/bin/cat", 0)
	if k := keyOf("sysvmsg:path=/bin/cat,proj=0"); k != want {
		t.Errorf("proj 0: %s, want %s", k, want)
	}
}

// TestRecvTypeSkipsMarkers: raw mtype access never hands out the openers'
// open and close markers; a selection that leaves them queued learns of
// the close from TakeMarkers.
func TestRecvTypeSkipsMarkers(t *testing.T) {
	c, err := Create(sysipc.IPCPrivate, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o, err := Open(c.Addr().String(), Options{}) // queues its open marker
	if err != nil {
		t.Fatal(err)
	}
	if err := o.SendType([]byte("siete"), 7); err != nil {
		t.Fatal(err)
	}
	if err := o.SendType(nil, TypeClosed); err == nil {
		t.Fatal("SendType accepted the close marker's type")
	}
	buf := make([]byte, 64)
	n, mt, err := c.RecvType(buf, 0) // the open marker is first in the queue
	if err != nil || mt != 7 || string(buf[:n]) != "siete" {
		t.Fatalf("RecvType(0) = %q, type %d, %v; want siete, type 7", buf[:n], mt, err)
	}
	if _, _, err := c.RecvType(buf, TypeOpened); err == nil {
		t.Fatal("RecvType selected the markers' type")
	}
	if c.TakeMarkers() {
		t.Fatal("TakeMarkers: openers gone while one is open")
	}
	o.Close()
	if !c.TakeMarkers() {
		t.Fatal("TakeMarkers: the opener closed, yet not gone")
	}
}
