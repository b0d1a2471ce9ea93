package tcp

import (
	"errors"
	"io/fs"
	"strconv"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/otheruser"
)

// The other user: a small Python program run as uid 65534 (needs root to
// switch, and /usr/bin/python3, a path that user can run).
const intruder = `
import socket, struct, sys, time
what = sys.argv[1]
if what == "connect":
    s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    s.settimeout(10)
    try:
        s.sendall(struct.pack("<I", 4) + b"evil")
        print("closed" if s.recv(1) == b"" else "open", flush=True)
    except socket.timeout:
        print("open", flush=True)
    except OSError:
        print("closed", flush=True)
elif what == "listen":
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    print(s.getsockname()[1], flush=True)
    s.settimeout(10)
    c, _ = s.accept()
    time.sleep(10)
`

// asNobody runs the intruder as the other user and returns its first line.
func asNobody(t *testing.T, args ...string) string {
	t.Helper()
	return otheruser.Python(t, intruder, args...)
}

// TestCreatorRefusesAnotherUser: the creator drops a connection whose
// socket /proc/net/tcp says is another user's, and goes on waiting.
func TestCreatorRefusesAnotherUser(t *testing.T) {
	c, err := Create(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.Addr().(Addr).AddrPort.Port()
	if got := asNobody(t, "connect", strconv.Itoa(int(port))); got != "closed" {
		t.Fatalf("another user's connection: %s, want it closed by the creator", got)
	}
	o, err := Open(c.Addr().String(), Options{})
	if err != nil {
		t.Fatalf("our own opener after the intruder: %v", err)
	}
	defer o.Close()
	if err := o.Send([]byte("ours")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 16)
	if n, err := c.Recv(buf); err != nil || string(buf[:n]) != "ours" {
		t.Fatalf("the creator received %q, %v; want our opener's \"ours\"", buf[:n], err)
	}
}

// TestOpenerRefusesAnotherUsersListener: the opener checks who owns the
// socket it connected to.
func TestOpenerRefusesAnotherUsersListener(t *testing.T) {
	port := asNobody(t, "listen")
	o, err := Open("tcp:127.0.0.1:"+port, Options{})
	if err == nil {
		o.Close()
		t.Fatal("opened a channel whose listener is uid 65534's")
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("open of another user's listener: %v, want an error matching fs.ErrPermission", err)
	}
	t.Log(err)
}
