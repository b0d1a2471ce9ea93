package sockconn

import (
	"os"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/framing"
	"golang.org/x/sys/unix"
)

var _ ipclab.Buffered = (*Conn)(nil)

// Buffer is this end's send buffer (SO_SNDBUF), which is what bounds a
// socket's writer: the kernel charges every skb it queues to the sender,
// by its truesize, until it is read (unix) or acknowledged (TCP), and a
// send waits while the charge reaches SO_SNDBUF. A creator without its
// peer yet gives its listener's, which the accepted socket inherits (or is
// given, see transports/unixsock). TCP grows its buffer on its own, so
// the figure is a lower bound.
func (c *Conn) Buffer() ipclab.Buffer {
	b := ipclab.Buffer{}
	c.mu.Lock()
	rc := c.rc
	c.mu.Unlock()
	sndbuf := c.listenSndbuf // what the accepted socket gets
	if rc != nil {
		var v int
		var err error
		if cerr := rc.Control(func(fd uintptr) { v, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF) }); cerr == nil && err == nil {
			sndbuf = v
		}
	}
	b.Bytes = sndbuf
	b.Cost = func(n int) int { return skbCost(n, sndbuf, c.cfg.Kind, c.cfg.PadFrames) }
	return b
}

// skbCost bounds what a message of n bytes takes out of the send buffer,
// framing included: per skb the sk_buff and its shared info (under 1 KiB
// together), the data rounded up to a kmalloc size (a power of two) when
// small, to whole pages when large; a stream message larger than half the
// buffer less 64 bytes goes in several skbs.
func skbCost(n, sndbuf int, k Kind, padFrames bool) int {
	const overhead = 1024
	page := os.Getpagesize()
	if k == Stream {
		n += frameHeader
		if padFrames && n > framing.AliasSpan { // framing.PadHeader's bound, not the page size
			n += framing.PaddedLen - frameHeader // it may go with a padded header
		}
	} else if n += packetHeader; nearAliasEdge(n) {
		n += longTrailer - packetHeader // it may go with the long trailer
	}
	if n+overhead <= page {
		p := 64
		for p < n+512 {
			p *= 2
		}
		return p + overhead
	}
	skbs := 1
	if k == Stream {
		// unix: at most half the buffer less 64 bytes per skb; TCP: 64 KiB
		// at most (its size goal), less when it coalesces: count 16 KiB.
		per := 16 << 10
		if sndbuf > 0 {
			per = min(per, sndbuf/2-64)
		}
		skbs = (n + per - 1) / per
	}
	return (n+page-1)/page*page + skbs*(page+overhead)
}
