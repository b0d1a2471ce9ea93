package leakcheck

import (
	"os"

	"golang.org/x/sys/unix"
)

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
	return unix.Mount("ipclab-test", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777,size=16m") == nil
}
