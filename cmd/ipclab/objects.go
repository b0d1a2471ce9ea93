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

// object is an IPC object ipclab may have created: from the registry, or
// a shared memory segment recognised by its header. Only one whose
// identity the kernel confirms (registry.Verify) is ever removed.
type object struct {
	entry  registry.Entry
	state  string // "in use", "orphan" (creator gone), "gone" (object gone), "not verified"
	why    string // for "gone" and "not verified"
	byHead bool   // found by its header, not in the registry
}

const notVerified = "not verified"

func findObjects() ([]object, error) {
	entries, err := registry.List()
	if err != nil {
		return nil, err
	}
	var out []object
	known := map[int]bool{}
	knownFiles := map[string]bool{} // /dev/shm names the registry has
	for _, e := range entries {
		o := object{entry: e}
		switch v := e.Verify(); v.State {
		case registry.Gone:
			o.state, o.why = "gone", v.Why
		case registry.NotVerified:
			o.state, o.why = notVerified, v.Why
		default:
			o.state = "orphan"
			if e.CreatorAlive() {
				o.state = "in use"
			}
			if e.Kind == ipcobj.SysVShm {
				known[e.ID] = true
			}
			// The registry confirmed owner and inode; a channel's object
			// must also still carry a channel's header.
			if _, ok := shmchan.IdentifyFile(ipcobj.ShmPath(e.Kind, e.Name)); e.Kind == ipcobj.PosixShm && !ok {
				o.state, o.why = notVerified, "it carries no ipclab channel header"
			}
		}
		if e.Kind == ipcobj.PosixShm || e.Kind == ipcobj.PosixSem {
			knownFiles[ipcobj.ShmPath(e.Kind, e.Name)] = true
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
			out = append(out, headerObject(s, pid))
		}
	}
	return append(out, devShmObjects(knownFiles)...), nil
}

// devShmObjects finds POSIX shared-memory channels no registry entry
// names, by their header, and their semaphores (NAME-f0 ... NAME-e1, see
// transports/posixshm). They count as ours only if this user owns them;
// the header's creator pid decides "orphan" or "in use".
func devShmObjects(known map[string]bool) []object {
	files, _ := ipcobj.DevShmFiles(ipcobj.DevShm)
	var out []object
	for _, f := range files {
		path := ipcobj.ShmPath(f.Kind, f.Name)
		if f.Kind != ipcobj.PosixShm || known[path] {
			continue
		}
		pid, ok := shmchan.IdentifyFile(path)
		if !ok {
			continue
		}
		state := "orphan"
		if peerwatch.Alive(pid) {
			state = "in use"
		}
		entries := []registry.Entry{{Kind: ipcobj.PosixShm, Name: f.Name, PID: pid}}
		for _, suffix := range []string{"-f0", "-e0", "-f1", "-e1"} {
			e := registry.Entry{Kind: ipcobj.PosixSem, Name: f.Name + suffix, PID: pid}
			if !known[ipcobj.ShmPath(e.Kind, e.Name)] {
				entries = append(entries, e)
			}
		}
		for i, e := range entries {
			id, err := registry.Probe(e)
			if i > 0 && errors.Is(err, os.ErrNotExist) {
				continue // a futex or spin channel has no semaphores
			}
			o := object{entry: e, byHead: true, state: notVerified}
			switch {
			case err != nil:
				o.why = err.Error()
			case id.UID != uint32(os.Geteuid()):
				o.why = fmt.Sprintf("owned by uid %d, not by this user", id.UID)
			default:
				o.entry.Ident, o.state = &id, state
			}
			out = append(out, o)
		}
	}
	return out
}

// headerObject judges a segment that carries ipclab's header but no entry:
// anyone can write the magic, so it counts as ours only if the kernel says
// this user created it and its creator pid is the one the header names.
func headerObject(s ipcobj.Object, pid int) object {
	e := registry.Entry{Kind: ipcobj.SysVShm, ID: s.ID, Key: s.Key, PID: pid}
	o := object{entry: e, byHead: true, state: notVerified}
	id, err := registry.Probe(e)
	switch {
	case err != nil:
		o.why = err.Error()
		return o
	case int(id.CPID) != pid:
		o.why = fmt.Sprintf("its header names creator pid %d, the kernel says pid %d made it", pid, id.CPID)
		return o
	case id.CUID != uint32(os.Geteuid()) || id.UID != id.CUID:
		o.why = fmt.Sprintf("created by uid %d, owned by uid %d, not by this user", id.CUID, id.UID)
		return o
	}
	o.entry.Ident = &id
	o.state = "orphan"
	if peerwatch.Alive(pid) {
		o.state = "in use" // that pid runs: maybe the creator, maybe a recycled pid; leave it be
	}
	return o
}

func runLs(args []string) error {
	fs := newFlags("ls", "", "List the IPC objects ipclab created and whether their creator still runs.\nRegistry: "+registry.Dir())
	if err := parseFlags(fs, args); err != nil {
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
		state := o.state
		if o.why != "" {
			state += " (" + o.why + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", o.entry, o.entry.PID, state, created)
	}
	return tw.Flush()
}

func runClean(args []string) error {
	fs := newFlags("clean", "[flags]", "Remove the IPC objects ipclab created whose creator is gone, and forget\nentries whose object is gone. Objects of running processes are kept unless -all.\nAn object is removed only when the kernel confirms it is the one recorded\n(IPC namespace, owner, creator, ctime, inode); anything else is listed as\n\"not verified\" and left alone.")
	all := fs.Bool("all", false, "also remove objects whose creator still runs (their channels break)")
	dry := fs.Bool("n", false, "only say what would be removed")
	forget := fs.Bool("forget-unverified", false, "also drop the registry entries of objects that cannot be verified (the objects are left alone)")
	if err := parseFlags(fs, args); err != nil {
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
		case o.state == notVerified:
			fmt.Printf("not verified %s: %s; left alone\n", o.entry, o.why)
			if *forget && !o.byHead && !*dry {
				registry.Forget(o.entry)
				fmt.Printf("forgot   %s's entry\n", o.entry)
			}
			continue
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
