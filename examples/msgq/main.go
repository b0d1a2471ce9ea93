// Command msgq is the System V message queue of seed 001 (msgget, msgsnd,
// msgrcv) in Go, with the message type (mtype) selecting what msgrcv
// takes. It meets c/msgq.c on the same queue.
//
// Usage:
//
//	msgq send PATH PROJ TYPE TEXT [TYPE TEXT ...]
//	msgq recv PATH PROJ MSGTYP COUNT [rm]
//
// The key is ftok(PATH, PROJ). glibc's ftok keeps only the low 8 bits of
// PROJ, and so does sysipc.Ftok: any int is accepted (1300 acts as 20).
// send creates the queue if needed (0600) and sends each TEXT with its TYPE
// (>= 1). recv takes COUNT messages with msgrcv's MSGTYP: 0 the first in
// the queue, > 0 the first of that type, < 0 the first of the lowest type
// <= |MSGTYP|; "rm" removes the queue afterwards.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

const maxText = 256 // MAXTEXT, as in msgq.c

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "msgq:", err)
		os.Exit(1)
	}
}

func usage() error {
	return fmt.Errorf("uso: msgq send RUTA PROJ TIPO TEXTO [TIPO TEXTO ...]\n     msgq recv RUTA PROJ MSGTYP CUANTOS [rm]")
}

func run(args []string) error {
	if len(args) < 5 || (args[0] != "send" && args[0] != "recv") {
		return usage()
	}
	proj, err := strconv.Atoi(args[2])
	if err != nil {
		return fmt.Errorf("proj %s is not a number", args[2])
	}
	key, err := sysipc.Ftok(args[1], proj)
	if err != nil {
		return fmt.Errorf("ftok: %w", err)
	}
	fmt.Printf("key=%s\n", key)
	id, err := sysipc.Msgget(key, unix.IPC_CREAT|0o600)
	if err != nil {
		return fmt.Errorf("msgget: %w", err)
	}
	if args[0] == "send" {
		return send(id, args[3:])
	}
	return recv(id, args[3:])
}

func send(id int, pairs []string) error {
	if len(pairs)%2 != 0 {
		return fmt.Errorf("send takes TYPE TEXT pairs")
	}
	for i := 0; i < len(pairs); i += 2 {
		mtype, err := strconv.ParseInt(pairs[i], 10, 64)
		if err != nil || mtype < 1 {
			return fmt.Errorf("type %s: msgsnd needs an mtype >= 1", pairs[i])
		}
		text := pairs[i+1]
		if len(text) > maxText {
			return fmt.Errorf("text of %d bytes is over MAXTEXT (%d)", len(text), maxText)
		}
		msg := make([]byte, sysipc.MsgHeader+len(text))
		sysipc.PutMtype(msg, mtype)
		copy(msg[sysipc.MsgHeader:], text)
		if err := sysipc.Msgsnd(id, msg, 0); err != nil {
			return fmt.Errorf("msgsnd: %w", err)
		}
		fmt.Printf("sent mtype=%d mtext=%s\n", mtype, text)
	}
	return nil
}

func recv(id int, args []string) error {
	msgtyp, err1 := strconv.ParseInt(args[0], 10, 64)
	count, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || count < 0 {
		return usage()
	}
	msg := make([]byte, sysipc.MsgHeader+maxText)
	for got := 0; got < count; {
		n, err := sysipc.Msgrcv(id, msg, msgtyp, 0)
		if err == unix.EINTR {
			continue // the kernel never restarts a blocked msgrcv after Go's runtime signals
		}
		if err != nil {
			return fmt.Errorf("msgrcv: %w", err)
		}
		fmt.Printf("received mtype=%d mtext=%s\n", sysipc.Mtype(msg), msg[sysipc.MsgHeader:sysipc.MsgHeader+n])
		got++
	}
	if len(args) > 2 && args[2] == "rm" {
		if err := sysipc.MsgctlRemove(id); err != nil {
			return fmt.Errorf("msgctl IPC_RMID: %w", err)
		}
	}
	return nil
}
