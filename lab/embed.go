package lab

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// ready are the experiments that come with ipclab, after the seeds'
// sections; an installed binary carries them.
//
//go:embed experiments/*.toml
var ready embed.FS

// Names are the ready experiments, by the names `ipclab lab run` takes.
func Names() []string {
	ents, _ := fs.ReadDir(ready, "experiments")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".toml"))
	}
	sort.Strings(out)
	return out
}

// Source is the file of a ready experiment, for `ipclab lab show`.
func Source(name string) ([]byte, error) { return readBuiltin(name) }

func readBuiltin(name string) ([]byte, error) {
	if strings.ContainsAny(name, "/.") {
		return nil, fs.ErrNotExist
	}
	return ready.ReadFile("experiments/" + name + ".toml")
}
