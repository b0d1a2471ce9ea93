package leakcheck

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipclab/ipclab/internal/ipcobj"
)

// abstractPrefix is how ipclab's abstract socket names begin
// (unixsock.NewName); tests name theirs so too.
const abstractPrefix = "@ipclab"

// sockets lists what a test could leave of a Unix socket: socket files
// below root (this binary's temporary directory), and abstract sockets
// whose names begin with @ipclab that this process still holds open. An
// abstract name lives as long as a descriptor does, and the network
// namespace is shared with every other test package, so only our own
// descriptors say that a name is our leak (a peer that held one has been
// killed by the end of its test).
func sockets(root string) ([]ipcobj.Object, error) {
	var out []ipcobj.Object
	base := strings.Count(filepath.Clean(root), string(filepath.Separator))
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a directory vanishing under us is not our business
		}
		if d.IsDir() && strings.Count(path, string(filepath.Separator))-base >= 2 {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeSocket != 0 {
			out = append(out, ipcobj.Object{Kind: ipcobj.UnixSocket, Name: path})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return append(out, heldAbstract()...), nil
}

// heldAbstract lists the @ipclab abstract sockets among this process's
// descriptors, from /proc/net/unix (name by inode) and /proc/self/fd.
func heldAbstract() []ipcobj.Object {
	held := map[string]bool{} // socket inodes
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, e := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			held[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []ipcobj.Object
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		fl := strings.Fields(sc.Text())
		if len(fl) >= 8 && held[fl[6]] && strings.HasPrefix(fl[7], abstractPrefix) {
			out = append(out, ipcobj.Object{Kind: ipcobj.UnixSocket, Name: fl[7]})
		}
	}
	return out
}
