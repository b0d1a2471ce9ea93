package tcp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// sameUser checks, in /proc/net/tcp (or tcp6), that the socket whose
// local address is local and remote address remote belongs to our user.
// The kernel gives TCP no peer credentials; this table gives every
// socket's owner. A socket missing from it (it closed meanwhile) is
// refused too: its owner cannot be known.
func sameUser(local, remote netip.AddrPort) error {
	uid, err := owner(local, remote)
	if err != nil {
		return err
	}
	if me := os.Geteuid(); uid != me {
		return fmt.Errorf("%w: the connection's other end (%s) belongs to uid %d, not to us (%d)", fs.ErrPermission, local, uid, me)
	}
	return nil
}

func owner(local, remote netip.AddrPort) (int, error) {
	files := []string{"/proc/net/tcp", "/proc/net/tcp6"}
	want := [2]string{procAddr(local, false), procAddr(remote, false)}
	want6 := [2]string{procAddr(local, true), procAddr(remote, true)}
	for i, name := range files {
		w := want
		if i == 1 {
			w = want6
		}
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
			fl := strings.Fields(sc.Text())
			if len(fl) < 8 || fl[1] != w[0] || fl[2] != w[1] {
				continue
			}
			f.Close()
			return strconv.Atoi(fl[7])
		}
		f.Close()
	}
	return 0, fmt.Errorf("the socket %s -> %s is not in /proc/net/tcp: its owner cannot be checked", local, remote)
}

// procAddr is ap as /proc/net/tcp prints it: the address as the kernel's
// 32-bit words in host order, in hex, then the port. An IPv4 address in
// tcp6 is v4-mapped.
func procAddr(ap netip.AddrPort, six bool) string {
	var b strings.Builder
	if !six {
		if !ap.Addr().Is4() {
			return ""
		}
		a := ap.Addr().As4()
		fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(a[:]))
	} else {
		a := ap.Addr().As16()
		for i := 0; i < 16; i += 4 {
			fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(a[i:]))
		}
	}
	fmt.Fprintf(&b, ":%04X", ap.Port())
	return b.String()
}
