package transporttest

import (
	"fmt"
	"os"

	"github.com/ipclab/ipclab"
)

// Held is tr with every end holding its waits (ipclab.WaitHolder), both
// the ends the suite creates here and those its peers open: the whole
// suite runs again over the held system calls. Register it with Main
// beside tr; its name is tr's with "-held".
func Held(tr Transport) Transport {
	h := tr
	h.Name = tr.Name + "-held"
	hold := func(c ipclab.Conn, err error) (ipclab.Conn, error) {
		if err != nil {
			return c, err
		}
		w, ok := c.(ipclab.WaitHolder)
		if !ok {
			c.Close()
			return nil, fmt.Errorf("%s: %T does not implement ipclab.WaitHolder", tr.Name, c)
		}
		if err := w.HoldWaits(true); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	h.Create = func() (ipclab.Conn, []*os.File, error) {
		c, files, err := tr.Create()
		c, err = hold(c, err)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
		}
		return c, files, err
	}
	h.Open = func(addr string) (ipclab.Conn, error) { return hold(tr.Open(addr)) }
	if tr.Registered != nil {
		h.Registered = func() (ipclab.Conn, error) { return hold(tr.Registered()) }
	}
	return h
}
