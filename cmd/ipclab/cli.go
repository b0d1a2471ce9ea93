package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
)

// usageError is a command line ipclab cannot run: main prints it as one
// line with where to read the usage, and exits 2, as flag and the shell do.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseFlags parses args into fs. -h prints the command's usage on stdout
// and returns flag.ErrHelp (main exits 0); a bad flag is a *usageError
// that names the nearest flag the command has.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard) // flag would print the whole usage on every error
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(os.Stdout)
		fs.Usage()
		return flag.ErrHelp
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.HasPrefix(f.Name, "testing-") {
				names = append(names, f.Name)
			}
		})
		if s := suggest(strings.TrimPrefix(name, "-"), names); s != "" {
			msg += fmt.Sprintf(" (did you mean -%s?)", s)
		}
	}
	return &usageError{msg: msg}
}

// suggest is the candidate nearest to word, if it is near enough to be
// what was meant (an edit distance of at most a third of its length, and
// at least 1), else "".
func suggest(word string, candidates []string) string {
	best, bestD := "", max(len(word)/3, 1)+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and transpositions of
// neighbours ("bnech" is one from "bench") each count one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// version is the module's version and the commit it was built from, as
// the Go toolchain stamped them into the binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "ipclab (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", with uncommitted changes"
			}
		}
	}
	out := "ipclab " + v
	if rev != "" {
		out += fmt.Sprintf(" commit %.12s (%s%s)", rev, when, dirty)
	} else {
		out += " (no commit stamped: built outside git, or with -buildvcs=false)"
	}
	return out + ", " + bi.GoVersion
}

// sizePattern: a count of bytes with an optional binary unit. K, k and KiB
// all mean 1024 (a message size is a count of bytes, never a rate); KB and
// MB are refused rather than guessed at.
var sizePattern = regexp.MustCompile(`^([0-9]+) ?(B|K|k|KiB|M|MiB|G|GiB)?$`)

// parseSize reads 64, 64B, 4K, 4k, 4KiB, 1M, 1MiB, 1G.
func parseSize(s string) (int, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		hint := ""
		if strings.HasSuffix(s, "KB") || strings.HasSuffix(s, "MB") || strings.HasSuffix(s, "GB") {
			hint = "; KB and MB are ambiguous (1000 or 1024?): write K or KiB for 1024"
		}
		return 0, fmt.Errorf("%q is not a size in bytes (e.g. 64, 64B, 4K, 4KiB, 1M)%s", s, hint)
	}
	mult := 1
	switch m[2] {
	case "K", "k", "KiB":
		mult = 1 << 10
	case "M", "MiB":
		mult = 1 << 20
	case "G", "GiB":
		mult = 1 << 30
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > (1<<30)/mult {
		return 0, fmt.Errorf("%q is more than 1 GiB", s)
	}
	return n * mult, nil
}

// ratePattern: messages per second, with an optional decimal multiple.
var ratePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(k|K|M)?(?:/s)?$`)

// parseRate reads 500, 10k, 2.5k, 1M, 50k/s; 10kk is refused.
func parseRate(s string) (float64, error) {
	m := ratePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a rate in messages/s (e.g. 500, 10k, 2.5k, 1M)", s)
	}
	r, err := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "k", "K":
		r *= 1e3
	case "M":
		r *= 1e6
	}
	if err != nil || !(r >= 1) || r > 1e9 {
		return 0, fmt.Errorf("%q: a rate from 1 to 1G messages/s", s)
	}
	return r, nil
}
