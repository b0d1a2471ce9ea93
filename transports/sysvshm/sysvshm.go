// Package sysvshm is the ipclab transport over shmchan: a duplex channel
// in one System V shared memory segment, with the wait strategy chosen at
// creation (futex with a bounded spin by default, textbook SysV
// semaphores, or pure spin). See package shmchan for the layout and
// lifetime rules.
//
// Addresses: sysvshm:id=N (IPC_PRIVATE segments) or sysvshm:key=0xKEY,
// optionally with ,wait=STRATEGY, which Open then checks against the
// segment's header, and ,spin=off|DURATION, the opener's spin budget
// unless AttachOptions set one (the creator's address carries its own),
// and ,owner=any, which lets Open attach to a segment another user owns or
// created, or whose mode lets other users in (refused by default: see
// shmchan.AttachOptions.TrustOtherUsers).
// The segment is marked for removal as soon as the opener attaches, so an
// address can be opened once.
package sysvshm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/shmconn"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/shmchan"
	"golang.org/x/sys/unix"
)

// Scheme is the address prefix of this transport.
const Scheme = "sysvshm"

// Addr names a channel's segment: by key, by id, or by path=P,proj=N,
// which ParseAddr turns into the key ftok(3) gives (proj is any int, as C
// passes it: glibc uses its low 8 bits, and 0 is allowed); String prints
// that key.
type Addr struct {
	Key sysipc.Key // used when ID < 0
	ID  int
	shmconn.AddrOptions

	path string // path=, proj=: what Key was made from
	proj int
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (a Addr) Transport() string { return Scheme }

func (a Addr) String() string {
	s := fmt.Sprintf("%s:id=%d", Scheme, a.ID)
	if a.ID < 0 {
		s = fmt.Sprintf("%s:key=%#x", Scheme, uint32(a.Key))
	}
	return s + a.AddrOptions.String()
}

// ParseAddr parses the forms Addr.String prints.
func ParseAddr(s string) (Addr, error) {
	bad := func(why string) (Addr, error) { return Addr{}, &ipclab.AddrError{Addr: s, Reason: why} }
	rest, ok := strings.CutPrefix(s, Scheme+":")
	if !ok {
		return bad("want " + Scheme + ":id=ID, " + Scheme + ":key=0xKEY or " + Scheme + ":path=PATH,proj=N, optionally ,wait=futex|sysvsem|spin")
	}
	a := Addr{ID: -1}
	seen := map[string]bool{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" || seen[k] {
			return bad(fmt.Sprintf("%q is not a new key=value", kv))
		}
		seen[k] = true
		if known, err := a.AddrOptions.Parse(k, v); err != nil {
			return bad(err.Error())
		} else if known {
			if k == "wait" {
				if _, err := shmchan.ParseStrategy(v); err != nil {
					return bad(err.Error())
				}
			}
			continue
		}
		switch k {
		case "id":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return bad("id must be a non-negative number")
			}
			a.ID = n
		case "key":
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil || n == 0 {
				return bad("key must be a non-zero 32-bit number such as 0x4d2")
			}
			a.Key = sysipc.Key(int32(uint32(n)))
		case "path":
			a.path = v
		case "proj":
			n, err := sysipc.ParseProj(v)
			if err != nil {
				return bad(err.Error())
			}
			a.proj = n
		default:
			return bad("unknown parameter " + k)
		}
	}
	if seen["path"] != seen["proj"] {
		return bad("path and proj go together")
	}
	if btoi(seen["id"])+btoi(seen["key"])+btoi(seen["path"]) != 1 {
		return bad("give exactly one of id, key, or path and proj")
	}
	if seen["path"] {
		k, err := sysipc.FtokKey(a.path, a.proj)
		if err != nil {
			return bad("ftok: " + err.Error())
		}
		a.Key = k
	}
	return a, nil
}

var (
	_ ipclab.Conn             = (*Conn)(nil)
	_ ipclab.ZeroCopySender   = (*Conn)(nil)
	_ ipclab.ZeroCopyReceiver = (*Conn)(nil)
	_ ipclab.Buffered         = (*Conn)(nil)
)

// Conn is one side of a shared-memory channel (see internal/shmconn).
type Conn struct{ *shmconn.Conn }

// Create makes a channel; cfg.Key 0 makes an IPC_PRIVATE segment.
func Create(cfg shmchan.Config) (*Conn, error) {
	a := Addr{Key: cfg.Key, ID: -1, AddrOptions: shmconn.AddrOptions{Strategy: cfg.Strategy.String(), Spin: cfg.SpinBudget}}
	ch, err := shmchan.Create(cfg)
	if err != nil {
		return nil, chanend.OpError("create", a, err)
	}
	if cfg.Key == sysipc.IPCPrivate {
		a.ID = ch.ID()
	}
	return &Conn{shmconn.New(ch, a)}, nil
}

// Open attaches to the channel at addr.
func Open(addr string, opt shmchan.AttachOptions) (*Conn, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	id := a.ID
	if id < 0 {
		if id, err = unix.SysvShmGet(int(a.Key), 0, 0); err != nil {
			return nil, chanend.OpError("open", a, fmt.Errorf("shmget: %w: no segment has key %s (or its opener already attached)", err, a.Key))
		}
	}
	if opt.SpinBudget == 0 {
		opt.SpinBudget = a.Spin
	}
	opt.TrustOtherUsers = opt.TrustOtherUsers || a.AnyOwner
	ch, err := shmchan.Attach(id, opt)
	if err != nil {
		return nil, chanend.OpError("open", a, err)
	}
	if a.Strategy != "" && a.Strategy != ch.Strategy().String() {
		ch.Close()
		return nil, chanend.OpError("open", a, fmt.Errorf("the address says wait=%s, the channel uses %s", a.Strategy, ch.Strategy()))
	}
	return &Conn{shmconn.New(ch, a)}, nil
}
