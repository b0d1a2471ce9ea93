// Package cpuops is the few processor operations Go's compiler and
// sync/atomic do not give: a prefetch for writing, and a store with
// release order alone. sync/atomic's stores are sequentially consistent,
// which on amd64 is XCHG, a full barrier: it waits until every earlier
// store is visible, and a store to a cache line another CPU holds waits a
// cache-line round trip (100-300 ns here). A publication (a ring's tail,
// a lock's release) needs only that earlier stores are visible first,
// which x86's total store order gives any plain MOV.
//
// These are assembly on amd64, so the race detector, which cannot see
// another process anyway, does not instrument them; elsewhere they fall
// back to sync/atomic (and PrefetchForWrite does nothing).
package cpuops
