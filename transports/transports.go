// Package transports is the table of ipclab's transports: each one's
// name, its variants, what it can do beyond the Conn contract, and how to
// create or open it from the address strings users type. Tools (the CLI
// and the harness) go through it; nothing else parses a transport's name.
// Each transport package parses its own addresses (ParseAddr).
package transports

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sockconn"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/shmchan"
	"github.com/ipclab/ipclab/transports/pipe"
	"github.com/ipclab/ipclab/transports/posixmq"
	"github.com/ipclab/ipclab/transports/posixshm"
	"github.com/ipclab/ipclab/transports/sysvmsg"
	"github.com/ipclab/ipclab/transports/sysvshm"
	"github.com/ipclab/ipclab/transports/tcp"
	"github.com/ipclab/ipclab/transports/unixsock"
)

// FanIn is how several producer processes can send to one consumer.
type FanIn int

const (
	// NoFanIn: one sender per channel (an anonymous pipe is inherited by
	// one child).
	NoFanIn FanIn = iota
	// SharedObject: one kernel object every producer opens through the
	// transport (a message queue).
	SharedObject
	// SharedFIFO: one named pipe every producer writes fixed-size records
	// into; a write of at most PIPE_BUF bytes is atomic, so records never
	// mix. The producers write raw records, not the transport's frames.
	SharedFIFO
	// RingPerProducer: one channel per producer, drained by the consumer,
	// which is how shared memory scales (an SPSC ring needs no lock).
	RingPerProducer
)

// Caps are what a transport can do beyond the Conn contract.
type Caps struct {
	FanIn FanIn
	// Priorities: its Conns implement ipclab.PriorityConn.
	Priorities bool
	// ZeroCopy: its Conns implement ipclab.ZeroCopySender and
	// ipclab.ZeroCopyReceiver.
	ZeroCopy bool
	// Batch: its Conns implement ipclab.BatchSender.
	Batch bool
	// HeldWaits: its Conns implement ipclab.WaitHolder.
	HeldWaits bool
	// SharedMemory: messages move through shared memory, so its figures
	// are best read against the machine's floor (package floor).
	SharedMemory bool
	// CMechanism is the C baseline's name for the same mechanism
	// (bench/cbaseline's ipcbench), "" when it has none.
	CMechanism string
}

// Options are what a tool asks of any transport it creates or opens.
type Options struct {
	// Register records what is created in ipclab's registry, so that
	// `ipclab ls` and `ipclab clean` find it if its creator dies. The CLI
	// and the harness set it; a library user decides.
	Register bool
	// MaxMessage is the largest message the caller will send, where a
	// transport sizes its buffer when it creates it: a shared-memory ring
	// larger than the default one (shmchan.RingSizeFor) if the message
	// is larger than shmchan.DefaultMaxMessage. 0: the defaults.
	MaxMessage int
}

// shmConfig is the shared-memory channel's configuration for o.
func (o Options) shmConfig(st shmchan.Strategy) shmchan.Config {
	cfg := shmchan.Config{Strategy: st, Register: o.Register}
	if o.MaxMessage > shmchan.DefaultMaxMessage {
		cfg.MaxMessage, cfg.RingSize = o.MaxMessage, shmchan.RingSizeFor(o.MaxMessage)
	}
	return cfg
}

// Transport is one row of the table.
type Transport struct {
	// Name is the bare name Create takes: "pipe", "sysvshm-spin".
	Name string
	// Scheme is the scheme of its addresses, "sysvshm" for every variant
	// of the shared-memory channel.
	Scheme string
	// Variant is the wait strategy of a shared-memory variant (the
	// default, futex, for the bare "sysvshm").
	Variant shmchan.Strategy
	// Alias names the row this one is another name for ("sysvshm" is
	// "sysvshm-futex"); a list of distinct transports leaves it out.
	Alias string
	Caps
}

var table = func() []*Transport {
	// shm is the shared-memory channel with wait strategy st, named
	// sysvshm-<st>; the C baseline has the same three.
	shm := func(st shmchan.Strategy) *Transport {
		return &Transport{Name: sysvshm.Scheme + "-" + st.String(), Scheme: sysvshm.Scheme, Variant: st,
			Caps: Caps{FanIn: RingPerProducer, ZeroCopy: true, Batch: true, SharedMemory: true, HeldWaits: st != shmchan.Spin, CMechanism: "shm-" + st.String()}}
	}
	bare := *shm(shmchan.Futex) // shmchan's default strategy
	bare.Name, bare.Alias = sysvshm.Scheme, bare.Name
	// pshm is the same ring in a POSIX shared-memory object, named
	// posixshm-<st>; the C baseline's posixshm-<st> is the same too.
	pshm := func(st shmchan.Strategy) *Transport {
		return &Transport{Name: posixshm.Scheme + "-" + st.String(), Scheme: posixshm.Scheme, Variant: st,
			Caps: Caps{FanIn: RingPerProducer, ZeroCopy: true, Batch: true, SharedMemory: true, HeldWaits: st != shmchan.Spin, CMechanism: "posixshm-" + st.String()}}
	}
	pbare := *pshm(shmchan.Futex)
	pbare.Name, pbare.Alias = posixshm.Scheme, pbare.Name
	// eventfd is an inherited memfd pair (the child gets the eventfds
	// too): one child per channel, so no fan-in.
	pevent := pshm(shmchan.EventFD)
	pevent.FanIn = NoFanIn
	return []*Transport{
		{Name: pipe.SchemePipe, Scheme: pipe.SchemePipe, Caps: Caps{HeldWaits: true, CMechanism: "pipe"}},
		{Name: pipe.SchemeFIFO, Scheme: pipe.SchemeFIFO, Caps: Caps{FanIn: SharedFIFO, HeldWaits: true, CMechanism: "fifo"}},
		{Name: sysvmsg.Scheme, Scheme: sysvmsg.Scheme, Caps: Caps{FanIn: SharedObject, HeldWaits: true, CMechanism: "sysvmsg"}},
		{Name: posixmq.Scheme, Scheme: posixmq.Scheme, Caps: Caps{FanIn: SharedObject, Priorities: true, HeldWaits: true, CMechanism: "posixmq"}},
		&bare,
		shm(shmchan.Futex),
		shm(shmchan.SysVSem),
		shm(shmchan.Spin),
		&pbare,
		pshm(shmchan.Futex),
		pshm(shmchan.PosixSem),
		pshm(shmchan.Spin),
		pevent,
		// Sockets join exactly two processes: a connected socket has one
		// peer, which is what makes its Close and death visible. Fan-in
		// over sockets would be a listener with one connection per
		// producer polled by the consumer (or an unconnected datagram
		// socket, which gives up knowing its peers): not done.
		{Name: unixsock.SchemeStream, Scheme: unixsock.SchemeStream, Caps: Caps{HeldWaits: true, CMechanism: "unix-stream"}},
		{Name: unixsock.SchemeSeqPacket, Scheme: unixsock.SchemeSeqPacket, Caps: Caps{HeldWaits: true, CMechanism: "unix-seqpacket"}},
		{Name: unixsock.SchemeDgram, Scheme: unixsock.SchemeDgram, Caps: Caps{HeldWaits: true, CMechanism: "unix-dgram"}},
		{Name: tcp.Scheme, Scheme: tcp.Scheme, Caps: Caps{HeldWaits: true, CMechanism: "tcp"}},
	}
}()

// Names are the address schemes, in the order tools list them.
var Names = schemes()

// Variants are the bare names of the shared-memory channel with each wait
// strategy ("sysvshm" alone is its default, futex).
var Variants = variants()

func schemes() []string {
	var out []string
	for _, t := range table {
		if t.Name == t.Scheme {
			out = append(out, t.Name)
		}
	}
	return out
}

func variants() []string {
	var out []string
	for _, t := range table {
		if t.Name != t.Scheme {
			out = append(out, t.Name)
		}
	}
	return out
}

// All is the table, in the order tools list it.
func All() []*Transport { return table }

// Distinct are the bare names of every transport once, aliases left out:
// what a sweep over all transports measures.
func Distinct() []string {
	var out []string
	for _, t := range table {
		if t.Alias == "" {
			out = append(out, t.Name)
		}
	}
	return out
}

// Lookup finds the row of a bare name ("sysvshm-spin") or of an address
// ("sysvshm:key=0x1,wait=spin" is the sysvshm row: the address says its
// own strategy).
func Lookup(name string) (*Transport, error) {
	for _, t := range table {
		if t.Name == name {
			return t, nil
		}
	}
	if s, _, ok := strings.Cut(name, ":"); ok {
		for _, t := range table {
			if t.Name == s && t.Name == t.Scheme {
				return t, nil
			}
		}
	}
	return nil, unknown(name)
}

// SharedMemory reports whether the transport named name (a bare name or
// an address) moves messages through shared memory; false for an unknown
// name.
func SharedMemory(name string) bool {
	t, err := Lookup(name)
	return err == nil && t.SharedMemory
}

func unknown(addr string) error {
	s, _, _ := strings.Cut(addr, ":")
	return &ipclab.AddrError{Addr: addr, Reason: "unknown transport " + s + "; known: " + strings.Join(Names, ", ")}
}

// Open opens the opener's end of the channel at addr, with no options.
func Open(addr string) (ipclab.Conn, error) { return OpenWith(addr, Options{}) }

// OpenWith opens the opener's end of the channel at addr.
func OpenWith(addr string, o Options) (ipclab.Conn, error) {
	t, err := Lookup(addr)
	if err != nil {
		return nil, err
	}
	_ = o // opening registers nothing: the creator's entry is the object's
	switch t.Scheme {
	case pipe.SchemePipe, pipe.SchemeFIFO:
		return pipe.Open(addr, pipe.Options{})
	case sysvmsg.Scheme:
		return sysvmsg.Open(addr, sysvmsg.Options{})
	case posixmq.Scheme:
		return posixmq.Open(addr)
	case sysvshm.Scheme:
		return sysvshm.Open(addr, shmchan.AttachOptions{})
	case posixshm.Scheme:
		return posixshm.Open(addr, shmchan.AttachOptions{})
	case unixsock.SchemeStream, unixsock.SchemeSeqPacket, unixsock.SchemeDgram:
		return unixsock.Open(addr, unixsock.Options{})
	case tcp.Scheme:
		return tcp.Open(addr, tcp.Options{})
	}
	return nil, unknown(addr)
}

var seq atomic.Int64

// Create makes a new channel from an address or a bare transport name,
// with no options. A bare name picks a fresh object: an IPC_PRIVATE
// queue, a new POSIX queue name, FIFOs in the temporary directory,
// anonymous pipes, a memfd for posixshm-eventfd. childFiles is non-nil
// only for anonymous pipes and posixshm-eventfd (see pipe.Create,
// posixshm.CreateInherited).
func Create(addr string) (c ipclab.Conn, childFiles []*os.File, err error) {
	return CreateWith(addr, Options{})
}

// CreateWith is Create with options.
func CreateWith(addr string, o Options) (c ipclab.Conn, childFiles []*os.File, err error) {
	t, err := Lookup(addr)
	if err != nil {
		return nil, nil, err
	}
	if addr == t.Name {
		return t.createBare(o)
	}
	c, err = t.createAt(addr, o)
	return c, nil, err
}

// createBare makes a fresh object of t.
func (t *Transport) createBare(o Options) (ipclab.Conn, []*os.File, error) {
	switch t.Scheme {
	case pipe.SchemePipe:
		return pipe.Create(pipe.Options{Register: o.Register})
	case pipe.SchemeFIFO:
		path := filepath.Join(os.TempDir(), fmt.Sprintf("ipclab-%d-%d", os.Getpid(), seq.Add(1)))
		c, err := pipe.CreateFIFO(path, pipe.Options{Register: o.Register})
		return c, nil, err
	case sysvmsg.Scheme:
		c, err := sysvmsg.Create(sysipc.IPCPrivate, sysvmsg.Options{Register: o.Register})
		return c, nil, err
	case posixmq.Scheme:
		c, err := posixmq.Create(posixmq.NewName(), posixmq.Options{Register: o.Register})
		return c, nil, err
	case sysvshm.Scheme:
		c, err := sysvshm.Create(o.shmConfig(t.Variant))
		return c, nil, err
	case posixshm.Scheme:
		if t.Variant == shmchan.EventFD {
			cfg := o.shmConfig(t.Variant)
			cfg.Register = false // a memfd: nothing to register
			return posixshm.CreateInherited(cfg)
		}
		c, err := posixshm.Create(posixshm.NewName(), o.shmConfig(t.Variant))
		return c, nil, err
	case unixsock.SchemeStream, unixsock.SchemeSeqPacket, unixsock.SchemeDgram:
		// A fresh abstract name: nothing in the file system to clean.
		c, err := unixsock.Create(sockKind(t.Scheme), unixsock.Options{Register: o.Register})
		return c, nil, err
	case tcp.Scheme:
		c, err := tcp.Create(tcp.Options{})
		return c, nil, err
	}
	return nil, nil, unknown(t.Name)
}

// createAt makes the object an address names.
func (t *Transport) createAt(addr string, o Options) (ipclab.Conn, error) {
	switch t.Scheme {
	case pipe.SchemeFIFO:
		a, err := pipe.ParseAddr(addr)
		if err != nil {
			return nil, err
		}
		return pipe.CreateFIFO(a.Path, pipe.Options{Register: o.Register, TrustOtherUsers: a.AnyOwner})
	case sysvmsg.Scheme:
		a, err := sysvmsg.ParseAddr(addr)
		if err != nil {
			return nil, err
		}
		if a.ID >= 0 {
			return nil, &ipclab.AddrError{Addr: addr, Reason: "a new queue is named by key= or path=,proj=; the kernel chooses ids"}
		}
		if a.Path != "" {
			return sysvmsg.CreateFtok(a.Path, a.Proj, sysvmsg.Options{Register: o.Register})
		}
		return sysvmsg.Create(a.Key, sysvmsg.Options{Register: o.Register})
	case posixmq.Scheme:
		a, err := posixmq.ParseAddr(addr)
		if err != nil {
			return nil, err
		}
		if a.Single {
			return posixmq.CreateSingle(a.Name, posixmq.Options{Register: o.Register})
		}
		return posixmq.Create(a.Name, posixmq.Options{Register: o.Register})
	case sysvshm.Scheme:
		a, err := sysvshm.ParseAddr(addr)
		if err != nil {
			return nil, err
		}
		if a.ID >= 0 {
			return nil, &ipclab.AddrError{Addr: addr, Reason: "a new segment is named by key=; the kernel chooses ids"}
		}
		st := t.Variant
		if a.Strategy != "" {
			// ParseAddr checked the name; an error here is a bug of this table.
			if st, err = shmchan.ParseStrategy(a.Strategy); err != nil {
				return nil, &ipclab.AddrError{Addr: addr, Reason: err.Error()}
			}
		}
		cfg := o.shmConfig(st)
		cfg.Key, cfg.SpinBudget = a.Key, a.Spin
		return sysvshm.Create(cfg)
	case posixshm.Scheme:
		a, err := posixshm.ParseAddr(addr)
		if err != nil {
			return nil, err
		}
		if a.Name == "" {
			return nil, &ipclab.AddrError{Addr: addr, Reason: "a new object is named by name=/NAME; fd= is an inherited memfd's, opened only"}
		}
		st := t.Variant
		if a.Strategy != "" {
			if st, err = shmchan.ParseStrategy(a.Strategy); err != nil {
				return nil, &ipclab.AddrError{Addr: addr, Reason: err.Error()}
			}
		}
		cfg := o.shmConfig(st)
		cfg.SpinBudget = a.Spin
		return posixshm.Create(a.Name, cfg)
	case pipe.SchemePipe:
		return nil, &ipclab.AddrError{Addr: addr, Reason: "anonymous pipes are created bare (\"pipe\") and inherited by a child"}
	case unixsock.SchemeStream, unixsock.SchemeSeqPacket, unixsock.SchemeDgram:
		a, err := unixsock.ParseAddr(addr)
		if err != nil {
			return nil, err
		}
		return unixsock.CreateAt(a, unixsock.Options{Register: o.Register})
	case tcp.Scheme:
		a, err := tcp.ParseAddr(addr)
		if err != nil {
			return nil, err
		}
		return tcp.CreateAt(a, tcp.Options{})
	}
	return nil, unknown(addr)
}

// sockKind is the socket type of a unixsock scheme.
func sockKind(scheme string) sockconn.Kind {
	switch scheme {
	case unixsock.SchemeSeqPacket:
		return sockconn.SeqPacket
	case unixsock.SchemeDgram:
		return sockconn.Datagram
	}
	return sockconn.Stream
}
