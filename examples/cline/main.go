// Command cline is seed 000's cline.c in Go: it writes a character and a
// length into the struct info that pline (Go or C) prints from. The
// segment, key 1234, must exist already.
//
// Usage: cline <char> <length>
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/ipclab/ipclab/examples/line"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 3 || len(os.Args[1]) != 1 {
		fmt.Fprintln(os.Stderr, "uso: cline <char> <length>")
		os.Exit(3)
	}
	length, err := strconv.ParseInt(os.Args[2], 10, 32)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cline: length %s is not an int\n", os.Args[2])
		os.Exit(3)
	}
	if err := run(os.Args[1][0], int32(length)); err != nil {
		fmt.Fprintln(os.Stderr, "cline:", err)
		os.Exit(1)
	}
}

func run(c byte, length int32) error {
	id, err := unix.SysvShmGet(line.Key, line.Size, 0)
	if err != nil {
		return fmt.Errorf("shmget (is pline running?): %w", err)
	}
	ctrl, mem, err := line.Attach(id)
	if err != nil {
		return err
	}
	ctrl.C = c
	ctrl.SetLength(length)
	if err := unix.SysvShmDetach(mem); err != nil {
		return fmt.Errorf("shmdt: %w", err)
	}
	return nil
}
