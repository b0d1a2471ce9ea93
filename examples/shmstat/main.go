// Command shmstat is seed 004's example in Go: a private segment
// (IPC_PRIVATE), its size read back with IPC_STAT, a string written, the
// segment detached and attached again at another address, and finally
// removed with IPC_RMID (which the seed left inside a comment). It meets
// c/shmstat.c on the same segment, by id.
//
// Usage:
//
//	shmstat             the seed's program, in one process
//	shmstat create      creates the segment, writes the string, prints its
//	                    id, waits for a line on stdin, removes it
//	shmstat attach ID   the seed's second half on a segment another process
//	                    created: IPC_PRIVATE only means "no key"; the id
//	                    reaches it
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	segmentSize = 0x6400
	reattachAt  = 0x5000000 // far below the Go heap and above the binary
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shmstat:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 2 && args[0] == "attach" {
		id, err := strconv.Atoi(args[1])
		if err != nil {
			return fmt.Errorf("id %s is not a number", args[1])
		}
		return statAndReattach(id)
	}
	if len(args) > 1 || (len(args) == 1 && args[0] != "create") {
		return fmt.Errorf("uso: shmstat [create | attach ID]")
	}
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, segmentSize, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		return fmt.Errorf("shmget: %w", err)
	}
	err = use(id, len(args) == 1)
	if _, rerr := unix.SysvShmCtl(id, unix.IPC_RMID, nil); rerr != nil && err == nil {
		err = fmt.Errorf("shmctl IPC_RMID: %w", rerr)
	}
	if err == nil {
		fmt.Println("removed")
	}
	return err
}

func use(id int, create bool) error {
	mem, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		return fmt.Errorf("shmat: %w", err)
	}
	fmt.Printf("shared memory attached at address %p\n", unsafe.Pointer(&mem[0]))
	copy(mem, "Hello, world\x00")
	unix.SysvShmDetach(mem)
	if !create {
		return statAndReattach(id)
	}
	fmt.Printf("id=%d\n", id)
	bufio.NewReader(os.Stdin).ReadString('\n')
	return nil
}

func statAndReattach(id int) error {
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		return fmt.Errorf("shmctl IPC_STAT: %w", err)
	}
	fmt.Printf("segment size: %d\n", ds.Segsz)
	fmt.Printf("creator pid: %d\n", ds.Cpid)
	mem, err := unix.SysvShmAttach(id, reattachAt, 0)
	if err != nil {
		return fmt.Errorf("shmat at %#x: %w", reattachAt, err)
	}
	defer unix.SysvShmDetach(mem)
	fmt.Printf("shared memory reattached at address %p\n", unsafe.Pointer(&mem[0]))
	// The segment is another process's: print up to its first NUL, never
	// past its end.
	text, _, _ := bytes.Cut(mem, []byte{0})
	fmt.Printf("%s\n", text)
	return nil
}
