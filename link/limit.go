package link

import "github.com/ipclab/ipclab"

// MaxMessageSize is the largest payload a link with opt over c would take,
// as Link.MaxMessageSize reports it, without wrapping c: for tools that
// size their messages before the other end is there.
func MaxMessageSize(c ipclab.Conn, opt Options) (int, error) {
	if err := opt.Validate(); err != nil {
		return 0, err
	}
	b, err := newBudget(c, opt)
	if err != nil {
		return 0, err
	}
	n := c.MaxMessageSize() - HeaderLen
	if most := max(b.buf.Bytes, b.buf.Grow); b.buffered && most > 0 {
		n = min(n, b.largest(most, c.MaxMessageSize()))
	}
	return max(n, 0), nil
}
