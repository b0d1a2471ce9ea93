package lab

import (
	"strings"
	"testing"

	"github.com/ipclab/ipclab/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Main(m) }

// TestReadyExperimentsLoad: every ready experiment parses, each of its
// expectations names exactly one case, and its questions have both
// languages.
func TestReadyExperimentsLoad(t *testing.T) {
	names := Names()
	for _, want := range []string{"shm-vs-pipes", "capacity", "flow-control", "ordering", "wakeup-floor"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("ready experiments %v lack %s", names, want)
		}
	}
	for _, n := range names {
		e, err := Load(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if e.Name != n {
			t.Errorf("%s: name %q", n, e.Name)
		}
		if len(e.Expect) == 0 || len(e.Questions) == 0 {
			t.Errorf("%s: %d expectations, %d questions", n, len(e.Expect), len(e.Questions))
		}
		for _, q := range e.Questions {
			if q.Text.ES == "" || q.Text.EN == "" {
				t.Errorf("%s %s: a question in one language only", n, q.ID)
			}
		}
		if _, err := e.Spec(Overrides{Runs: 1, Count: 10}); err != nil {
			t.Errorf("%s: spec: %v", n, err)
		}
	}
}

const minimal = `
name = "t"
[run]
transports = ["pipe", "sysvmsg"]
modes = ["latency"]
sizes = [64]
placement = "split"
runs = 2
count = 10
`

// TestParseErrors: what a hand-edited file gets wrong is an error naming
// the key, never a setting silently ignored or a run that cannot be
// evaluated.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ extra, want string }{
		{"[run2]\nx = 1", "unknown key"},
		{"", ""},
		{`[[expect]]
id = "a"
left = { transport = "pipe", metric = "p50" }
op = "<"
right = { transport = "sysvmsg", metric = "p50" }`, ""},
		{`[[expect]]
id = "a"
left = { metric = "p50" }
op = "<"
right = { transport = "sysvmsg", metric = "p50" }`, "selects 2 cases"},
		{`[[expect]]
id = "a"
left = { transport = "pipe", metric = "p50" }
op = "≈"
right = { transport = "sysvmsg", metric = "p50" }`, "op"},
		{`[[expect]]
id = "a"
left = { transport = "pipe", metric = "mb_per_sec" }
op = "<"
right = { transport = "sysvmsg", metric = "p50" }`, "mb_per_sec"},
		{`[[expect]]
id = "a"
left = { transport = "pipe", metric = "dropped" }
op = "="
right = { value = 0 }`, "no link counters"},
		{`[[expect]]
id = "a"
left = { transport = "pipe", metric = "p50" }
op = "<"
right = { transport = "tcp", metric = "p50" }`, "selects no case"},
		{`[[expect]]
id = "a"
left = { transport = "pipe", metric = "p5O" }
op = "<"
right = { value = 1 }`, "p5O"},
		{`[[questions]]
id = "q"`, "questions[0]"},
	} {
		_, err := Parse([]byte(minimal+tc.extra), "t.toml")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.extra, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want one saying %q", tc.extra, err, tc.want)
		}
	}
	for _, bad := range []string{
		strings.Replace(minimal, `placement = "split"`, ``, 1),
		strings.Replace(minimal, `sizes = [64]`, `sizes = ["64X"]`, 1),
		strings.Replace(minimal, `"sysvmsg"`, `"sysvmsgg"`, 1),
		strings.Replace(minimal, `runs = 2`, `runs = 0`, 1),
	} {
		if _, err := Parse([]byte(bad), "t.toml"); err == nil {
			t.Errorf("accepted:\n%s", bad)
		}
	}
	if _, err := Load("no-such-experiment"); err == nil || !strings.Contains(err.Error(), "shm-vs-pipes") {
		t.Errorf("Load of an unknown name: %v; want the list of ready ones", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"64": 64, "64B": 64, "4K": 4096, "4KiB": 4096, "1M": 1 << 20, "0": 0} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "4KK", "2G"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
