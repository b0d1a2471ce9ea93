// Command pline is seed 000's pline.c in Go: it prints a line of Length
// copies of C every interval, both read from the struct info in the System
// V segment of key 1234 that cline (Go or C) changes; it ends when the
// length is 0 or less, and removes the segment.
//
// Usage: pline [interval_ms]   (default 4000, the seed's sleep(4))
package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/ipclab/ipclab/examples/line"
	"golang.org/x/sys/unix"
)

func main() {
	interval := 4 * time.Second
	if len(os.Args) > 2 {
		usage()
	}
	if len(os.Args) == 2 {
		ms, err := strconv.Atoi(os.Args[1])
		if err != nil || ms <= 0 {
			usage()
		}
		interval = time.Duration(ms) * time.Millisecond
	}
	if err := run(interval); err != nil {
		fmt.Fprintln(os.Stderr, "pline:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "uso: pline [intervalo_ms]")
	os.Exit(3)
}

func run(interval time.Duration) error {
	// IPC_CREAT without IPC_EXCL, as the seed: a segment left by an earlier
	// run is reused (Attach checks its size).
	id, err := unix.SysvShmGet(line.Key, line.Size, unix.IPC_CREAT|0o600)
	if err != nil {
		return fmt.Errorf("shmget: %w", err)
	}
	ctrl, mem, err := line.Attach(id)
	if err != nil {
		return err
	}
	ctrl.C = 'a' // the defaults
	ctrl.SetLength(10)

	for {
		n, c := ctrl.Length(), ctrl.C // one consistent line
		if n <= 0 {
			break
		}
		os.Stdout.Write(append(bytes.Repeat([]byte{c}, int(n)), '\n'))
		time.Sleep(interval)
	}
	if err := unix.SysvShmDetach(mem); err != nil {
		return fmt.Errorf("shmdt: %w", err)
	}
	if _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); err != nil {
		return fmt.Errorf("shmctl IPC_RMID: %w", err)
	}
	return nil
}
