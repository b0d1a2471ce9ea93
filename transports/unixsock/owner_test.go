package unixsock

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/otheruser"
	"github.com/ipclab/ipclab/internal/sockconn"
	"golang.org/x/sys/unix"
)

// The other user is a small Python program run as uid 65534: it needs
// root (to switch) and /usr/bin/python3 (a path that user can run).
const intruder = `
import socket, struct, sys, time
what, name = sys.argv[1], "\0" + sys.argv[2]
if what in ("stream", "seqpacket"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM if what == "stream" else socket.SOCK_SEQPACKET)
    s.connect(name)
    s.settimeout(10)
    try:
        s.sendall(struct.pack("<I", 4) + b"evil" if what == "stream" else b"evil\x00")
        print("closed" if s.recv(1) == b"" else "open", flush=True)
    except socket.timeout:
        print("open", flush=True)
    except OSError:
        print("closed", flush=True)
elif what == "dgram":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(name + ".evil")
    s.connect(name)
    s.send(b"\x02")
    s.send(b"evil\x00")
    print("sent", flush=True)
    time.sleep(10)
elif what == "listen":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(name)
    s.listen(1)
    print("ready", flush=True)
    s.settimeout(10)
    c, _ = s.accept()
    time.sleep(10)
`

// asNobody runs the intruder as the other user and returns its first line.
func asNobody(t *testing.T, args ...string) string {
	t.Helper()
	return otheruser.Python(t, intruder, args...)
}

// TestAbstractRefusesAnotherUser: on an abstract name, which has no
// permissions, the creator drops another user's connection (or hello) and
// goes on waiting for ours.
func TestAbstractRefusesAnotherUser(t *testing.T) {
	for _, k := range []sockconn.Kind{sockconn.Stream, sockconn.SeqPacket, sockconn.Datagram} {
		t.Run(schemeOf(k), func(t *testing.T) {
			c, err := Create(k, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			name := c.Addr().(Addr).Abstract
			switch k {
			case sockconn.Stream, sockconn.SeqPacket:
				if got := asNobody(t, strings.TrimPrefix(schemeOf(k), "unixsock-"), name); got != "closed" {
					t.Fatalf("another user's connection: %s, want it closed by the creator", got)
				}
			case sockconn.Datagram:
				if got := asNobody(t, "dgram", name); got != "sent" {
					t.Fatalf("intruder: %s", got)
				}
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
			n, err := c.Recv(buf)
			if err != nil || string(buf[:n]) != "ours" {
				t.Fatalf("the creator received %q, %v; want our opener's \"ours\" and nothing of the intruder's", buf[:n], err)
			}
		})
	}
}

// TestOpenerRefusesAnotherUsersListener: a stream opener checks who
// listens on an abstract name.
func TestOpenerRefusesAnotherUsersListener(t *testing.T) {
	name := NewName()
	if got := asNobody(t, "listen", name); got != "ready" {
		t.Fatalf("intruder: %s", got)
	}
	o, err := Open(SchemeStream+":@"+name, Options{})
	if err == nil {
		o.Close()
		t.Fatal("opened a channel whose listener is uid 65534's")
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("open of another user's listener: %v, want an error matching fs.ErrPermission", err)
	}
	t.Log(err)
}

// TestSocketFile: a socket file is 0600, goes once the opener is in, and
// Close leaves alone whatever replaced it.
func TestSocketFile(t *testing.T) {
	for _, k := range []sockconn.Kind{sockconn.Stream, sockconn.SeqPacket, sockconn.Datagram} {
		t.Run(schemeOf(k), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s")
			c, err := CreateAt(Addr{Kind: k, Path: path, FD: -1}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			st, err := os.Lstat(path)
			if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v, %v; want a socket with mode 0600", path, st.Mode(), err)
			}
			o, err := Open(c.Addr().String(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := c.Send([]byte("x")); err != nil { // waits for the creator to have its opener
				t.Fatal(err)
			}
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the socket file after the opener connected: %v; want it removed", err)
			}
			if _, err := Open(c.Addr().String(), Options{}); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a second opener: %v; want fs.ErrNotExist (the channel has its two processes)", err)
			}
		})
	}
	t.Run("replaced", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s")
		c, err := CreateAt(Addr{Kind: sockconn.Stream, Path: path, FD: -1}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(path)
		if err := os.WriteFile(path, []byte("not ours"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if b, err := os.ReadFile(path); err != nil || string(b) != "not ours" {
			t.Fatalf("Close removed or changed what replaced its socket file: %q, %v", b, err)
		}
	})
}

// TestDatagramTooLargeForReceiver: a datagram longer than the receiving
// end allows (its sender has a bigger SO_SNDBUF) is reported and dropped,
// never cut, and the next one arrives whole.
func TestDatagramTooLargeForReceiver(t *testing.T) {
	small, files, err := CreatePair(sockconn.Datagram, Options{SendBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	fd, err := unix.Dup(int(files[0].Fd()))
	files[0].Close()
	if err != nil {
		t.Fatal(err)
	}
	big, err := openInherited(Addr{Kind: sockconn.Datagram, FD: fd}, Options{SendBuffer: 1 << 16})
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	defer big.Close()
	n := small.MaxMessageSize() + 100
	if n > big.MaxMessageSize() {
		t.Fatalf("the big end's limit %d is below %d", big.MaxMessageSize(), n)
	}
	if err := big.Send(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := big.Send([]byte("next")); err != nil {
		t.Fatal(err)
	}
	small.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, n)
	_, err = small.Recv(buf)
	var tl *ipclab.TooLargeError
	if !errors.As(err, &tl) || tl.Size != n || !strings.Contains(err.Error(), "discarded") {
		t.Fatalf("recv of a %d-byte datagram at an end that allows %d: %v; want a TooLargeError saying it was discarded", n, small.MaxMessageSize(), err)
	}
	if m, err := small.Recv(buf); err != nil || string(buf[:m]) != "next" {
		t.Fatalf("the datagram after: %q, %v", buf[:m], err)
	}
	t.Log(err)
}

// TestDatagramPeerDiedBeforeHello: a datagram creator told its peer's pid
// (WatchPeer) reports ErrPeerGone when that process is gone before it said
// hello, instead of waiting for it for ever.
func TestDatagramPeerDiedBeforeHello(t *testing.T) {
	c, err := Create(sockconn.Datagram, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true: ", err)
	}
	if err := c.WatchPeer(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a backstop
	if _, err := c.Recv(make([]byte, 8)); !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("recv with the peer dead before its hello: %v, want ErrPeerGone", err)
	}
}
