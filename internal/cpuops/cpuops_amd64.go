package cpuops

import "unsafe"

// PrefetchForWrite asks the CPU to fetch addr's cache line for writing
// (PREFETCHW), without waiting for it.
//
//go:noescape
func PrefetchForWrite(addr unsafe.Pointer)

// StoreRelease64 stores v at addr with a plain MOV: every store before it
// is visible first. It orders nothing against later loads: a caller that
// then reads a word another CPU writes, and must see it if that CPU did
// not see v (a wake-up announcement), needs atomic.StoreUint64 instead.
//
//go:noescape
func StoreRelease64(addr *uint64, v uint64)

// StoreRelease32 is StoreRelease64 for a 32-bit word.
//
//go:noescape
func StoreRelease32(addr *uint32, v uint32)

// Pause is the spin-wait hint (PAUSE): a loop that polls a word another
// CPU writes leaves the loop without the memory-order flush that many
// speculated loads of that word cost when it changes, and leaves the core
// to a sibling meanwhile.
func Pause()

// PrefetchRange asks the CPU to fetch the cache lines that hold the n
// bytes at addr, for reading (PREFETCHT0), without waiting for them.
//
//go:noescape
func PrefetchRange(addr unsafe.Pointer, n uintptr)
