package link

import "testing"

func TestMode(t *testing.T) {
	for _, c := range []struct {
		name        string
		raw, drops  bool
		capacity    int
		wantNameOut string
	}{
		{"raw", true, false, 0, "raw"},
		{"seq", false, false, 64, "seq"},
		{"rendezvous", false, false, 0, "rendezvous"},
		{"cap-16", false, false, 16, "cap-16"},
		{"cap-16-drop", false, true, 16, "cap-16-drop"},
		{"cap-4-fail", false, false, 4, "cap-4-fail"},
		{"ack-2", false, false, 2, "ack-2"},
	} {
		m, err := NewMode(c.name)
		if err != nil {
			t.Errorf("NewMode(%q): %v", c.name, err)
			continue
		}
		if m.String() != c.wantNameOut || m.IsRaw() != c.raw || m.Drops() != c.drops || m.Options().Capacity != c.capacity {
			t.Errorf("NewMode(%q) = %v: raw %v drops %v capacity %d", c.name, m, m.IsRaw(), m.Drops(), m.Options().Capacity)
		}
	}
	if Raw.String() != "raw" || !Raw.IsRaw() || (Mode{}) != Raw {
		t.Errorf("Raw is %q, raw %v; the zero Mode must be Raw", Raw, Raw.IsRaw())
	}
	for _, bad := range []string{"", "cap", "cap-0", "cap-x", "ack-2-drop", "cap-16-sometimes"} {
		if m, err := NewMode(bad); err == nil {
			t.Errorf("NewMode(%q) = %v, want an error", bad, m)
		}
	}
}
