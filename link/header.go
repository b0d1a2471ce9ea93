package link

import (
	"encoding/binary"
	"fmt"
)

// Every message on the underlying Conn starts with this header:
//
//	0  type   u8   data, ack, grant (strict rendezvous: clear to send), or
//	               ack request (a sender held back by bytes asks for an ack)
//	1  flags  u8   ackNow: the sender waits for this message's ack
//	2  -      u16
//	4  pid    u32  the producer (order is checked per producer)
//	8  seq    u64  data: 1, 2, 3... per producer; ack: messages taken so far;
//	               grant: messages the receiver asks for so far;
//	               ack request: requests so far
//	16 time   i64  CLOCK_MONOTONIC at Send, ns (data)
//	24 acked  u64  data: acknowledgements the sender had received, so the
//	               receiver can tell a peer past its window whatever the timing;
//	               ack: the ack requests its sender had read
const (
	HeaderLen = 32

	typeData   = 1
	typeAck    = 2
	typeGrant  = 3
	typeAckReq = 4

	flagAckNow = 1
)

type header struct {
	typ   uint8
	flags uint8
	pid   uint32
	seq   uint64
	time  int64
	acked uint64
}

func (h header) put(b []byte) {
	b[0], b[1], b[2], b[3] = h.typ, h.flags, 0, 0
	binary.LittleEndian.PutUint32(b[4:], h.pid)
	binary.LittleEndian.PutUint64(b[8:], h.seq)
	binary.LittleEndian.PutUint64(b[16:], uint64(h.time))
	binary.LittleEndian.PutUint64(b[24:], h.acked)
}

// parseHeader reads a header from a message the peer sent: untrusted.
func parseHeader(b []byte) (header, error) {
	if len(b) < HeaderLen {
		return header{}, &ProtocolError{Reason: fmt.Sprintf("a %d-byte message is shorter than the %d-byte link header", len(b), HeaderLen)}
	}
	h := header{typ: b[0], flags: b[1], pid: binary.LittleEndian.Uint32(b[4:]),
		seq: binary.LittleEndian.Uint64(b[8:]), time: int64(binary.LittleEndian.Uint64(b[16:])),
		acked: binary.LittleEndian.Uint64(b[24:])}
	switch {
	case h.typ < typeData || h.typ > typeAckReq:
		return h, &ProtocolError{Reason: fmt.Sprintf("unknown message type %d", h.typ)}
	case h.flags&^flagAckNow != 0:
		return h, &ProtocolError{Reason: fmt.Sprintf("unknown flags %#x", h.flags&^flagAckNow)}
	case b[2] != 0 || b[3] != 0:
		// Reserved bytes must be zero, so a later version can use them
		// and be told apart from this one.
		return h, &ProtocolError{Reason: "reserved header bytes are not zero"}
	}
	return h, nil
}
