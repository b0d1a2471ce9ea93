// Command mqueue is the POSIX message queue of seed 001 (mq_open, mq_send,
// mq_receive, mq_getattr) in Go, with priorities and chosen attributes. It
// meets c/mqueue.c on the same queue name.
//
// Usage:
//
//	mqueue send NAME PRIO TEXT [PRIO TEXT ...]
//	mqueue recv NAME COUNT [unlink]
//
// send creates NAME if needed (0600, mq_maxmsg 8, mq_msgsize 128) and
// sends each TEXT at its PRIO. recv prints the attributes and takes COUNT
// messages: the highest priority first, first in first out within one
// priority; "unlink" removes the queue afterwards.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

const (
	maxMsg  = 8   // within fs.mqueue.msg_max's default of 10
	msgSize = 128 // within fs.mqueue.msgsize_max
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mqueue:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 3 || (args[0] != "send" && args[0] != "recv") {
		return fmt.Errorf("uso: mqueue send NOMBRE PRIO TEXTO [PRIO TEXTO ...]\n     mqueue recv NOMBRE CUANTOS [unlink]")
	}
	if args[0] == "send" {
		return send(args[1], args[2:])
	}
	count, err := strconv.Atoi(args[2])
	if err != nil || count < 0 {
		return fmt.Errorf("count %s is not a number >= 0", args[2])
	}
	return recv(args[1], count, len(args) > 3 && args[3] == "unlink")
}

func send(name string, pairs []string) error {
	if len(pairs)%2 != 0 {
		return fmt.Errorf("send takes PRIO TEXT pairs")
	}
	q, err := sysipc.MqOpen(name, unix.O_WRONLY|unix.O_CREAT, 0o600, &sysipc.MqAttr{Maxmsg: maxMsg, Msgsize: msgSize})
	if err != nil {
		return fmt.Errorf("mq_open %s: %w", name, err)
	}
	defer unix.Close(q)
	for i := 0; i < len(pairs); i += 2 {
		prio, err := strconv.ParseUint(pairs[i], 10, 32)
		if err != nil {
			return fmt.Errorf("priority %s is not a number >= 0", pairs[i])
		}
		if err := sysipc.MqTimedsend(q, []byte(pairs[i+1]), uint(prio), nil); err != nil {
			return fmt.Errorf("mq_send: %w", err)
		}
		fmt.Printf("sent prio=%d text=%s\n", prio, pairs[i+1])
	}
	_, err = printAttr(q)
	return err
}

func recv(name string, count int, unlink bool) error {
	q, err := sysipc.MqOpen(name, unix.O_RDONLY, 0, nil)
	if err != nil {
		return fmt.Errorf("mq_open %s: %w", name, err)
	}
	defer unix.Close(q)
	attr, err := printAttr(q)
	if err != nil {
		return err
	}
	buf := make([]byte, attr.Msgsize) // mq_receive needs mq_msgsize bytes
	for range count {
		n, prio, err := sysipc.MqTimedreceive(q, buf, nil)
		if err != nil {
			return fmt.Errorf("mq_receive: %w", err)
		}
		fmt.Printf("received prio=%d text=%s\n", prio, buf[:n])
	}
	if unlink {
		if err := sysipc.MqUnlink(name); err != nil {
			return fmt.Errorf("mq_unlink: %w", err)
		}
	}
	return nil
}

func printAttr(q int) (sysipc.MqAttr, error) {
	a, err := sysipc.MqGetsetattr(q, nil)
	if err != nil {
		return a, fmt.Errorf("mq_getattr: %w", err)
	}
	fmt.Printf("mq_maxmsg=%d mq_msgsize=%d mq_curmsgs=%d\n", a.Maxmsg, a.Msgsize, a.Curmsgs)
	return a, nil
}
