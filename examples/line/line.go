// Package line is c/line.h for Go: the key and the struct that pline and
// cline share in a raw System V segment, laid out as gcc lays out
// struct info so that the C and Go programs can be mixed.
package line

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Key is line.h's KEY, 1234 (0x4d2 in ipcs).
const Key = 1234

// Info is struct info {char c; int length;}: c at offset 0, then three
// bytes of padding because a C int is 4-byte aligned, then length at offset
// 4; 8 bytes in all (SEGSIZE).
type Info struct {
	C      byte
	_      [3]byte
	length int32
}

// The layout checks: a change here that gcc would not make fails to compile.
var (
	_ [unsafe.Offsetof(Info{}.length) - 4]struct{}
	_ [4 - unsafe.Offsetof(Info{}.length)]struct{}
	_ [unsafe.Sizeof(Info{}) - 8]struct{}
	_ [8 - unsafe.Sizeof(Info{})]struct{}
)

// Size is SEGSIZE, sizeof(struct info).
const Size = int(unsafe.Sizeof(Info{}))

// Length reads the length another process may be writing.
func (in *Info) Length() int32 { return atomic.LoadInt32(&in.length) }

// SetLength writes the length.
func (in *Info) SetLength(n int32) { atomic.StoreInt32(&in.length, n) }

// Attach attaches segment id and returns the struct info at its start, with
// the mapping to detach. It checks the segment can hold one: a segment of
// another program under the same key may be smaller.
func Attach(id int) (*Info, []byte, error) {
	mem, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("shmat: %w", err)
	}
	if len(mem) < Size {
		unix.SysvShmDetach(mem)
		return nil, nil, fmt.Errorf("segment %d has %d bytes, less than struct info's %d", id, len(mem), Size)
	}
	return (*Info)(unsafe.Pointer(&mem[0])), mem, nil
}
