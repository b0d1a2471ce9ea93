package registry

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Dir is where entries live: $IPCLAB_REGISTRY if set; else ipclab in
// $XDG_RUNTIME_DIR when that is a directory of ours closed to others;
// else ipclab-UID in the temporary directory. openDir checks it.
func Dir() string {
	if d := os.Getenv("IPCLAB_REGISTRY"); d != "" {
		return d
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && filepath.IsAbs(x) && checkPrivate(x) == nil {
		return filepath.Join(x, "ipclab")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("ipclab-%d", os.Geteuid()))
}

// checkPrivate lstats path and says why it is not a directory that only
// this user can reach into: a link, another owner, group or other bits.
func checkPrivate(path string) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return err
	}
	return privateStat(path, &st)
}

func privateStat(path string, st *unix.Stat_t) error {
	fix := "remove it, or point IPCLAB_REGISTRY at a directory of yours with mode 0700"
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("registry: %s is a symbolic link, not a directory (%s)", path, fix)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("registry: %s is not a directory (%s)", path, fix)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("registry: %s belongs to uid %d, not to this user (uid %d); someone else may have planted it (%s)",
			path, st.Uid, os.Geteuid(), fix)
	case st.Mode&0o077 != 0:
		return fmt.Errorf("registry: %s has mode %#o, want 0700: others could read or plant entries (chmod 700 it, or %s)",
			path, st.Mode&0o777, fix)
	}
	return nil
}

// dir is the registry directory, opened and verified.
type dir struct {
	fd   int
	path string
}

// openDir creates the directory 0700 if it is missing, lstats it, opens
// it without following a link and checks that what it opened is what it
// lstat'ed, ours and 0700. Every use of the registry goes through here.
func openDir() (*dir, error) {
	path := Dir()
	if err := unix.Mkdir(path, 0o700); err != nil && err != unix.EEXIST {
		return nil, fmt.Errorf("registry: create %s: %w", path, err)
	}
	var lst, st unix.Stat_t
	if err := unix.Lstat(path, &lst); err != nil {
		return nil, fmt.Errorf("registry: %s: %w", path, err)
	}
	if err := privateStat(path, &lst); err != nil {
		return nil, err
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %w", path, err)
	}
	if err := unix.Fstat(fd, &st); err != nil || st.Dev != lst.Dev || st.Ino != lst.Ino {
		unix.Close(fd)
		return nil, fmt.Errorf("registry: %s changed while it was being opened", path)
	}
	if err := privateStat(path, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &dir{fd: fd, path: path}, nil
}

func (d *dir) close() { unix.Close(d.fd) }

// names lists the directory through its descriptor.
func (d *dir) names() ([]string, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	return f.Readdirnames(-1)
}

// readOwn reads a regular file of this user's, not following a link.
func (d *dir) readOwn(name string) ([]byte, bool) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() || st.Size > maxEntry {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(f, maxEntry))
	return b, err == nil
}
