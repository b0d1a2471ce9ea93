package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/link"
	"github.com/ipclab/ipclab/transports"
	"github.com/ipclab/ipclab/transports/posixmq"
	"github.com/ipclab/ipclab/transports/sysvmsg"
)

// runRecv creates the channel (the reader owns it, as in the course's
// exercise) and prints each message on a line until the sender closes or
// Ctrl-C, which removes the channel.
func runRecv(args []string) error {
	fs := newFlags("recv", "[-link MODE] [-type N] [-max SIZE] ADDR", `Create the channel at ADDR and print each message received: one line each,
prefixed by prio=N on a POSIX queue (its priority) and by type=N with -type.`)
	mode := fs.String("link", link.Raw.String(), linkFlagHelp)
	maxSize := fs.String("max", "", maxFlagHelp)
	mtype := fs.Int64("type", 0, typeFlagHelp+": 0 takes any message, N > 0 the first of type N, -N the first of the lowest type <= N (msgrcv's msgtyp)")
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
	typed := flagSet(fs, "type")
	if err := checkRawFlags(fs.Arg(0), lm, typed, false); err != nil {
		return err
	}
	if t, err := transports.Lookup(fs.Arg(0)); err == nil && t.Scheme == "pipe" {
		// An anonymous pipe joins a parent and the child it starts: another
		// terminal's ipclab send could never reach it.
		return usageErrorf("an anonymous pipe joins only a process and its child (bench uses it so); between two terminals use a FIFO: ipclab recv fifo:/tmp/NAME")
	}
	o := transports.Options{Register: true}
	if flagSet(fs, "max") {
		if !transports.SharedMemory(fs.Arg(0)) {
			return usageErrorf("-max sizes a shared-memory channel (sysvshm:, posixshm:); other transports' largest message is their own (see the README's table, ipclab limits)")
		}
		n, err := parseSize(*maxSize)
		if err == nil && n < 1 {
			err = errors.New("want 1 byte or more")
		}
		if err != nil {
			return usageErrorf("-max: %v", err)
		}
		o.MaxMessage = n
		if !lm.IsRaw() {
			o.MaxMessage += link.HeaderLen // the link's frames carry the lines
		}
	}
	c, _, err := transports.CreateWith(fs.Arg(0), o)
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
	next := nextMessage(c, typed, *mtype)
	for {
		n, label, err := next(buf)
		switch {
		case errors.Is(err, ipclab.ErrClosed):
			return nil
		case errors.Is(err, ipclab.ErrPeerGone):
			return nil
		case err != nil:
			return err
		}
		fmt.Printf("%s%s\n", label, buf[:n])
	}
}

const maxFlagHelp = "shared memory only (sysvshm:, posixshm:): the longest line the channel takes, e.g. 1M, for lines beyond its default 64K (shmchan.DefaultMaxMessage); its rings are sized to hold four (shmchan.RingSizeFor)"

const typeFlagHelp = "System V queue only, raw link only: the message type (mtype, 1 to 2^62-1; the default traffic uses 1 and 2, one per direction)"

// checkRawFlags refuses -type and -prio where they mean nothing: on
// another transport, or under a link, whose frames and acknowledgements
// travel on the transport's own direction types and priority.
func checkRawFlags(addr string, lm link.Mode, typed, prio bool) error {
	scheme, _, _ := strings.Cut(addr, ":")
	switch {
	case typed && scheme != sysvmsg.Scheme:
		return usageErrorf("-type is a System V queue's mtype: it needs a sysvmsg: address")
	case prio && scheme != posixmq.Scheme:
		return usageErrorf("-prio is a POSIX queue's priority: it needs a posixmq: address")
	case (typed || prio) && lm != link.Raw:
		return usageErrorf("-type and -prio address the queue itself; a link (-link %s) frames its messages on the channel's own types and priority: use one or the other", lm)
	}
	return nil
}

// nextMessage returns how recv takes a message from c and the label it
// prints before it: msgrcv's type selection with -type, each message's
// priority on a POSIX queue, nothing on the others.
func nextMessage(c ipclab.Conn, typed bool, msgtyp int64) func([]byte) (int, string, error) {
	if tc, ok := c.(*sysvmsg.Conn); ok && typed {
		return func(buf []byte) (int, string, error) {
			for {
				// A selection other than 0 leaves the senders' close
				// markers queued: look for them between waits, so recv
				// still ends when an ipclab sender closes.
				c.SetReadDeadline(time.Now().Add(markerPoll))
				n, mt, err := tc.RecvType(buf, msgtyp)
				if errors.Is(err, ipclab.ErrTimeout) {
					if tc.TakeMarkers() {
						return 0, "", ipclab.ErrPeerGone
					}
					continue
				}
				return n, fmt.Sprintf("type=%d ", mt), err
			}
		}
	}
	if pc, ok := c.(ipclab.PriorityConn); ok {
		return func(buf []byte) (int, string, error) {
			n, prio, err := pc.RecvPriority(buf)
			return n, fmt.Sprintf("prio=%d ", prio), err
		}
	}
	return func(buf []byte) (int, string, error) {
		n, err := c.Recv(buf)
		return n, "", err
	}
}

// markerPoll is how often recv -type looks for an ipclab sender's close.
const markerPoll = 200 * time.Millisecond

// runSend opens the channel and sends each line of stdin as one message.
func runSend(args []string) error {
	fs := newFlags("send", "[-link MODE] [-type N | -prio N] ADDR", "Open the channel at ADDR and send each line of stdin as one message.")
	mode := fs.String("link", link.Raw.String(), linkFlagHelp+"; both ends must use the same")
	mtype := fs.Int64("type", 0, typeFlagHelp+": send every line with this type (a receiver takes it with recv -type N, 0, or -M for M >= N)")
	prio := fs.Int("prio", 0, fmt.Sprintf("POSIX queue only, raw link only: send every line with this priority (0 to %d; the receiver takes the highest first)", posixmq.PrioClosed-1))
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
	typed, prioSet := flagSet(fs, "type"), flagSet(fs, "prio")
	if err := checkRawFlags(fs.Arg(0), lm, typed, prioSet); err != nil {
		return err
	}
	if typed && (*mtype < 1 || *mtype >= sysvmsg.TypeClosed) {
		return usageErrorf("-type %d: a message type is 1 to 2^62-1 (2^62 and 2^62+1 mark a sender's open and close)", *mtype)
	}
	if prioSet && (*prio < 0 || *prio >= posixmq.PrioClosed) {
		return usageErrorf("-prio %d: a priority is 0 to %d (MQ_PRIO_MAX-2; %d marks a close)", *prio, posixmq.PrioClosed-1, posixmq.PrioClosed)
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
	send := c.Send
	switch {
	case typed:
		tc := c.(*sysvmsg.Conn) // checkRawFlags: a sysvmsg address, no link
		send = func(p []byte) error { return tc.SendType(p, *mtype) }
	case prioSet:
		pc := c.(ipclab.PriorityConn)
		send = func(p []byte) error { return pc.SendPriority(p, uint(*prio)) }
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), c.MaxMessageSize()+1)
	for sc.Scan() {
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		switch err := send(sc.Bytes()); {
		case errors.Is(err, link.ErrFull):
			fmt.Fprintln(os.Stderr, "ipclab send: the link is full; line not sent")
		case err != nil:
			return lineTooLong(err, fs.Arg(0))
		}
	}
	if err := sc.Err(); !errors.Is(err, bufio.ErrTooLong) {
		return err
	}
	// A line longer than the scanner's buffer, so than c takes: Send
	// refuses a message as long, sending nothing, and says which limit
	// and how to raise it.
	most := c.MaxMessageSize()
	err = send(make([]byte, most+1))
	var tl *ipclab.TooLargeError
	if !errors.As(err, &tl) {
		return fmt.Errorf("a line of stdin is longer than %d bytes, the largest message %s takes", most, fs.Arg(0))
	}
	return lineTooLong(fmt.Errorf("a line of stdin is longer than %d bytes: %w", most, err), fs.Arg(0))
}

// lineTooLong is err, and for a line too long for a shared-memory channel
// how the CLI makes a larger one: its library hint (a Config) is no knob
// of ipclab's.
func lineTooLong(err error, addr string) error {
	var tl *ipclab.TooLargeError
	if errors.As(err, &tl) && transports.SharedMemory(addr) {
		return fmt.Errorf("%w; to send longer lines, create the channel with ipclab recv -max SIZE %s", err, addr)
	}
	return err
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
