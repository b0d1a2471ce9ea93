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

// Addr names a channel by the base name of its two queues.
type Addr struct{ Name string }

func (a Addr) Transport() string { return Scheme }
func (a Addr) String() string    { return Scheme + ":" + a.Name }

// Queue names of the two directions.
func (a Addr) toOpener() string  { return a.Name + ".1" }
func (a Addr) toCreator() string { return a.Name + ".2" }

// ParseAddr parses "posixmq:/name".
func ParseAddr(s string) (Addr, error) {
	name, ok := strings.CutPrefix(s, Scheme+":")
	if !ok {
		return Addr{}, &ipclab.AddrError{Addr: s, Reason: "want " + Scheme + ":/name"}
	}
	if err := checkName(name); err != nil {
		return Addr{}, &ipclab.AddrError{Addr: s, Reason: err.Error()}
	}
	return Addr{Name: name}, nil
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
