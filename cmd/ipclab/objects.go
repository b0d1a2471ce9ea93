package main

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/peerwatch"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/shmchan"
)

// object is an IPC object ipclab created: from the registry, or a shared
// memory segment recognised by its header.
type object struct {
	entry  registry.Entry
	state  string // "in use", "orphan" (creator gone), "gone" (object gone)
	byHead bool   // found by its header, not in the registry
}

func findObjects() ([]object, error) {
	entries, err := registry.List()
	if err != nil {
		return nil, err
	}
	var out []object
	known := map[int]bool{}
	for _, e := range entries {
		o := object{entry: e, state: "orphan"}
		switch {
		case !e.Exists():
			o.state = "gone"
		case e.CreatorAlive():
			o.state = "in use"
		}
		if e.Kind == ipcobj.SysVShm {
			known[e.ID] = true
		}
		out = append(out, o)
	}
	segs, err := ipcobj.SysV(ipcobj.SysVShm)
	if err != nil {
		return out, err
	}
	for _, s := range segs {
		if known[s.ID] {
			continue
		}
		if pid, ok := shmchan.Identify(s.ID); ok {
			o := object{entry: registry.Entry{Kind: ipcobj.SysVShm, ID: s.ID, Key: s.Key, PID: pid}, state: "orphan", byHead: true}
			if peerwatch.Alive(pid) {
				o.state = "in use" // that pid runs: maybe the creator, maybe a recycled pid; leave it be
			}
			out = append(out, o)
		}
	}
	return out, nil
}

func runLs(args []string) error {
	fs := newFlags("ls", "", "List the IPC objects ipclab created and whether their creator still runs.\nRegistry: "+registry.Dir())
	if err := fs.Parse(args); err != nil {
		return err
	}
	objs, err := findObjects()
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		fmt.Println("no IPC objects created by ipclab")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tCREATOR PID\tSTATE\tCREATED")
	for _, o := range objs {
		created := o.entry.Created.Local().Format("2006-01-02 15:04:05")
		if o.byHead {
			created = "(found by its header)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", o.entry, o.entry.PID, o.state, created)
	}
	return tw.Flush()
}

func runClean(args []string) error {
	fs := newFlags("clean", "[flags]", "Remove the IPC objects ipclab created whose creator is gone, and forget\nentries whose object is gone. Objects of running processes are kept unless -all.")
	all := fs.Bool("all", false, "also remove objects whose creator still runs (their channels break)")
	dry := fs.Bool("n", false, "only say what would be removed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	objs, err := findObjects()
	if err != nil {
		return err
	}
	var errs []error
	removed := 0
	for _, o := range objs {
		switch {
		case o.state == "gone":
			if !*dry {
				registry.Forget(o.entry)
			}
			continue
		case o.state == "in use" && !*all:
			fmt.Printf("kept    %s (creator %d still runs; -all removes it)\n", o.entry, o.entry.PID)
			continue
		}
		if *dry {
			fmt.Printf("would remove %s\n", o.entry)
			continue
		}
		if err := o.entry.Remove(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.entry, err))
			continue
		}
		fmt.Printf("removed %s\n", o.entry)
		removed++
	}
	if !*dry {
		fmt.Printf("%d object(s) removed\n", removed)
	}
	return errors.Join(errs...)
}
