package sysipc

import "unsafe"

// MsgTextOffset is the page offset at which ipclab's queue buffers (System
// V and POSIX) hold a message's bytes. The kernel keeps them after struct
// msg_msg (48 bytes into a page on 64-bit Linux), and past the first
// 4,048 after an 8-byte link at the start of further pages, and copies
// them in and out with rep movsb, which runs slower when its destination
// is 1-31 bytes further into a 4 KiB page than its source (4K aliasing):
// on this machine a 4 KiB msgrcv into text 64 bytes into a page took 2.6
// us against 1.25, an 8 KiB msgsnd from text 48 bytes in 3.1 us against
// 1.85. From 128 bytes in, the user side is far enough ahead of the
// kernel's 8 and 48 both ways. Were msg_msg another size, only the speed
// would change.
const MsgTextOffset = 128

// PlacedBuffer returns a buffer of n bytes whose first byte lies at page
// offset off (0-4095).
func PlacedBuffer(n, off int) []byte {
	const page = 4096
	b := make([]byte, n+page)
	at := int(uintptr(unsafe.Pointer(&b[0])) % page)
	i := ((off-at)%page + page) % page
	return b[i : i+n : i+n]
}
