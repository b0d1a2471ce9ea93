//go:build !amd64

package cpuops

import (
	"sync/atomic"
	"unsafe"
)

// PrefetchForWrite does nothing where ipclab has no PREFETCHW (amd64
// only, for now).
func PrefetchForWrite(unsafe.Pointer) {}

// StoreRelease64 is a sequentially consistent store where ipclab has no
// cheaper release store (amd64 only, for now).
func StoreRelease64(addr *uint64, v uint64) { atomic.StoreUint64(addr, v) }

// StoreRelease32 is StoreRelease64 for a 32-bit word.
func StoreRelease32(addr *uint32, v uint32) { atomic.StoreUint32(addr, v) }

// Pause does nothing where ipclab has no spin-wait hint (amd64 only, for
// now).
func Pause() {}

// PrefetchRange is a no-op here.
func PrefetchRange(unsafe.Pointer, uintptr) {}
