package transports

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sockconn"
	"github.com/ipclab/ipclab/shmchan"
	"github.com/ipclab/ipclab/transports/pipe"
	"github.com/ipclab/ipclab/transports/posixmq"
	"github.com/ipclab/ipclab/transports/posixshm"
	"github.com/ipclab/ipclab/transports/sysvmsg"
	"github.com/ipclab/ipclab/transports/sysvshm"
	"github.com/ipclab/ipclab/transports/tcp"
	"github.com/ipclab/ipclab/transports/unixsock"
)

func TestSharedMemory(t *testing.T) {
	for name, want := range map[string]bool{
		"sysvshm": true, "sysvshm-futex": true, "sysvshm-spin": true, "sysvshm:key=0x1234": true,
		"pipe": false, "fifo:/tmp/x": false, "sysvmsg": false, "posixmq:/q": false, "sysvshmx": false,
		"sysvshm-futex:key=0x1": false, // not an address: its scheme is sysvshm
		"posixshm":              true, "posixshm-posixsem": true, "posixshm:name=/x": true,
	} {
		if got := SharedMemory(name); got != want {
			t.Errorf("SharedMemory(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	if want := []string{"pipe", "fifo", "sysvmsg", "posixmq", "sysvshm", "posixshm", "unixsock-stream", "unixsock-seqpacket", "unixsock-dgram", "tcp"}; !reflect.DeepEqual(Names, want) {
		t.Errorf("Names %v, want %v", Names, want)
	}
	if want := []string{"sysvshm-futex", "sysvshm-sysvsem", "sysvshm-spin", "posixshm-futex", "posixshm-posixsem", "posixshm-spin", "posixshm-eventfd"}; !reflect.DeepEqual(Variants, want) {
		t.Errorf("Variants %v, want %v", Variants, want)
	}
	if want := []string{"pipe", "fifo", "sysvmsg", "posixmq", "sysvshm-futex", "sysvshm-sysvsem", "sysvshm-spin",
		"posixshm-futex", "posixshm-posixsem", "posixshm-spin", "posixshm-eventfd",
		"unixsock-stream", "unixsock-seqpacket", "unixsock-dgram", "tcp"}; !reflect.DeepEqual(Distinct(), want) {
		t.Errorf("Distinct %v, want %v", Distinct(), want)
	}
	for _, bad := range []string{"", "bogus", "bogus:x", "sysvshm-bogus", "sysvshm-futex:key=0x1", "pipe-x"} {
		var ae *ipclab.AddrError
		if _, err := Lookup(bad); !errors.As(err, &ae) {
			t.Errorf("Lookup(%q): %v, want an AddrError", bad, err)
		}
	}
	if tr, err := Lookup("sysvshm:key=0x1,wait=spin"); err != nil || tr.Name != "sysvshm" {
		t.Errorf("Lookup of an address: %+v, %v", tr, err)
	}
}

// The table's capabilities are what its Conns' types implement: checked
// from the types, so no object is created.
func TestCapsMatchTheConns(t *testing.T) {
	types := map[string]ipclab.Conn{
		pipe.SchemePipe: (*pipe.Conn)(nil), pipe.SchemeFIFO: (*pipe.Conn)(nil),
		sysvmsg.Scheme: (*sysvmsg.Conn)(nil), posixmq.Scheme: (*posixmq.Conn)(nil), sysvshm.Scheme: (*sysvshm.Conn)(nil),
		posixshm.Scheme:       (*posixshm.Conn)(nil),
		unixsock.SchemeStream: (*sockconn.Conn)(nil), unixsock.SchemeSeqPacket: (*sockconn.Conn)(nil),
		unixsock.SchemeDgram: (*sockconn.Conn)(nil), tcp.Scheme: (*sockconn.Conn)(nil),
	}
	for _, tr := range All() {
		c, ok := types[tr.Scheme]
		if !ok {
			t.Fatalf("%s: no Conn type for scheme %s", tr.Name, tr.Scheme)
		}
		_, prio := c.(ipclab.PriorityConn)
		_, zs := c.(ipclab.ZeroCopySender)
		_, zr := c.(ipclab.ZeroCopyReceiver)
		if prio != tr.Priorities || zs != tr.ZeroCopy || zr != tr.ZeroCopy {
			t.Errorf("%s: Priorities %v ZeroCopy %v; its Conn: PriorityConn %v, ZeroCopySender %v, ZeroCopyReceiver %v",
				tr.Name, tr.Priorities, tr.ZeroCopy, prio, zs, zr)
		}
		if tr.Alias != "" {
			a, err := Lookup(tr.Alias)
			if err != nil || a.Alias != "" || a.Variant != tr.Variant || a.Caps != tr.Caps {
				t.Errorf("%s is an alias of %s, which differs: %+v, %v", tr.Name, tr.Alias, a, err)
			}
		}
	}
}

// A caller's largest message sizes a shared-memory ring only where the
// default one cannot carry it.
func TestShmConfigSizesTheRing(t *testing.T) {
	for _, tc := range []struct{ msg, ring, max int }{
		{0, 0, 0}, {shmchan.DefaultMaxMessage, 0, 0},
		{shmchan.DefaultMaxMessage + 1, shmchan.RingSizeFor(shmchan.DefaultMaxMessage + 1), shmchan.DefaultMaxMessage + 1},
		{1 << 20, 8 << 20, 1 << 20},
	} {
		cfg := Options{Register: true, MaxMessage: tc.msg}.shmConfig(shmchan.Spin)
		if cfg.RingSize != tc.ring || cfg.MaxMessage != tc.max || cfg.Strategy != shmchan.Spin || !cfg.Register {
			t.Errorf("MaxMessage %d: %+v, want ring %d, maximum %d", tc.msg, cfg, tc.ring, tc.max)
		}
	}
}
