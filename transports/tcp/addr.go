package tcp

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab"
)

// Scheme is the transport's name.
const Scheme = "tcp"

// Addr is a loopback address and port: tcp:127.0.0.1:5000, tcp:[::1]:5000.
// Port 0 asks the kernel for a free port when creating; the creator's
// Addr then carries the port it got.
type Addr struct{ AddrPort netip.AddrPort }

func (a Addr) Transport() string { return Scheme }
func (a Addr) String() string    { return Scheme + ":" + a.AddrPort.String() }

// ParseAddr parses tcp:IP:PORT, where IP must be a loopback address
// (127.0.0.0/8 or ::1): the transport is a local IPC mechanism, and a
// socket reachable from other machines is not one.
func ParseAddr(s string) (Addr, error) {
	bad := func(why string) (Addr, error) { return Addr{}, &ipclab.AddrError{Addr: s, Reason: why} }
	rest, ok := strings.CutPrefix(s, Scheme+":")
	if !ok {
		return bad("want tcp:127.0.0.1:PORT or tcp:[::1]:PORT")
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return bad("want tcp:127.0.0.1:PORT or tcp:[::1]:PORT (" + err.Error() + ")")
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return bad("the host must be a numeric loopback address such as 127.0.0.1 or ::1, not " + strconv.Quote(host))
	}
	if !ip.Unmap().IsLoopback() {
		return bad(ip.String() + " is not a loopback address: the tcp transport is loopback only (127.0.0.0/8, ::1), so that nothing outside this machine can reach it")
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return bad("the port must be a number 0..65535, not " + strconv.Quote(port))
	}
	return Addr{netip.AddrPortFrom(ip.Unmap(), uint16(n))}, nil
}
