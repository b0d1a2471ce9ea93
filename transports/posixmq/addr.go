package posixmq

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/ipclab/ipclab"
)

// Scheme is the address prefix of this transport.
const Scheme = "posixmq"

// Addr names a channel by the base name of its two queues, or, with
// Single, by the name of its one queue.
//
//	posixmq:/lab          two queues, /lab.1 and /lab.2, one per direction
//	posixmq:/lab,single   one queue, /lab itself, one way: see Single
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
}

func (a Addr) Transport() string { return Scheme }
func (a Addr) String() string {
	if a.Single {
		return Scheme + ":" + a.Name + ",single"
	}
	return Scheme + ":" + a.Name
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

// ParseAddr parses "posixmq:/name" and "posixmq:/name,single".
func ParseAddr(s string) (Addr, error) {
	name, ok := strings.CutPrefix(s, Scheme+":")
	if !ok {
		return Addr{}, &ipclab.AddrError{Addr: s, Reason: "want " + Scheme + ":/name or " + Scheme + ":/name,single"}
	}
	name, opt, hasOpt := strings.Cut(name, ",")
	if hasOpt && opt != "single" {
		return Addr{}, &ipclab.AddrError{Addr: s, Reason: "unknown option " + opt + "; the only one is single (one queue, one way)"}
	}
	if err := checkName(name); err != nil {
		return Addr{}, &ipclab.AddrError{Addr: s, Reason: err.Error()}
	}
	return Addr{Name: name, Single: hasOpt}, nil
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
