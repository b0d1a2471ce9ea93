package sysipc

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Key is a System V IPC key (key_t). IPC_PRIVATE is 0.
type Key int32

// IPCPrivate asks for a new object that has no key: other processes reach it
// by its id.
const IPCPrivate Key = 0

// String prints the key as ipcs does.
func (k Key) String() string { return fmt.Sprintf("0x%08x", uint32(k)) }

// Ftok returns what glibc's ftok(3) returns for the same path and id: the
// low 16 bits of the inode, the low 8 bits of the device and of id.
func Ftok(path string, id int) (Key, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return -1, err
	}
	k := uint32(st.Ino&0xffff) | uint32(st.Dev&0xff)<<16 | uint32(id&0xff)<<24
	return Key(int32(k)), nil
}
