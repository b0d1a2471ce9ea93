package posixmq

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipclab/ipclab"
)

// TestPriorityRange: a priority beyond MQ_PRIO_MAX-1 is refused before the
// system call, with an error naming the range; the largest valid one goes
// through.
func TestPriorityRange(t *testing.T) {
	c, err := Create(NewName(), Options{Depth: 2, MsgSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.SendPriority([]byte("x"), 32768)
	var le *ipclab.LimitError
	if !errors.As(err, &le) || le.Limit != 32767 || !strings.Contains(err.Error(), "MQ_PRIO_MAX") {
		t.Fatalf("SendPriority(32768): %v; want a LimitError naming MQ_PRIO_MAX-1=32767", err)
	}
	if err := c.SendPriority([]byte("x"), 32767); err != nil {
		t.Fatalf("SendPriority(32767): %v", err)
	}
}
