package tcp

import (
	"errors"
	"os"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/transports/transporttest"
)

var trTCP = transporttest.Transport{
	Name:         Scheme,
	Create:       func() (ipclab.Conn, []*os.File, error) { c, err := Create(Options{}); return c, nil, err },
	Open:         func(addr string) (ipclab.Conn, error) { return Open(addr, Options{}) },
	CreateInPeer: true,
	BadAddrs: []string{"tcp:", "tcp:127.0.0.1", "tcp:127.0.0.1:x", "tcp:127.0.0.1:70000", "tcp:localhost:80",
		"tcp:10.0.0.1:80", "tcp:[2001:db8::1]:80", "tcp:0.0.0.0:80", "unixsock-stream:@x"},
	MissingAddr: missingAddr,
}

// missingAddr is a loopback port nobody listens on: one the kernel gave a
// socket that then closed without listening.
func missingAddr() string {
	c, err := Create(Options{})
	if err != nil {
		return "tcp:127.0.0.1:1"
	}
	a := c.Addr().String()
	c.Close()
	return a
}

func TestMain(m *testing.M) { transporttest.Main(m, trTCP, transporttest.Held(trTCP)) }

func TestConformance(t *testing.T) {
	transporttest.Run(t, trTCP)
	t.Run("held", func(t *testing.T) { transporttest.Run(t, transporttest.Held(trTCP)) })
}

func TestNonLoopbackRefused(t *testing.T) {
	for _, a := range []string{"tcp:192.168.1.1:0", "tcp:0.0.0.0:0", "tcp:[::]:0"} {
		_, err := ParseAddr(a)
		var ae *ipclab.AddrError
		if !errors.As(err, &ae) {
			t.Errorf("ParseAddr(%q) = %v, want an AddrError refusing a non-loopback address", a, err)
		}
	}
}

func TestProcAddr(t *testing.T) {
	a, err := ParseAddr("tcp:127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	// /proc/net/tcp on a little-endian machine prints 127.0.0.1:8080 so.
	if got := procAddr(a.AddrPort, false); got != "0100007F:1F90" && got != "7F000001:1F90" {
		t.Fatalf("procAddr = %q", got)
	}
}
