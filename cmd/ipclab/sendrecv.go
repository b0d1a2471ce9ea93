package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/transports"
)

// runRecv creates the channel (the reader owns it, as in the course's
// exercise) and prints each message on a line until the sender closes or
// Ctrl-C, which removes the channel.
func runRecv(args []string) error {
	fs := newFlags("recv", "[-link MODE] ADDR", "Create the channel at ADDR and print each message received.")
	mode := fs.String("link", link.Raw.String(), linkFlagHelp)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one address (see 'ipclab -h' for their forms)")
	}
	lm, err := link.NewMode(*mode)
	if err != nil {
		return &usageError{err.Error()}
	}
	if t, err := transports.Lookup(fs.Arg(0)); err == nil && t.Scheme == "pipe" {
		// An anonymous pipe joins a parent and the child it starts: another
		// terminal's ipclab send could never reach it.
		return usageErrorf("an anonymous pipe joins only a process and its child (bench uses it so); between two terminals use a FIFO: ipclab recv fifo:/tmp/NAME")
	}
	c, _, err := transports.CreateWith(fs.Arg(0), transports.Options{Register: true})
	if err != nil {
		return err
	}
	if c, err = wrapLink(c, lm); err != nil {
		return err
	}
	defer c.Close()
	defer reportLink(c, "recv")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); c.Close() }()
	fmt.Fprintf(os.Stderr, "ipclab recv: waiting on %s (open it with: ipclab send %s)\n", c.Addr(), c.Addr())
	buf := make([]byte, c.MaxMessageSize())
	for {
		n, err := c.Recv(buf)
		switch {
		case errors.Is(err, ipclab.ErrClosed):
			return nil
		case errors.Is(err, ipclab.ErrPeerGone):
			return nil
		case err != nil:
			return err
		}
		fmt.Printf("%s\n", buf[:n])
	}
}

// runSend opens the channel and sends each line of stdin as one message.
func runSend(args []string) error {
	fs := newFlags("send", "[-link MODE] ADDR", "Open the channel at ADDR and send each line of stdin as one message.")
	mode := fs.String("link", link.Raw.String(), linkFlagHelp+"; both ends must use the same")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one address (see 'ipclab -h' for their forms)")
	}
	lm, err := link.NewMode(*mode)
	if err != nil {
		return err
	}
	c, err := transports.OpenWith(fs.Arg(0), transports.Options{Register: true})
	if err != nil {
		return err
	}
	if c, err = wrapLink(c, lm); err != nil {
		return err
	}
	defer c.Close()
	defer reportLink(c, "send")
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), c.MaxMessageSize()+1)
	for sc.Scan() {
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		switch err := c.Send(sc.Bytes()); {
		case errors.Is(err, link.ErrFull):
			fmt.Fprintln(os.Stderr, "ipclab send: the link is full; line not sent")
		case err != nil:
			return err
		}
	}
	return sc.Err()
}

func runLimits(args []string) error {
	fs := newFlags("limits", "", "Print the kernel IPC limits in force, what each bounds and for which transports.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	all := kernlimits.All()
	for _, n := range kernlimits.Names {
		v := all[n]
		if v == "" {
			v = "(unreadable)"
		}
		fmt.Printf("%-26s %s\n    %s\n", n, v, kernlimits.Meaning[n])
	}
	fmt.Println("\nRaise one with sysctl -w NAME=VALUE (as root). Without CAP_SYS_RESOURCE the mqueue\nmaxima bind even root; a System V queue keeps the size it was created with.")
	return nil
}
