//go:build !amd64

package shmchan

import "unsafe"

// prefetchForWrite does nothing where ipclab has no PREFETCHW (amd64
// only, for now).
func prefetchForWrite(unsafe.Pointer) {}
