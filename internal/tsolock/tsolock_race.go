//go:build race

package tsolock

import "sync"

// Mutex is sync.Mutex under the race detector, which would not see
// tsolock's release store as the release it is (tsolock.go).
type Mutex struct{ mu sync.Mutex }

func (m *Mutex) Lock()         { m.mu.Lock() }
func (m *Mutex) TryLock() bool { return m.mu.TryLock() }
func (m *Mutex) Unlock()       { m.mu.Unlock() }
