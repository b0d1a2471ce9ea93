package shmconn

import (
	"errors"
	"strings"
	"time"

	"github.com/ipclab/ipclab/internal/chanend"
)

// AddrOptions are the address parameters both shared-memory transports
// take after naming their object: the wait strategy, the opener's spin
// budget, and owner=any. Each transport's Addr embeds them.
type AddrOptions struct {
	Strategy string        // wait=, "" when not given
	Spin     time.Duration // spin=: the opener's spin budget; 0 default, < 0 none
	AnyOwner bool          // owner=any: open an object another user owns or can reach
}

// String is the parameters that are set, as ",wait=...,spin=...,owner=any".
func (o AddrOptions) String() string {
	var s strings.Builder
	if o.Strategy != "" {
		s.WriteString(",wait=" + o.Strategy)
	}
	switch {
	case o.Spin < 0:
		s.WriteString(",spin=off")
	case o.Spin > 0:
		s.WriteString(",spin=" + o.Spin.String())
	}
	if o.AnyOwner {
		s.WriteString("," + chanend.OwnerAny)
	}
	return s.String()
}

// Parse takes one key=value of an address if it is one of these
// parameters (known false otherwise). wait= is taken as written: the
// transport checks the strategy is one it has.
func (o *AddrOptions) Parse(k, v string) (known bool, err error) {
	switch k {
	case "wait":
		o.Strategy = v
	case "spin":
		if v == "off" {
			o.Spin = -1
			break
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return true, errors.New("spin is off or a positive duration such as 50us")
		}
		o.Spin = d
	case "owner":
		if err := chanend.ParseOwner(v); err != nil {
			return true, err
		}
		o.AnyOwner = true
	default:
		return false, nil
	}
	return true, nil
}
