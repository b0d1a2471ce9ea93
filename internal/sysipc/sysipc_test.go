package sysipc_test

import (
	"errors"
	"os"
	"testing"
	"time"

	. "github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testmain.Main(m) }

// TestMsgrcvE2BIGKeepsTheMessage pins down the kernel behaviour the
// contract's ShortBufferError.Kept relies on for SysV queues.
func TestMsgrcvE2BIGKeepsTheMessage(t *testing.T) {
	id, err := Msgget(IPCPrivate, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer MsgctlRemove(id)
	msg := make([]byte, MsgHeader+100)
	PutMtype(msg, 5)
	copy(msg[MsgHeader:], "payload")
	if err := Msgsnd(id, msg, unix.IPC_NOWAIT); err != nil {
		t.Fatal(err)
	}
	small := make([]byte, MsgHeader+10)
	if _, err := Msgrcv(id, small, 5, unix.IPC_NOWAIT); !errors.Is(err, unix.E2BIG) {
		t.Fatalf("msgrcv into 10 bytes: %v, want E2BIG", err)
	}
	ds, err := MsgctlStat(id)
	if err != nil || ds.Qnum != 1 || ds.Cbytes != 100 || int(ds.Lspid) != os.Getpid() {
		t.Fatalf("after E2BIG: %+v, %v; want the message still queued, sent by us", ds, err)
	}
	big := make([]byte, MsgHeader+200)
	n, err := Msgrcv(id, big, 0, unix.IPC_NOWAIT)
	if err != nil || n != 100 || Mtype(big) != 5 || string(big[MsgHeader:MsgHeader+7]) != "payload" {
		t.Fatalf("msgrcv: %d bytes, type %d, %v", n, Mtype(big), err)
	}
	if _, err := Msgrcv(id, big, 0, unix.IPC_NOWAIT); !errors.Is(err, unix.ENOMSG) {
		t.Fatalf("empty queue with IPC_NOWAIT: %v, want ENOMSG", err)
	}
}

func TestSemaphoreValues(t *testing.T) {
	id, err := Semget(IPCPrivate, 2, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer SemctlRemove(id)
	if err := SemctlSetVal(id, 1, 3); err != nil {
		t.Fatal(err)
	}
	if err := Semop(id, []Sembuf{{Num: 1, Op: -2}}); err != nil {
		t.Fatal(err)
	}
	if v, err := SemctlGetVal(id, 1); err != nil || v != 1 {
		t.Fatalf("semaphore 1 = %d, %v; want 3-2 = 1", v, err)
	}
	err = Semtimedop(id, []Sembuf{{Num: 0, Op: -1, Flg: unix.IPC_NOWAIT}}, nil)
	if !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("wait on a zero semaphore with IPC_NOWAIT: %v, want EAGAIN", err)
	}
	ts := unix.NsecToTimespec(10e6)
	if err := Semtimedop(id, []Sembuf{{Num: 0, Op: -1}}, &ts); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("semtimedop past its timeout: %v, want EAGAIN", err)
	}
}

func TestMqNamesAndAttributes(t *testing.T) {
	for _, bad := range []string{"", "/", "noslash", "/a/b"} {
		if _, err := MqOpen(bad, unix.O_RDONLY, 0, nil); !errors.Is(err, unix.EINVAL) {
			t.Errorf("MqOpen(%q): %v, want EINVAL", bad, err)
		}
	}
	name := "/ipclab-sysipc-test"
	fd, err := MqOpen(name, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NONBLOCK, 0o600, &MqAttr{Maxmsg: 2, Msgsize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	defer MqUnlink(name)
	if err := MqTimedsend(fd, []byte("x"), 4, nil); err != nil {
		t.Fatal(err)
	}
	attr, err := MqGetsetattr(fd, nil)
	if err != nil || attr.Maxmsg != 2 || attr.Msgsize != 64 || attr.Curmsgs != 1 {
		t.Fatalf("attributes %+v, %v", attr, err)
	}
	if _, _, err := MqTimedreceive(fd, make([]byte, 63), nil); !errors.Is(err, unix.EMSGSIZE) {
		t.Fatalf("receive into less than mq_msgsize: %v, want EMSGSIZE", err)
	}
	if n, prio, err := MqTimedreceive(fd, make([]byte, 64), nil); err != nil || n != 1 || prio != 4 {
		t.Fatalf("receive: %d bytes at %d, %v", n, prio, err)
	}
}

// TestSemctlStat reads back what the kernel knows of a new set, which
// checks Semid's layout: size, owner and a ctime of now.
func TestSemctlStat(t *testing.T) {
	id, err := Semget(IPCPrivate, 3, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer SemctlRemove(id)
	if err := SemctlSetVal(id, 1, 5); err != nil {
		t.Fatal(err)
	}
	ds, err := SemctlStat(id)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	if ds.Nsems != 3 || ds.Perm.Mode&0o777 != 0o640 || int(ds.Perm.Cuid) != os.Geteuid() || ds.Ctime < now-60 || ds.Ctime > now+60 {
		t.Fatalf("SemctlStat = %+v; want 3 semaphores, mode 0640, creator %d, ctime near %d", ds, os.Geteuid(), now)
	}
}
