package leakcheck

import (
	"os"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"golang.org/x/sys/unix"
)

// devShmPrivate is set once PrivateDevShm has mounted this binary's own
// /dev/shm: only then are its files checked for leaks.
var devShmPrivate bool

// PrivateDevShm gives this test binary, when Main runs it in its private
// namespaces, an empty tmpfs of its own on /dev/shm, where POSIX named
// semaphores and shm_open objects live: tests may then use fixed names (as C
// programs do) without meeting another package's files, and the mount dies
// with the namespace. It reports whether it did; outside the private
// namespace it changes nothing and the tests share the machine's /dev/shm.
// Call it from TestMain before Main.
func PrivateDevShm() bool {
	if os.Getenv(envPrivate) != "1" {
		return false
	}
	// 256 MiB: fan-in runs eight channels, each 512 KiB by default and
	// 16 MiB for 1 MiB messages (shmchan.RingSizeFor's two 8 MiB rings;
	// tmpfs takes pages as they are used; the size is only a ceiling).
	devShmPrivate = unix.Mount("ipclab-test", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777,size=256m") == nil
	return devShmPrivate
}

// devShmObjects lists the files in this binary's private /dev/shm: POSIX
// shared-memory objects and named semaphores, which a test must remove.
// Without the private mount it lists nothing: the machine's /dev/shm is
// shared with every process, so a difference there would blame the tests
// for files others made (any test binary may create posixshm objects).
func devShmObjects() ([]ipcobj.Object, error) {
	if !devShmPrivate {
		return nil, nil
	}
	return ipcobj.DevShmFiles(ipcobj.DevShm)
}
