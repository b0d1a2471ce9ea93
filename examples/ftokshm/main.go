// Command ftokshm is the program of seeds 002 and 003 in Go: a key made
// with ftok, a segment of ten C ints created exclusively and filled with
// 0..9, kept until a line arrives on standard input, then detached and
// removed. It meets c/ftokshm.c on the same key and segment.
//
// Usage:
//
//	ftokshm serve [PATH [PROJ]]   the seed's program
//	ftokshm read  [PATH [PROJ]]   attaches the same segment read-only and
//	                              prints what it holds
//
// PATH and PROJ default to the seed's "/bin/cat" and 1300. glibc's ftok
// keeps only the low 8 bits of PROJ (1300 acts as 20) and sysipc.Ftok does
// the same, so any int is accepted; the key printed shows the result.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

const maxBuf = 10 // MAXBUF

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ftokshm:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 || len(args) > 3 || (args[0] != "serve" && args[0] != "read") {
		return fmt.Errorf("uso: ftokshm serve|read [RUTA [PROJ]]")
	}
	path, proj := "/bin/cat", 1300
	if len(args) > 1 {
		path = args[1]
	}
	if len(args) > 2 {
		var err error
		if proj, err = strconv.Atoi(args[2]); err != nil {
			return fmt.Errorf("proj %s is not a number", args[2])
		}
	}
	key, err := sysipc.Ftok(path, proj)
	if err != nil {
		return fmt.Errorf("ftok: %w", err)
	}
	fmt.Printf("key=%s\n", key)
	if args[0] == "read" {
		return read(key)
	}
	return serve(key)
}

func serve(key sysipc.Key) error {
	// SHM_R|SHM_W in the seed: 0400|0200.
	id, err := unix.SysvShmGet(int(key), 4*maxBuf, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		return fmt.Errorf("shmget: %w", err)
	}
	mem, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		return fmt.Errorf("shmat: %w", err)
	}
	buffer := unsafe.Slice((*int32)(unsafe.Pointer(&mem[0])), maxBuf)
	for i := range buffer {
		buffer[i] = int32(i)
	}
	fmt.Printf("ready id=%d\n", id)
	// The daemon runs until a line (or end of input) arrives.
	bufio.NewReader(os.Stdin).ReadString('\n')
	if err := unix.SysvShmDetach(mem); err != nil {
		fmt.Fprintln(os.Stderr, "ftokshm: shmdt:", err)
	}
	if _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); err != nil {
		return fmt.Errorf("shmctl IPC_RMID: %w", err)
	}
	fmt.Println("removed")
	return nil
}

func read(key sysipc.Key) error {
	// shmget fails with EINVAL if the segment under key is smaller.
	id, err := unix.SysvShmGet(int(key), 4*maxBuf, 0)
	if err != nil {
		return fmt.Errorf("shmget: %w", err)
	}
	mem, err := unix.SysvShmAttach(id, 0, unix.SHM_RDONLY)
	if err != nil {
		return fmt.Errorf("shmat: %w", err)
	}
	defer unix.SysvShmDetach(mem)
	buffer := unsafe.Slice((*int32)(unsafe.Pointer(&mem[0])), maxBuf)
	var row strings.Builder
	for _, v := range buffer {
		fmt.Fprintf(&row, "%d ", v)
	}
	fmt.Println(row.String())
	return nil
}
