package link

import "github.com/ipclab/ipclab"

// Mode is a link mode as tools name it ("raw", "seq", "cap-16-drop"):
// no link at all (raw), or the Options of one. Tools parse a name once,
// at their edge, with NewMode, and pass the Mode on; the zero Mode is Raw.
type Mode struct {
	name string // as given: records and case names key on it
	opt  Options
	link bool // false: raw
}

// Raw is the mode with no link: the transport's Conn as it is.
var Raw = Mode{}

// NewMode parses a mode name as ParseMode reads it.
func NewMode(name string) (Mode, error) {
	opt, raw, err := ParseMode(name)
	if err != nil {
		return Mode{}, err
	}
	if raw {
		return Raw, nil
	}
	return Mode{name: name, opt: opt, link: true}, nil
}

// String is the mode's name as it was parsed; "raw" for Raw.
func (m Mode) String() string {
	if !m.link {
		return "raw"
	}
	return m.name
}

// IsRaw reports whether the mode puts no link on the Conn.
func (m Mode) IsRaw() bool { return !m.link }

// Options are the link's options; the zero Options for Raw.
func (m Mode) Options() Options { return m.opt }

// Drops reports whether a full link loses messages by policy (Drop): a
// stream through it cannot count to a fixed number.
func (m Mode) Drops() bool { return m.link && m.opt.Full == Drop }

// MaxMessageSize is the largest message the mode carries over c: c's own
// for Raw (see the package's MaxMessageSize).
func (m Mode) MaxMessageSize(c ipclab.Conn) (int, error) {
	if !m.link {
		return c.MaxMessageSize(), nil
	}
	return MaxMessageSize(c, m.opt)
}

// Wrap puts the mode on c: c itself for Raw, else a new Link over c. On
// an error c is left open, for the caller to close.
func (m Mode) Wrap(c ipclab.Conn) (ipclab.Conn, error) {
	if !m.link {
		return c, nil
	}
	l, err := New(c, m.opt)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return l, nil
}
