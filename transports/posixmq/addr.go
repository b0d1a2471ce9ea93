package posixmq

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
)

// Scheme is the address prefix of this transport.
const Scheme = "posixmq"

// Addr names a channel by the base name of its two queues, or, with
// Single, by the name of its one queue.
//
//	posixmq:/lab                    two queues, /lab.1 and /lab.2, one per direction
//	posixmq:/lab,single             one queue, /lab itself, one way: see Single
//	posixmq:/lab,owner=any          the same, even if another user owns them
//	posixmq:/lab,single,owner=any   (see AnyOwner)
type Addr struct {
	Name string
	// Single: the channel is the one queue Name, as a C program's
	// mq_open(Name) sees it. It carries messages one way only, from the
	// openers to the creator (a process that received on the queue it
	// sends to would take its own messages), and nothing but the
	// messages: no open or close marker, so a C receiver sees exactly
	// what was sent, and the creator learns of no opener's end (it ends
	// on Close, or Ctrl-C in the CLI).
	Single bool
	// AnyOwner (,owner=any): Open uses queues another user owns, or whose
	// mode lets other users in; refused by default, since their owner, or
	// whoever the mode lets in, could read our messages or feed us theirs.
	AnyOwner bool
}

func (a Addr) Transport() string { return Scheme }
func (a Addr) String() string {
	s := Scheme + ":" + a.Name
	if a.Single {
		s += ",single"
	}
	if a.AnyOwner {
		s += "," + chanend.OwnerAny
	}
	return s
}

// Queue names of the two directions.
func (a Addr) toOpener() string  { return a.Name + ".1" }
func (a Addr) toCreator() string { return a.Name + ".2" }

// queues are the names of the channel's queues.
func (a Addr) queues() []string {
	if a.Single {
		return []string{a.Name}
	}
	return []string{a.toOpener(), a.toCreator()}
}

// ParseAddr parses "posixmq:/name" and the options Addr.String prints
// after it, ",single" and ",owner=any", each at most once.
func ParseAddr(s string) (Addr, error) {
	bad := func(why string) (Addr, error) { return Addr{}, &ipclab.AddrError{Addr: s, Reason: why} }
	rest, ok := strings.CutPrefix(s, Scheme+":")
	if !ok {
		return bad("want " + Scheme + ":/name, optionally ,single and ," + chanend.OwnerAny)
	}
	name, opts, hasOpts := strings.Cut(rest, ",")
	a := Addr{Name: name}
	seen := map[string]bool{}
	for _, opt := range strings.Split(opts, ",") {
		if !hasOpts {
			break
		}
		if opt == "" {
			return bad("an empty option (a stray comma); the options are single and " + chanend.OwnerAny)
		}
		k, v, _ := strings.Cut(opt, "=")
		if seen[k] {
			return bad(k + " given twice")
		}
		seen[k] = true
		switch {
		case opt == "single":
			a.Single = true
		case k == "owner":
			if err := chanend.ParseOwner(v); err != nil {
				return bad(err.Error())
			}
			a.AnyOwner = true
		default:
			return bad("unknown option " + opt + "; the options are single (one queue, one way) and " + chanend.OwnerAny)
		}
	}
	if err := checkName(name); err != nil {
		return bad(err.Error())
	}
	return a, nil
}

func checkName(name string) error {
	switch {
	case !strings.HasPrefix(name, "/") || len(name) < 2:
		return errors.New("a queue name starts with / and has at least one more character")
	case strings.Contains(name[1:], "/"):
		return errors.New("a queue name has no / after the first")
	case len(name)+2 > 255:
		return errors.New("a queue name is at most 253 bytes (NAME_MAX less the .1/.2 suffix)")
	}
	return nil
}

var nameSeq atomic.Uint64

// NewName returns a base name no other channel of this machine uses now.
func NewName() string {
	return fmt.Sprintf("/ipclab-%d-%d", os.Getpid(), nameSeq.Add(1))
}
