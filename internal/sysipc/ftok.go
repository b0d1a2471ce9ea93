package sysipc

import (
	"fmt"
	"strconv"

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

// ParseProj reads ftok's proj argument as C programs pass it: any int.
// glibc keeps only its low 8 bits (ftok("/bin/cat", 1300) is the key of
// proj 20), and proj 0 is no error there either: the key's top byte is
// then 0, which is still a key unless the whole key comes out 0
// (IPC_PRIVATE; see FtokKey).
func ParseProj(s string) (int, error) {
	n, err := strconv.ParseInt(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("proj %q must be an int (C's int: -2147483648..2147483647); ftok uses its low 8 bits", s)
	}
	return int(n), nil
}

// FtokKey is Ftok for an object other processes must find by key: a key
// of 0 would be IPC_PRIVATE, a new object nobody can open, so it is an
// error naming the way out.
func FtokKey(path string, id int) (Key, error) {
	k, err := Ftok(path, id)
	if err == nil && k == IPCPrivate {
		err = fmt.Errorf("ftok(%s, %d) is 0, which is IPC_PRIVATE: pick another proj", path, id)
	}
	return k, err
}
