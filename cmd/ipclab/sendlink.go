package main

import (
	"fmt"
	"os"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/link"
)

const linkFlagHelp = "link semantics over the channel: raw (none), seq, rendezvous, strict, ack-N, cap-N[-block|drop|fail] (as bench -links)"

// wrapLink puts the link mode on c, closing c if it cannot.
func wrapLink(c ipclab.Conn, m link.Mode) (ipclab.Conn, error) {
	w, err := m.Wrap(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	if l, ok := w.(*link.Link); ok {
		if s := l.Stats(); s.CapacityLimit != "" {
			fmt.Fprintf(os.Stderr, "ipclab: link %s holds %d messages: %s\n", m.Options(), s.Capacity, s.CapacityLimit)
		}
	}
	return w, nil
}

// reportLink prints what the link counted, on stderr, as a command ends.
func reportLink(c ipclab.Conn, cmd string) {
	l, ok := c.(*link.Link)
	if !ok {
		return
	}
	s := l.Stats()
	fmt.Fprintf(os.Stderr, "ipclab %s: link %s: sent %d (dropped %d), acknowledged %d, received %d; lost %d, duplicated %d, reordered %d, protocol errors %d\n",
		cmd, l.Options(), s.Sent, s.Dropped, s.Acked, s.Received, s.Lost, s.Duplicates, s.Reordered, s.ProtocolErrors)
}
