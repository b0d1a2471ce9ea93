package pipe

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
)

// Schemes of this package's two transports.
const (
	SchemePipe = "pipe" // anonymous pipes inherited by a child process
	SchemeFIFO = "fifo" // named pipes in the file system
)

// Addr names either a pair of inherited descriptors or a FIFO base path.
//
//	pipe:rfd=3,wfd=4               read descriptor 3, write descriptor 4
//	fifo:/tmp/demo.fifo            FIFOs /tmp/demo.fifo.1 and /tmp/demo.fifo.2
//	fifo:/tmp/demo.fifo,owner=any  the same, even if another user owns them
//
// A FIFO path is taken whole, commas included, except a final ,owner=any.
type Addr struct {
	Path     string // fifo: base path
	RFD, WFD int    // pipe: descriptors in the opening process
	// AnyOwner (fifo: ,owner=any): use FIFOs another user owns or whose
	// mode lets other users in; refused by default (see Options).
	AnyOwner bool
}

func (a Addr) Transport() string {
	if a.Path != "" {
		return SchemeFIFO
	}
	return SchemePipe
}

func (a Addr) String() string {
	if a.Path != "" && a.AnyOwner {
		return SchemeFIFO + ":" + a.Path + "," + chanend.OwnerAny
	}
	if a.Path != "" {
		return SchemeFIFO + ":" + a.Path
	}
	return fmt.Sprintf("%s:rfd=%d,wfd=%d", SchemePipe, a.RFD, a.WFD)
}

// FIFO paths of the two directions.
func (a Addr) toOpener() string  { return a.Path + ".1" }
func (a Addr) toCreator() string { return a.Path + ".2" }

// ParseAddr parses the forms Addr.String prints.
func ParseAddr(s string) (Addr, error) {
	bad := func(why string) (Addr, error) { return Addr{}, &ipclab.AddrError{Addr: s, Reason: why} }
	if p, ok := strings.CutPrefix(s, SchemeFIFO+":"); ok {
		p, any := strings.CutSuffix(p, ","+chanend.OwnerAny)
		if p == "" {
			return bad("want fifo:PATH or fifo:PATH," + chanend.OwnerAny)
		}
		return Addr{Path: p, AnyOwner: any}, nil
	}
	rest, ok := strings.CutPrefix(s, SchemePipe+":")
	if !ok {
		return bad("want pipe:rfd=N,wfd=M or fifo:PATH")
	}
	a := Addr{RFD: -1, WFD: -1}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return bad(fmt.Sprintf("%q: a descriptor is a non-negative number", kv))
		}
		switch k {
		case "rfd":
			a.RFD = n
		case "wfd":
			a.WFD = n
		default:
			return bad("unknown parameter " + k)
		}
	}
	if a.RFD < 0 || a.WFD < 0 || a.RFD == a.WFD {
		return bad("want two different descriptors, rfd and wfd")
	}
	return a, nil
}
