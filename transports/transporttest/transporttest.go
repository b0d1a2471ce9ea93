// Package transporttest is the conformance suite every ipclab transport
// passes, in the manner of golang.org/x/net/nettest: one set of cases, run
// over each transport with t.Run, with the other end always in a separate
// OS process started by internal/testmain.StartPeer.
//
// A transport's test package wires it up in two lines:
//
//	func TestMain(m *testing.M)          { transporttest.Main(m, tr) }
//	func TestConformance(t *testing.T)    { transporttest.Run(t, tr) }
package transporttest

import (
	"fmt"
	"os"
	"testing"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/testmain"
)

// Transport describes one transport to the suite.
type Transport struct {
	Name string

	// Create makes a new channel in this process and returns the creator's
	// end. ChildFiles, if any, are handed to the peer process as descriptors
	// 3, 4, ... (anonymous pipes) and closed here once it has started.
	Create func() (conn ipclab.Conn, childFiles []*os.File, err error)

	// Open opens the other end from an address; the suite calls it in the
	// peer process.
	Open func(addr string) (ipclab.Conn, error)

	// Registered creates a channel with its Options' Register set, which
	// must record it in the registry (internal/registry) until Close; nil
	// if the transport has nothing to record (anonymous pipes). Create
	// itself must record nothing.
	Registered func() (ipclab.Conn, error)

	// CreateInPeer is true when the peer process can create the channel and
	// this process open it (false for inherited anonymous pipes). The suite
	// then also kills the creator and checks that the survivor cleans up.
	CreateInPeer bool

	// BadAddrs are malformed addresses Open must reject with *ipclab.AddrError.
	BadAddrs []string
	// MissingAddr returns a well-formed address naming nothing; Open must
	// fail with an error matching fs.ErrNotExist.
	MissingAddr func() string
}

var registered = map[string]Transport{}

// Main is the TestMain of a transport's package: testmain.Main, with the
// transports registered for the peer roles.
func Main(m *testing.M, trs ...Transport) { MainWith(m, testmain.Options{}, trs...) }

// MainWith is Main with testmain's options (PrivateDevShm for transports
// that live in /dev/shm).
func MainWith(m *testing.M, opt testmain.Options, trs ...Transport) {
	for _, tr := range trs {
		registered[tr.Name] = tr
	}
	testmain.MainWith(m, opt)
}

func lookup(name string) (Transport, error) {
	tr, ok := registered[name]
	if !ok {
		return tr, fmt.Errorf("transport %q not registered with transporttest.Main", name)
	}
	return tr, nil
}
