package posixshm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/shmconn"
	"github.com/ipclab/ipclab/shmchan"
)

// Addr names a channel's object: a POSIX shared-memory name, or a memfd
// descriptor inherited from the creator.
type Addr struct {
	Name string // "/NAME"; "" for an inherited descriptor
	FD   int    // the inherited memfd, when Name is ""
	EFD  int    // with FD: the first of the four inherited eventfds (wait=eventfd), else -1
	shmconn.AddrOptions
}

func (a Addr) Transport() string { return Scheme }

func (a Addr) String() string {
	s := Scheme + ":name=" + a.Name
	if a.Name == "" {
		s = fmt.Sprintf("%s:fd=%d", Scheme, a.FD)
		if a.EFD >= 0 {
			s += fmt.Sprintf(",efd=%d", a.EFD)
		}
	}
	return s + a.AddrOptions.String()
}

// ParseAddr parses the forms Addr.String prints.
func ParseAddr(s string) (Addr, error) {
	bad := func(why string) (Addr, error) { return Addr{}, &ipclab.AddrError{Addr: s, Reason: why} }
	rest, ok := strings.CutPrefix(s, Scheme+":")
	if !ok {
		return bad("want " + Scheme + ":name=/NAME or " + Scheme + ":fd=N[,efd=M], optionally ,wait=futex|spin|posixsem|eventfd")
	}
	a := Addr{FD: -1, EFD: -1}
	seen := map[string]bool{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" || seen[k] {
			return bad(fmt.Sprintf("%q is not a new key=value", kv))
		}
		seen[k] = true
		if known, err := a.AddrOptions.Parse(k, v); err != nil {
			return bad(err.Error())
		} else if known {
			continue
		}
		switch k {
		case "name":
			if err := checkName(v); err != nil {
				return bad(err.Error())
			}
			a.Name = v
		case "fd":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return bad("fd must be a non-negative number")
			}
			a.FD = n
		case "efd":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return bad("efd must be a non-negative number")
			}
			a.EFD = n
		default:
			return bad("unknown parameter " + k)
		}
	}
	if a.Strategy != "" {
		st, err := shmchan.ParseStrategy(a.Strategy)
		if err != nil {
			return bad(err.Error())
		}
		if st == shmchan.SysVSem {
			return bad("wait=sysvsem is the sysvshm transport's; posixshm waits by futex, spin or posixsem")
		}
	}
	if seen["name"] == seen["fd"] {
		return bad("give exactly one of name and fd")
	}
	switch st := a.Strategy; {
	case seen["efd"] && !seen["fd"]:
		return bad("efd= comes with fd=: eventfds are inherited, like the memfd")
	case seen["efd"] && (a.EFD <= a.FD && a.EFD+3 >= a.FD):
		return bad("the four eventfds efd..efd+3 must not include the memfd's fd")
	case st == "eventfd" && !seen["efd"], st != "" && st != "eventfd" && seen["efd"]:
		return bad("wait=eventfd and efd= go together (an eventfd channel is an inherited pair)")
	}
	return a, nil
}

// checkName accepts what shm_open(3) accepts portably: "/NAME", with no
// other slash, short enough that its semaphores' "sem.NAME-e1" files fit
// NAME_MAX.
func checkName(name string) error {
	switch {
	case !strings.HasPrefix(name, "/") || len(name) < 2 || strings.Contains(name[1:], "/"):
		return fmt.Errorf("bad name %q: want /NAME with no other slash", name)
	case name == "/." || name == "/..":
		return fmt.Errorf("bad name %q", name)
	case len(name)-1 > maxName:
		return fmt.Errorf("name %q is %d characters after the slash; at most %d (NAME_MAX 255, less the room its semaphores' names need)",
			name, len(name)-1, maxName)
	}
	return nil
}

// maxName leaves room for "sem." and a semaphore suffix such as "-e1".
const maxName = 255 - len("sem.") - len("-e1")
