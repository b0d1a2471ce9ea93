package transports

import "testing"

func TestSharedMemory(t *testing.T) {
	for name, want := range map[string]bool{
		"sysvshm": true, "sysvshm-futex": true, "sysvshm-spin": true, "sysvshm:key=0x1234": true,
		"pipe": false, "fifo:/tmp/x": false, "sysvmsg": false, "posixmq:/q": false, "sysvshmx": false,
	} {
		if got := SharedMemory(name); got != want {
			t.Errorf("SharedMemory(%q) = %v, want %v", name, got, want)
		}
	}
}
