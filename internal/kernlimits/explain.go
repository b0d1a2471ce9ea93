package kernlimits

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Sem is kernel.sem: four limits in one sysctl.
type Sem struct {
	SEMMSL int // semaphores per set
	SEMMNS int // semaphores system-wide (in this IPC namespace)
	SEMOPM int // operations per semop call
	SEMMNI int // semaphore sets
}

// ReadSem reads kernel.sem.
func ReadSem() (Sem, error) {
	s, err := String("kernel.sem")
	if err != nil {
		return Sem{}, err
	}
	f := strings.Fields(s)
	var v [4]int
	for i := range v {
		if len(f) != 4 {
			break
		}
		if v[i], err = strconv.Atoi(f[i]); err != nil {
			break
		}
	}
	if len(f) != 4 || err != nil {
		return Sem{}, fmt.Errorf("kernlimits: kernel.sem is %q, not four numbers", s)
	}
	return Sem{v[0], v[1], v[2], v[3]}, nil
}

// raiseSem is the command that sets kernel.sem with one field doubled,
// or raised to need if that is more; the sysctl takes all four at once.
func (s Sem) raiseSem(field string, need int) string {
	r := s
	switch field {
	case "SEMMNS":
		r.SEMMNS = max(2*r.SEMMNS, need)
	case "SEMMNI":
		r.SEMMNI = max(2*r.SEMMNI, need)
	case "SEMMSL":
		r.SEMMSL = max(2*r.SEMMSL, need)
	}
	return fmt.Sprintf(`raise with: sysctl -w kernel.sem="%d %d %d %d" (the fields are SEMMSL SEMMNS SEMOPM SEMMNI)`,
		r.SEMMSL, r.SEMMNS, r.SEMOPM, r.SEMMNI)
}

// ExplainSemget turns semget's ENOSPC and EINVAL for a set of nsems
// semaphores into an error naming the kernel.sem field in the way and how
// to raise it; other errors are returned as they are. The errno stays
// matchable with errors.Is.
func ExplainSemget(err error, nsems int) error {
	if !errors.Is(err, unix.ENOSPC) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("semget: %w", err)
	}
	lim, lerr := ReadSem()
	if lerr != nil {
		return fmt.Errorf("semget: %w: a kernel.sem limit (SEMMSL, SEMMNS or SEMMNI) is in the way (%v)", err, lerr)
	}
	if errors.Is(err, unix.EINVAL) {
		if nsems > lim.SEMMSL {
			return fmt.Errorf("semget %d semaphores: %w: kernel.sem SEMMSL=%d semaphores per set (%s)", nsems, err, lim.SEMMSL, lim.raiseSem("SEMMSL", nsems))
		}
		return fmt.Errorf("semget: %w", err)
	}
	sets, sems := sysvUsage("sem", "nsems")
	switch {
	case sets >= lim.SEMMNI:
		return fmt.Errorf("semget: %w: kernel.sem SEMMNI=%d semaphore sets allowed, %d exist (%s)",
			err, lim.SEMMNI, sets, lim.raiseSem("SEMMNI", sets+1))
	case sems+uint64(nsems) > uint64(lim.SEMMNS):
		return fmt.Errorf("semget %d semaphores: %w: %d of kernel.sem SEMMNS=%d semaphores are in use (%s)",
			nsems, err, sems, lim.SEMMNS, lim.raiseSem("SEMMNS", int(sems)+nsems))
	}
	return fmt.Errorf("semget %d semaphores: %w: kernel.sem SEMMNI=%d sets or SEMMNS=%d semaphores reached (%s)",
		nsems, err, lim.SEMMNI, lim.SEMMNS, lim.raiseSem("SEMMNI", sets+1))
}

// ExplainShmget turns shmget's ENOSPC for a segment of size bytes into an
// error naming kernel.shmmni (too many segments) or kernel.shmall (too
// many pages), whichever the segments alive say is in the way.
func ExplainShmget(err error, size uint64) error {
	if !errors.Is(err, unix.ENOSPC) {
		return fmt.Errorf("shmget: %w", err)
	}
	mni, mniErr := Int("kernel.shmmni")
	all, _ := String("kernel.shmall")
	allPages, allErr := strconv.ParseUint(all, 10, 64)
	page := uint64(os.Getpagesize())
	segs, bytes := sysvUsage("shm", "size")
	pages := bytes/page + uint64(segs) // each segment rounds up to whole pages: at most one more
	need := (size + page - 1) / page
	switch {
	case mniErr == nil && segs >= mni:
		return fmt.Errorf("shmget: %w: kernel.shmmni=%d segments allowed, %d exist (%s)", err, mni, segs, Raise("kernel.shmmni"))
	case allErr == nil && pages+need > allPages:
		return fmt.Errorf("shmget %d bytes: %w: segments use about %d of kernel.shmall=%d pages of %d bytes and this one needs %d (%s)",
			size, err, pages, allPages, page, need, Raise("kernel.shmall"))
	}
	return fmt.Errorf("shmget %d bytes: %w: kernel.shmmni=%d segments or kernel.shmall=%s pages reached (%s; %s)",
		size, err, mni, all, Raise("kernel.shmmni"), Raise("kernel.shmall"))
}

// sysvUsage counts the objects in /proc/sysvipc/file (this IPC
// namespace's) and sums one of its columns.
func sysvUsage(file, col string) (count int, sum uint64) {
	f, err := os.Open("/proc/sysvipc/" + file)
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0
	}
	idx := -1
	for i, c := range strings.Fields(sc.Text()) {
		if c == col {
			idx = i
		}
	}
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if idx < 0 || idx >= len(fs) {
			continue
		}
		count++
		v, _ := strconv.ParseUint(fs[idx], 10, 64)
		sum += v
	}
	return count, sum
}

// MQPrioMax is MQ_PRIO_MAX on Linux: POSIX queue priorities are 0 to
// MQPrioMax-1, fixed in the kernel, not a sysctl.
const MQPrioMax = 32768
