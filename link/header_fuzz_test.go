package link

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
)

// FuzzParseHeader: the decoder of what the peer sends refuses, with a
// *ProtocolError, anything shorter than a header, of an unknown type, with
// unknown flags or non-zero reserved bytes, and what it accepts encodes
// back to the same bytes.
func FuzzParseHeader(f *testing.F) {
	for _, h := range []header{
		{typ: typeData, flags: flagAckNow, pid: 1234, seq: 1, time: 99, acked: 0},
		{typ: typeAck, seq: 1 << 40},
		{typ: typeGrant, seq: ^uint64(0), time: -1, acked: ^uint64(0)},
		{typ: typeAckReq, seq: 3},
		{typ: typeAckReq + 1, seq: 1},
	} {
		b := make([]byte, HeaderLen+4)
		h.put(b)
		f.Add(b)
	}
	f.Add([]byte{typeData})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ProtocolError", err)
			}
			if len(b) >= HeaderLen && b[0] >= typeData && b[0] <= typeAckReq && b[1]&^flagAckNow == 0 && b[2] == 0 && b[3] == 0 {
				t.Fatalf("a well-formed header refused: %v", err)
			}
			return
		}
		if len(b) < HeaderLen || h.typ < typeData || h.typ > typeAckReq {
			t.Fatalf("accepted %d bytes of type %d", len(b), h.typ)
		}
		again := make([]byte, HeaderLen)
		h.put(again)
		if want := b[:HeaderLen]; !bytes.Equal(again, want) {
			t.Fatalf("decoded %+v, which encodes as %x, from %x", h, again, b[:HeaderLen])
		}
	})
}

// scriptConn is a Conn whose Recv returns the fuzzer's messages, one per
// call, then errScriptDone; it keeps what the link sends (its acks). One
// goroutine only: the fuzz target makes no concurrent calls.
type scriptConn struct {
	msgs [][]byte
	sent [][]byte
}

var errScriptDone = errors.New("script done")

const scriptMax = 128 // the transport's largest message

func (c *scriptConn) Recv(p []byte) (int, error) {
	if len(c.msgs) == 0 {
		return 0, errScriptDone
	}
	m := c.msgs[0]
	c.msgs = c.msgs[1:]
	return copy(p, m), nil
}

func (c *scriptConn) Send(p []byte) error {
	c.sent = append(c.sent, bytes.Clone(p))
	return nil
}

func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
func (c *scriptConn) Addr() ipclab.Addr                { return scriptAddr{} }
func (c *scriptConn) MaxMessageSize() int              { return scriptMax }
func (scriptAddr) Transport() string                   { return "script" }
func (scriptAddr) String() string                      { return "script:" }

type scriptAddr struct{}

var _ ipclab.Conn = (*scriptConn)(nil)

// FuzzLinkRecv feeds a link's receiving end whatever a hostile peer may
// send: any bytes, headers of any type, sequence, acknowledgement count
// and producer. Recv must never panic or hang; it returns either a
// payload that a data message carried, in the order they came, or a
// *ProtocolError, until the transport's own error; the acknowledgements
// it sends back never claim more than it took.
//
// script is cut into messages: a length byte (modulo scriptMax + 1), then
// that many bytes.
func FuzzLinkRecv(f *testing.F) {
	msg := func(h header, payload string) []byte {
		b := make([]byte, HeaderLen+len(payload))
		h.put(b)
		copy(b[HeaderLen:], payload)
		return append([]byte{byte(len(b))}, b...)
	}
	seed := func(ms ...[]byte) []byte { return bytes.Join(ms, nil) }
	f.Add(uint8(4), false, seed(msg(header{typ: typeData, pid: 7, seq: 1}, "uno"), msg(header{typ: typeData, pid: 7, seq: 2}, "dos")))
	f.Add(uint8(0), false, seed(msg(header{typ: typeData, flags: flagAckNow, pid: 7, seq: 1}, "x"), msg(header{typ: typeAck, seq: 5}, "")))
	f.Add(uint8(2), true, seed(msg(header{typ: typeData, pid: 1, seq: 3}, "c"), msg(header{typ: typeData, pid: 1, seq: 1}, "a"),
		msg(header{typ: typeData, pid: 1, seq: 3}, "c"), []byte{5, 1, 2, 3, 4, 5}))
	f.Add(uint8(1), false, seed(msg(header{typ: typeData, pid: 2, seq: 9, acked: 3}, "over"), msg(header{typ: 9}, "")))
	f.Fuzz(func(t *testing.T, capacity uint8, noCredits bool, script []byte) {
		var msgs [][]byte
		for len(script) > 0 {
			n := min(int(script[0])%(scriptMax+1), len(script)-1)
			msgs = append(msgs, script[1:1+n])
			script = script[1+n:]
		}
		conn := &scriptConn{msgs: msgs}
		l, err := New(conn, Options{Capacity: int(capacity % 8), NoCredits: noCredits})
		if err != nil {
			t.Skip(err) // a configuration New refuses is not this target's business
		}
		// The payloads Recv may return, in order: those of data messages.
		var data [][]byte
		for _, m := range msgs {
			if len(m) >= HeaderLen && m[0] == typeData {
				data = append(data, m[HeaderLen:])
			}
		}
		buf := make([]byte, scriptMax)
		got := 0
		for calls := 0; ; calls++ {
			if calls > 2*len(msgs)+2 {
				t.Fatalf("%d Recvs over %d messages and no end in sight", calls, len(msgs))
			}
			n, err := l.Recv(buf)
			var pe *ProtocolError
			switch {
			case errors.Is(err, errScriptDone):
			case errors.As(err, &pe):
				continue
			case err != nil:
				t.Fatalf("Recv: %v, neither a *ProtocolError nor the transport's error", err)
			default:
				for len(data) > 0 && !bytes.Equal(data[0], buf[:n]) {
					data = data[1:]
				}
				if len(data) == 0 {
					t.Fatalf("Recv returned %q, which no data message carried (in that order)", buf[:n])
				}
				data = data[1:]
				got++
				continue
			}
			break
		}
		st := l.Stats()
		if st.Received != uint64(got) || st.ProtocolErrors > uint64(len(msgs)) {
			t.Fatalf("stats %+v after %d messages received of %d", st, got, len(msgs))
		}
		for _, a := range conn.sent {
			h, err := parseHeader(a)
			if err != nil || h.typ != typeAck || len(a) != HeaderLen {
				t.Fatalf("the link sent %x (%v), not an acknowledgement", a, err)
			}
			if h.seq > uint64(got) {
				t.Fatalf("acknowledged %d messages, took %d", h.seq, got)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
