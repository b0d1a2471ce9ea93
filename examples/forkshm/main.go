// Command forkshm is seed 001's shared-memory example in Go: a producer
// writes 0..9 into a System V segment, one value every two time units,
// while a consumer prints the ten values twenty times, one unit apart; a
// POSIX named semaphore, "/sem_ipc1" with initial value 1, guards the
// buffer. It meets c/forkshm.c on the same semaphore (glibc's sem_open
// file, through internal/posixsem) and the same segment (key
// ftok("ipc1", 0), 1024 bytes, ten C ints at its start).
//
// Usage: forkshm [both|producer|consumer [unit_ms [rounds]]]
//
// "both" (the default) is the seed. Go cannot fork, so where the C parent
// forks, this one starts itself again as "producer": the child opens the
// semaphore and the segment by name and key instead of inheriting them.
// The consumer removes both objects at the end. The file ipc1 must exist
// in the current directory.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/ipclab/ipclab/internal/posixsem"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

const (
	semName = "/sem_ipc1"
	shmSize = 1024 // SHM_SIZE
	values  = 10
)

func main() {
	role, unit, rounds, ok := parseArgs(os.Args[1:])
	if !ok {
		fmt.Fprintln(os.Stderr, "uso: forkshm [both|producer|consumer [unidad_ms [rondas]]]")
		os.Exit(2)
	}
	if err := run(role, unit, rounds); err != nil {
		fmt.Fprintln(os.Stderr, "forkshm:", err)
		os.Exit(1)
	}
}

func parseArgs(args []string) (role string, unit time.Duration, rounds int, ok bool) {
	role, unit, rounds = "both", time.Second, 20
	if len(args) > 3 {
		return "", 0, 0, false
	}
	if len(args) > 0 {
		role = args[0]
	}
	if len(args) > 1 {
		ms, err := strconv.Atoi(args[1])
		if err != nil || ms <= 0 {
			return "", 0, 0, false
		}
		unit = time.Duration(ms) * time.Millisecond
	}
	if len(args) > 2 {
		var err error
		if rounds, err = strconv.Atoi(args[2]); err != nil || rounds <= 0 {
			return "", 0, 0, false
		}
	}
	return role, unit, rounds, role == "both" || role == "producer" || role == "consumer"
}

func run(role string, unit time.Duration, rounds int) error {
	fmt.Println("Creando semáforos .....")
	// Created unlocked (1) unless it exists already, as the seed does.
	sem, err := posixsem.Open(semName, unix.O_CREAT, 0o600, 1)
	if err != nil {
		return err
	}
	fmt.Println("Creando Región de memoria compartida .....")
	key, err := sysipc.Ftok("ipc1", 0)
	if err != nil {
		sem.Close()
		return fmt.Errorf("ftok ipc1 (does the file ipc1 exist?): %w", err)
	}
	id, err := unix.SysvShmGet(int(key), shmSize, unix.IPC_CREAT|0o600)
	if err != nil {
		sem.Close()
		return fmt.Errorf("shmget: %w", err)
	}
	mem, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		sem.Close()
		return fmt.Errorf("shmat: %w", err)
	}
	if len(mem) < values*4 {
		sem.Close()
		unix.SysvShmDetach(mem)
		return fmt.Errorf("segment %d has %d bytes, fewer than %d C ints", id, len(mem), values)
	}
	// The buffer is C's int data[10]: ten native-endian int32.
	data := unsafe.Slice((*int32)(unsafe.Pointer(&mem[0])), values)

	switch role {
	case "producer":
		return produce(sem, mem, data, unit)
	case "consumer":
		err := consume(sem, mem, data, unit, rounds)
		return destroy(id, err)
	}
	fmt.Println("Creando proceso hijo .....")
	child, err := startProducer(unit)
	if err != nil {
		return destroy(id, consume(sem, mem, data, unit, 0))
	}
	err = consume(sem, mem, data, unit, rounds)
	fmt.Println("Soy el padre espero que termine el hijo .....")
	if werr := child.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("producer: %w", werr)
	}
	return destroy(id, err)
}

// startProducer runs this program again as the producer, in place of fork.
func startProducer(unit time.Duration) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "producer", strconv.Itoa(int(unit/time.Millisecond)))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the parent
	return cmd, cmd.Start()
}

func produce(sem *posixsem.Sem, mem []byte, data []int32, unit time.Duration) error {
	fmt.Printf("Soy el hijo con PID (escribo en el buffer):%d\n", os.Getpid())
	for i := range data {
		if err := sem.Wait(); err != nil { // entry section
			return err
		}
		atomic.StoreInt32(&data[i], int32(i)) // critical section
		if err := sem.Post(); err != nil {    // exit section
			return err
		}
		time.Sleep(2 * unit)
	}
	sem.Close()
	if err := unix.SysvShmDetach(mem); err != nil {
		return fmt.Errorf("shmdt: %w", err)
	}
	fmt.Println("Soy el hijo y termino.....")
	return nil
}

func consume(sem *posixsem.Sem, mem []byte, data []int32, unit time.Duration, rounds int) error {
	defer sem.Close()
	defer unix.SysvShmDetach(mem)
	fmt.Printf("Soy el padre con PID (leo del buffer):%d\n", os.Getpid())
	for range rounds {
		if err := sem.Wait(); err != nil {
			return err
		}
		row := make([]byte, 0, 4*values+1)
		for i := range data {
			row = fmt.Appendf(row, "%3d ", atomic.LoadInt32(&data[i]))
		}
		if err := sem.Post(); err != nil {
			return err
		}
		fmt.Printf("%s\n", row)
		time.Sleep(unit)
	}
	return nil
}

// destroy removes the semaphore's name and the segment, as only the
// parent of the seed does, and returns the first error.
func destroy(id int, err error) error {
	fmt.Println("Soy el padre destruyo los semáforos/memoria compartida y termino")
	if uerr := posixsem.Unlink(semName); uerr != nil && err == nil {
		err = uerr
	}
	if _, rerr := unix.SysvShmCtl(id, unix.IPC_RMID, nil); rerr != nil && err == nil {
		err = fmt.Errorf("shmctl IPC_RMID: %w", rerr)
	}
	return err
}
