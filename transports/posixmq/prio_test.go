package posixmq

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipclab/ipclab"
)

// TestPriorityRange: a priority beyond MQ_PRIO_MAX-2 is refused before the
// system call, with an error naming the range (MQ_PRIO_MAX-1 is the close
// marker's); the largest valid one goes through.
func TestPriorityRange(t *testing.T) {
	c, err := Create(NewName(), Options{Depth: 2, MsgSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, prio := range []uint{32767, 32768} {
		err = c.SendPriority([]byte("x"), prio)
		var le *ipclab.LimitError
		if !errors.As(err, &le) || le.Limit != 32766 || !strings.Contains(err.Error(), "MQ_PRIO_MAX") {
			t.Fatalf("SendPriority(%d): %v; want a LimitError naming MQ_PRIO_MAX-2=32766", prio, err)
		}
	}
	if err := c.SendPriority([]byte("x"), 32766); err != nil {
		t.Fatalf("SendPriority(32766): %v", err)
	}
}
