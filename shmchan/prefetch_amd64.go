package shmchan

import "unsafe"

// prefetchForWrite asks the CPU to fetch addr's cache line for writing
// (PREFETCHW), without waiting for it. See ring.commit.
//
//go:noescape
func prefetchForWrite(addr unsafe.Pointer)
