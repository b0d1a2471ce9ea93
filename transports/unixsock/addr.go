package unixsock

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sockconn"
)

// Schemes of the three socket types.
const (
	SchemeStream    = "unixsock-stream"
	SchemeSeqPacket = "unixsock-seqpacket"
	SchemeDgram     = "unixsock-dgram"
)

// maxPath is the room in sockaddr_un's sun_path (108 bytes, less the NUL
// a path needs; an abstract name has its leading NUL instead).
const maxPath = 107

// Addr names one channel:
//
//	unixsock-stream:@NAME     the abstract name NAME (no file; gone with the socket)
//	unixsock-stream:/a/path   a socket file (any address not starting with @ or fd=)
//	unixsock-stream:fd=3      an inherited end of a socketpair
//
// and the same with unixsock-seqpacket and unixsock-dgram. A relative PATH
// is resolved in each process's working directory.
type Addr struct {
	Kind     sockconn.Kind
	Abstract string // without the @
	Path     string
	FD       int // inherited end; -1 when none
}

func (a Addr) Transport() string { return schemeOf(a.Kind) }

func (a Addr) String() string {
	switch {
	case a.FD >= 0:
		return fmt.Sprintf("%s:fd=%d", a.Transport(), a.FD)
	case a.Abstract != "":
		return a.Transport() + ":@" + a.Abstract
	}
	return a.Transport() + ":" + a.Path
}

func schemeOf(k sockconn.Kind) string {
	switch k {
	case sockconn.SeqPacket:
		return SchemeSeqPacket
	case sockconn.Datagram:
		return SchemeDgram
	}
	return SchemeStream
}

// ParseAddr parses the forms Addr.String prints.
func ParseAddr(s string) (Addr, error) {
	bad := func(why string) (Addr, error) { return Addr{}, &ipclab.AddrError{Addr: s, Reason: why} }
	scheme, rest, ok := strings.Cut(s, ":")
	a := Addr{FD: -1}
	switch scheme {
	case SchemeStream:
		a.Kind = sockconn.Stream
	case SchemeSeqPacket:
		a.Kind = sockconn.SeqPacket
	case SchemeDgram:
		a.Kind = sockconn.Datagram
	default:
		ok = false
	}
	if !ok {
		return bad("want unixsock-{stream,seqpacket,dgram}:@NAME, :PATH or :fd=N")
	}
	switch {
	case rest == "" || rest == "@":
		return bad("empty name; want @NAME (abstract), a path, or fd=N")
	case strings.IndexByte(rest, 0) >= 0:
		return bad("a name cannot hold a NUL byte")
	case strings.HasPrefix(rest, "fd="):
		n, err := strconv.Atoi(rest[3:])
		if err != nil || n < 0 {
			return bad("fd=N wants a non-negative descriptor number")
		}
		a.FD = n
	case strings.HasPrefix(rest, "@"):
		a.Abstract = rest[1:]
	default:
		a.Path = rest
	}
	if n := len(a.Abstract) + len(a.Path); n > maxPath {
		return bad(fmt.Sprintf("%d bytes; a Unix socket address holds at most %d (sockaddr_un's sun_path)", n, maxPath))
	}
	return a, nil
}

// name is the address as the kernel keeps it and recvmsg reports it: the
// abstract name after a NUL, or the path with its NUL.
func (a Addr) name() []byte {
	if a.Abstract != "" {
		return append([]byte{0}, a.Abstract...)
	}
	return append([]byte(a.Path), 0)
}

// sockaddr is the address for bind and connect (x/sys writes a leading
// @ as the abstract namespace's NUL).
func (a Addr) sockaddr() string {
	if a.Abstract != "" {
		return "@" + a.Abstract
	}
	return a.Path
}
