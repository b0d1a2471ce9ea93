// Package transports opens any ipclab transport from its address string,
// for tools that take addresses from users: the CLI and the harness.
package transports

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/shmchan"
	"github.com/ipclab/ipclab/transports/pipe"
	"github.com/ipclab/ipclab/transports/posixmq"
	"github.com/ipclab/ipclab/transports/sysvmsg"
	"github.com/ipclab/ipclab/transports/sysvshm"
)

// Names are the transports, in the order tools list them.
var Names = []string{pipe.SchemePipe, pipe.SchemeFIFO, sysvmsg.Scheme, posixmq.Scheme, sysvshm.Scheme}

// Variants are bare names Create also takes: the shared-memory channel
// with each wait strategy ("sysvshm" alone is its default, futex).
var Variants = []string{"sysvshm-futex", "sysvshm-sysvsem", "sysvshm-spin"}

func scheme(addr string) string {
	s, _, _ := strings.Cut(addr, ":")
	return s
}

func unknown(addr string) error {
	return &ipclab.AddrError{Addr: addr, Reason: "unknown transport " + scheme(addr) + "; known: " + strings.Join(Names, ", ")}
}

// Open opens the opener's end of the channel at addr.
func Open(addr string) (ipclab.Conn, error) {
	switch scheme(addr) {
	case pipe.SchemePipe, pipe.SchemeFIFO:
		return pipe.Open(addr, pipe.Options{})
	case sysvmsg.Scheme:
		return sysvmsg.Open(addr, sysvmsg.Options{})
	case posixmq.Scheme:
		return posixmq.Open(addr)
	case sysvshm.Scheme:
		return sysvshm.Open(addr, shmchan.AttachOptions{})
	}
	return nil, unknown(addr)
}

var seq atomic.Int64

// Create makes a new channel from an address or a bare transport name. A
// bare name picks a fresh object: an IPC_PRIVATE queue, a new POSIX queue
// name, FIFOs in the temporary directory, anonymous pipes. childFiles is
// non-nil only for anonymous pipes (see pipe.Create).
func Create(addr string) (c ipclab.Conn, childFiles []*os.File, err error) {
	// TODO(merge): Register is the caller's choice (the CLI and the harness
	// turn it on); until the table takes options, every create registers,
	// as every constructor did before.
	switch addr {
	case pipe.SchemePipe:
		return pipe.Create(pipe.Options{})
	case pipe.SchemeFIFO:
		addr = fmt.Sprintf("fifo:%s", filepath.Join(os.TempDir(), fmt.Sprintf("ipclab-%d-%d", os.Getpid(), seq.Add(1))))
	case sysvmsg.Scheme:
		c, err := sysvmsg.Create(sysipc.IPCPrivate, sysvmsg.Options{Register: true})
		return c, nil, err
	case posixmq.Scheme:
		c, err := posixmq.Create(posixmq.NewName(), posixmq.Options{Register: true})
		return c, nil, err
	case sysvshm.Scheme:
		c, err := sysvshm.Create(shmchan.Config{Register: true})
		return c, nil, err
	}
	if s, ok := strings.CutPrefix(addr, sysvshm.Scheme+"-"); ok {
		st, err := shmchan.ParseStrategy(s)
		if err != nil {
			return nil, nil, &ipclab.AddrError{Addr: addr, Reason: err.Error()}
		}
		c, err := sysvshm.Create(shmchan.Config{Strategy: st, Register: true})
		return c, nil, err
	}
	switch scheme(addr) {
	case pipe.SchemeFIFO:
		a, err := pipe.ParseAddr(addr)
		if err != nil {
			return nil, nil, err
		}
		c, err := pipe.CreateFIFO(a.Path, pipe.Options{Register: true})
		return c, nil, err
	case sysvmsg.Scheme:
		a, err := sysvmsg.ParseAddr(addr)
		if err != nil {
			return nil, nil, err
		}
		if a.ID >= 0 {
			return nil, nil, &ipclab.AddrError{Addr: addr, Reason: "a new queue is named by key= or path=,proj=; the kernel chooses ids"}
		}
		if a.Path != "" {
			c, err := sysvmsg.CreateFtok(a.Path, a.Proj, sysvmsg.Options{Register: true})
			return c, nil, err
		}
		c, err := sysvmsg.Create(a.Key, sysvmsg.Options{Register: true})
		return c, nil, err
	case posixmq.Scheme:
		a, err := posixmq.ParseAddr(addr)
		if err != nil {
			return nil, nil, err
		}
		c, err := posixmq.Create(a.Name, posixmq.Options{Register: true})
		return c, nil, err
	case sysvshm.Scheme:
		a, err := sysvshm.ParseAddr(addr)
		if err != nil {
			return nil, nil, err
		}
		if a.ID >= 0 {
			return nil, nil, &ipclab.AddrError{Addr: addr, Reason: "a new segment is named by key=; the kernel chooses ids"}
		}
		st := shmchan.Futex
		if a.Strategy != "" {
			st, _ = shmchan.ParseStrategy(a.Strategy)
		}
		c, err := sysvshm.Create(shmchan.Config{Key: a.Key, Strategy: st, SpinBudget: a.Spin, Register: true})
		return c, nil, err
	case pipe.SchemePipe:
		return nil, nil, &ipclab.AddrError{Addr: addr, Reason: "anonymous pipes are created bare (\"pipe\") and inherited by a child"}
	}
	return nil, nil, unknown(addr)
}
