package sysvmsg

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/sysipc"
)

// Scheme is the address prefix of this transport.
const Scheme = "sysvmsg"

// Addr names a SysV message queue by key, by id (for IPC_PRIVATE queues), or
// by the path and project id that ftok(3) turns into a key.
//
//	sysvmsg:key=0x4d2
//	sysvmsg:id=32769
//	sysvmsg:path=/bin/cat,proj=65
//	sysvmsg:key=0x4d2,owner=any
//
// proj is any int, as C passes it to ftok(3); glibc uses its low 8 bits,
// so proj=1300 and proj=20 name the same queue, and proj=0 is allowed.
// owner=any lets Open use a queue another user owns or created, or whose
// mode lets other users in (refused by default: see Options).
type Addr struct {
	Key      sysipc.Key // used when ID < 0 and Path == ""
	ID       int        // >= 0 names the queue by id
	Path     string     // with Proj: the key is ftok(Path, Proj)
	Proj     int
	AnyOwner bool // owner=any
}

func (a Addr) Transport() string { return Scheme }

func (a Addr) String() string {
	var s string
	switch {
	case a.ID >= 0:
		s = fmt.Sprintf("%s:id=%d", Scheme, a.ID)
	case a.Path != "":
		s = fmt.Sprintf("%s:path=%s,proj=%d", Scheme, a.Path, a.Proj)
	default:
		s = fmt.Sprintf("%s:key=%#x", Scheme, uint32(a.Key))
	}
	if a.AnyOwner {
		s += "," + chanend.OwnerAny
	}
	return s
}

// key resolves the address to a key (for msgget).
func (a Addr) key() (sysipc.Key, error) {
	if a.Path != "" {
		return sysipc.FtokKey(a.Path, a.Proj)
	}
	return a.Key, nil
}

// ParseAddr parses the forms Addr.String prints.
func ParseAddr(s string) (Addr, error) {
	bad := func(why string) (Addr, error) { return Addr{}, &ipclab.AddrError{Addr: s, Reason: why} }
	rest, ok := strings.CutPrefix(s, Scheme+":")
	if !ok {
		return bad("want " + Scheme + ":key=0xKEY, " + Scheme + ":id=ID or " + Scheme + ":path=PATH,proj=N, optionally ," + chanend.OwnerAny)
	}
	a := Addr{ID: -1}
	seen := map[string]bool{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return bad(fmt.Sprintf("%q is not key=value", kv))
		}
		if seen[k] {
			return bad(k + " given twice")
		}
		seen[k] = true
		switch k {
		case "key":
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil {
				return bad("key must be a 32-bit number such as 0x4d2")
			}
			a.Key = sysipc.Key(int32(uint32(n)))
		case "id":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return bad("id must be a non-negative number")
			}
			a.ID = n
		case "path":
			a.Path = v
		case "proj":
			n, err := sysipc.ParseProj(v)
			if err != nil {
				return bad(err.Error())
			}
			a.Proj = n
		case "owner":
			if err := chanend.ParseOwner(v); err != nil {
				return bad(err.Error())
			}
			a.AnyOwner = true
		default:
			return bad("unknown parameter " + k)
		}
	}
	switch {
	case seen["path"] != seen["proj"]:
		return bad("path and proj go together")
	case btoi(seen["key"])+btoi(seen["id"])+btoi(seen["path"]) != 1:
		return bad("give exactly one of key, id, or path+proj")
	case seen["key"] && a.Key == sysipc.IPCPrivate:
		return bad("key 0 is IPC_PRIVATE, which no other process can open; use id=")
	}
	return a, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
