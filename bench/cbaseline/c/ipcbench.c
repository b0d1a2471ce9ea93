/* ipcbench: the harness's ping-pong and streaming, in plain C, so each Go
 * figure has a reference for the same mechanism. Two processes (fork), the
 * same protocol as ipclab's bench peer:
 *
 *   latency:    WARM + COUNT round trips of SIZE bytes; the sender stamps
 *               CLOCK_MONOTONIC in the first 8 bytes, the receiver takes
 *               the one-way time (on one round trip in ONE_WAY_EVERY) and
 *               echoes the message; rtt_ns holds the other round trips.
 *   throughput: WARM + COUNT messages one way; the receiver sums every
 *               byte of the measured ones (little-endian 64-bit words, the
 *               tail byte by byte) and sends "BYTES SUM" back.
 *
 * Mechanisms mirror ipclab's transports: pipe and fifo (4-byte length
 * frames, a 64 KiB read-ahead), sysvmsg (one queue, mtype 1 and 2),
 * posixmq (two queues, the kernel's default depth and size), and two rings
 * in one SysV segment waiting with SysV semaphores (shm-sysvsem), a futex
 * after a 50 us spin where spinning pays, as shmchan decides it (shm-futex),
 * or a pure spin (shm-spin). The posixshm-futex and posixshm-spin
 * mechanisms are the same rings in a POSIX shared-memory object (shm_open,
 * mmap); posixshm-posixsem waits on four glibc named semaphores (sem_open)
 * as ipclab's posixsem strategy does: per direction, "full" is P before and
 * V after every message, "empty" is posted for every message taken and
 * waited on only when the ring is full, after taking the tokens that piled
 * up. Names are unlinked as soon as both processes have them (before fork).
 * posixshm-eventfd is posixshm-futex with four eventfds (per ring: data,
 * room) in place of the futex sleep and wake: the same announcement flags,
 * a blocking read(2) to sleep and a write(2) to wake (ipclab's Go side
 * polls with a timeout, then reads: its waits are bounded).
 * Sockets: unix-stream (a socketpair) and tcp (127.0.0.1, TCP_NODELAY)
 * carry the pipe's frames; unix-seqpacket and unix-dgram (socketpairs)
 * carry each message as one packet followed by a 1-byte kind (64 bytes
 * where that keeps a large packet's pages unaliased), as ipclab's
 * sockconn does.
 *
 *   ipcbench MECH MODE SIZE COUNT WARM SENDER_CPU RECEIVER_CPU [block|poll]
 *
 * CPUs are -1 for no pinning. WAITS (the last argument) is how a call that
 * would block waits, for the mechanisms with a descriptor (pipe, fifo,
 * posixmq, the sockets; posixshm-eventfd, see sleep_on): block (the
 * default) makes the blocking call, as a plain C program does; poll
 * makes every descriptor non-blocking and, on
 * EAGAIN, waits in ppoll(2) on it and on an eventfd of its own, then tries
 * again; a pipe, fifo or posixmq receive that follows one that waited
 * waits first, as ipclab's do (see the streak). poll is how ipclab's Go
 * ends must wait: Close and deadlines stop a wait by writing that eventfd
 * (or by ppoll's timeout), which a blocking read or write cannot be made
 * to notice. Nothing writes the eventfd here; it is polled so that each
 * wait costs what ipclab's does. poll also makes the kernel treat a pipe
 * as polled, so that every write wakes its reader, not only a write to an
 * empty pipe (pipe_write's poll_usage). Prints one JSON line on stdout;
 * exits 2 on bad input, 3 when SIZE is beyond a kernel limit (stderr names
 * it), 1 on failure. Objects are created 0600 and exclusive, and removed
 * on every exit, SIGINT and SIGTERM included.
 *
 * Build: gcc -O2 -Wall -o ipcbench ipcbench.c -lrt */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <mqueue.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PIPE_BUF_SIZE = 64 << 10, MAX_MSG = 1 << 20, SEM_MAX = 32767 };
/* Each direction's ring, as shmchan.RingSizeFor sizes the Go side's:
 * 256 KiB for messages up to 64 KiB, else the power of two that holds
 * four records of the message. */
enum { DEFAULT_RING = 256 << 10, DEFAULT_MAX_MSG = 64 << 10, RECORD_HEADER = 8 };
static uint64_t ring_bytes;
static uint64_t ring_size_for(int n) {
	uint64_t r = DEFAULT_RING;
	if (n <= DEFAULT_MAX_MSG) return r;
	while (r < 4 * ((uint64_t)n + RECORD_HEADER)) r *= 2;
	return r;
}
static const long SPIN_NS = 50000; /* shmchan's default spin budget */

static void die(const char *what) { perror(what); exit(1); }
/* populate maps every page of the rings into this process before the
 * measurement, as shmchan does: otherwise the first lap of a ring takes a
 * page fault per page on the measured path (at 4 KiB, one per message).
 * MADV_POPULATE_READ is Linux 5.14; older kernels get a load per page. */
static void populate(void *p, size_t n) {
	if (!p) return;
#ifdef MADV_POPULATE_READ
	if (madvise(p, n, MADV_POPULATE_READ) == 0) return;
#endif
	volatile char sink = 0;
	for (size_t i = 0; i < n; i += 4096) sink += ((volatile char *)p)[i];
	(void)sink;
}
/* In a latency run the echo reads its clock (the one-way latency) on one
 * round trip in ONE_WAY_EVERY, never in the warm-up, and the sender leaves
 * those round trips out of rtt_ns: a reading on the echo's path waits for
 * the message's loads, 50-70 ns of a shared-memory round trip (as the Go
 * harness, record.OneWaySampled). */
enum { ONE_WAY_EVERY = 8 };
static int one_way_sampled(int i, int warm) { return i >= warm && (i - warm) % ONE_WAY_EVERY == ONE_WAY_EVERY - 1; }
static uint64_t now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static long read_limit(const char *path) {
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) { if (fscanf(f, "%ld", &v) != 1) v = -1; fclose(f); }
	return v;
}

/* ---- objects, removed by whoever created them on any exit ---- */
static int msqid = -1, semid = -1, is_parent = 1;
static char mq_names[2][64], fifo_dir[256], shm_name[64], psem_names[4][80];
static void cleanup(void) {
	if (!is_parent) return;
	if (msqid >= 0) msgctl(msqid, IPC_RMID, NULL), msqid = -1;
	if (semid >= 0) semctl(semid, 0, IPC_RMID), semid = -1;
	for (int i = 0; i < 2; i++) if (mq_names[i][0]) mq_unlink(mq_names[i]), mq_names[i][0] = 0;
	if (shm_name[0]) shm_unlink(shm_name), shm_name[0] = 0;
	for (int i = 0; i < 4; i++) if (psem_names[i][0]) sem_unlink(psem_names[i]), psem_names[i][0] = 0;
	if (fifo_dir[0]) {
		char p[300];
		for (int i = 1; i <= 2; i++) { snprintf(p, sizeof p, "%s/%d", fifo_dir, i); unlink(p); }
		rmdir(fifo_dir);
		fifo_dir[0] = 0;
	}
}
static volatile pid_t child = -1;
static volatile int child_status = -1;
/* A receiver that dies leaves the sender blocked for ever in most
 * mechanisms: fail at once instead, removing the objects. */
static void on_child(int sig) {
	(void)sig;
	int st;
	if (child > 0 && waitpid(child, &st, WNOHANG) == child) {
		child_status = st;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			static const char m[] = "ipcbench: the receiver failed\n";
			if (write(2, m, sizeof m - 1) < 0) {}
			cleanup();
			_exit(1);
		}
	}
}
static void on_signal(int sig) {
	if (child > 0) kill(child, SIGKILL);
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- one direction of a channel ---- */
struct shm_ring {
	_Alignas(128) uint64_t tail;      /* slots written (producer) */
	_Alignas(128) uint64_t head;      /* slots read, as published (consumer) */
	_Alignas(128) uint32_t data_wait; /* futex: the consumer sleeps for data */
	uint32_t fast_tail;               /* the consumer makes the tail's barrier (shmchan's fastTail) */
	_Alignas(128) uint32_t room_wait; /* futex: the producer sleeps for room */
	_Alignas(128) char slots[]; /* ring_bytes of them */
};
/* ring_at is ring i (0: ping, 1: pong) of the segment at base. */
static size_t ring_stride(void) { return (sizeof(struct shm_ring) + ring_bytes + 127) & ~(size_t)127; }
static struct shm_ring *ring_at(void *base, int i) { return (struct shm_ring *)((char *)base + (size_t)i * ring_stride()); }
struct end {
	int rfd, wfd;            /* pipe, fifo */
	char *rbuf; int rpos, rlen;
	long rtype, wtype;       /* sysvmsg */
	struct { long mtype; char data[]; } *mbuf;
	mqd_t rq, wq; long mqsize; char *mqbuf;
	struct shm_ring *rx, *tx; /* shm */
	int rx_full, tx_full;     /* sysvsem: semaphore numbers; full + 1 is empty */
	sem_t *rx_psem[2], *tx_psem[2]; /* posixsem: full, empty */
	/* Positions each side keeps to itself, as shmchan's ring does: its own
	 * counter (the shared copy is only written), and the peer's as last
	 * loaded (loaded again only when it says empty or full). A load of a
	 * shared counter on every message waits for its line to come back
	 * from the other CPU: the producer's load of its own published tail,
	 * which the consumer had just read, put a cache-line round trip before
	 * every slot's address. */
	uint64_t rx_head;         /* consumed, possibly not yet published */
	uint64_t rx_published;    /* the head as this side last published it */
	uint64_t rx_tail_seen;    /* the producer's tail as last loaded */
	uint64_t rx_fetched;      /* the position (bytes) the read-ahead asked for lines up to */
	uint64_t tx_tail;         /* produced (and published) */
	uint64_t tx_head_seen;    /* the consumer's head as last loaded */
	/* Byte offsets of the next slots, kept rather than taken modulo the
	 * slot count (not a power of two): three divisions a message cost a
	 * 64 B spin round trip about 10%. */
	uint64_t tx_off, rx_off;
};

static const char *mech;
static int size, bufsize, slot_size; /* bufsize: SIZE, at least 64 for the confirmation */
static uint64_t nslots;
/* As shmchan's publishChunk: the consumer's head trails by at most an
 * eighth of the ring or 16 KiB, whichever is less (at least a slot). */
enum { PUBLISH_CHUNK = 16 << 10 };
static uint64_t publish_slots;
enum { M_PIPE, M_SYSVMSG, M_POSIXMQ, M_SHM_SEM, M_SHM_FUTEX, M_SHM_SPIN, M_SHM_PSEM, M_SHM_EVENTFD, M_PACKET } kind;
static int posix_shm; /* the rings are in a POSIX shared-memory object */

/* poll_waits: WAITS is poll. wake_efd is this process's eventfd, polled
 * beside the object in every wait (see the top). */
static int poll_waits, wake_efd = -1;
static int64_t polls, empty_tries; /* since cost_start: waits in ppoll, calls that found the object not ready */
/* wait_ready waits in ppoll until fd has events (a descriptor that is not
 * ready after all only makes the caller try again). */
static void wait_ready(int fd, short events) {
	struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = wake_efd, .events = POLLIN}};
	polls++;
	while (ppoll(p, 2, NULL, NULL) < 0) if (errno != EINTR) die("ppoll");
	if (p[1].revents) { fprintf(stderr, "ipcbench: the wake-up eventfd fired\n"); exit(1); }
}
/* would_wait says whether a call that failed with errno should be tried
 * again: at once after EINTR (1), after a wait for fd (WAITED); otherwise
 * (0) the caller dies. */
enum { WAITED = 2 };
static int would_wait(int fd, short events) {
	if (errno == EINTR) return 1;
	if (poll_waits && (errno == EAGAIN || errno == EWOULDBLOCK)) { empty_tries++, wait_ready(fd, events); return WAITED; }
	return 0;
}
/* The receive streak, as ipclab's pipe, fifo and posixmq receives keep it
 * (sysipc.WaitStreak; the sockets' receives always try first): in a
 * ping-pong every receive waits, and the try before the wait only says
 * EAGAIN, so a receive that follows one that waited waits in ppoll first,
 * and every 16th in a streak tries first anyway. posixmq's end also times
 * the first ppoll asked first after a wait: one that returned within
 * POLL_SLEPT_NS found a message there, and did not wait. */
static int streak_recv, streak_timed, streak; /* streak: receives in a row that waited */
enum { POLL_SLEPT_NS = 1500 };
/* recv_poll_first waits in ppoll on fd before a receive tries, when the
 * streak says so; returns whether the receive waited. */
static int recv_poll_first(int fd) {
	if (!streak_recv || streak == 0 || streak % 16 == 0) return 0;
	uint64_t t0 = streak_timed && streak == 1 ? now_ns() : 0;
	wait_ready(fd, POLLIN);
	return !t0 || now_ns() - t0 >= POLL_SLEPT_NS;
}
static void recv_done(int waited) { streak = waited ? streak + 1 : 0; }
static void set_nonblock(int fd) {
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl O_NONBLOCK");
}

static void write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) { if (would_wait(fd, POLLOUT)) continue; die("write"); }
		p += w, n -= (size_t)w;
	}
}
/* read_exact serves from the read-ahead first, then reads large rests
 * straight into the destination, as the Go transport does. As its
 * internal/framing, it keeps each stream byte at the page offset it had,
 * the first message starting a page: the kernel's copy out runs 4-5x
 * slower into a destination 1-31 bytes further into its page than the
 * source (4K aliasing), and a large message's source starts a page. */
enum { ALIAS_SPAN = 4096 };
/* A packet's long trailer (sockconn's longTrailer, kindLong). */
enum { LONG_TRAILER = 64, KIND_LONG = 0x80 };
/* The largest packet message, as sockconn's limit: SO_SNDBUF - 33. */
static int packet_max;
static int near_alias_edge(size_t n) {
	size_t r = n % ALIAS_SPAN;
	return n > ALIAS_SPAN && r != 0 && (r < 32 || r > ALIAS_SPAN - 32);
}
static char *readahead_alloc(struct end *e) {
	e->rpos = e->rlen = ALIAS_SPAN - 4; /* after the first header: a page */
	char *b = aligned_alloc(ALIAS_SPAN, PIPE_BUF_SIZE + ALIAS_SPAN);
	if (!b) die("aligned_alloc");
	return b;
}
static void read_exact(struct end *e, char *dst, size_t n) {
	while (n > 0) {
		if (e->rpos < e->rlen) {
			size_t k = (size_t)(e->rlen - e->rpos) < n ? (size_t)(e->rlen - e->rpos) : n;
			memcpy(dst, e->rbuf + e->rpos, k);
			e->rpos += (int)k, dst += k, n -= k;
			continue;
		}
		/* One read, as one of the Go end's reads: its own streak step. */
		int waited = recv_poll_first(e->rfd), w, at = e->rlen % ALIAS_SPAN;
		ssize_t r;
		while ((r = n >= PIPE_BUF_SIZE ? read(e->rfd, dst, n) : read(e->rfd, e->rbuf + at, PIPE_BUF_SIZE)) < 0) {
			if (!(w = would_wait(e->rfd, POLLIN))) die("read");
			waited |= w == WAITED;
		}
		if (r == 0) { fprintf(stderr, "ipcbench: peer closed the pipe\n"); exit(1); }
		recv_done(waited);
		if (n >= PIPE_BUF_SIZE) dst += r, n -= (size_t)r, e->rpos = e->rlen = (at + (int)r) % ALIAS_SPAN;
		else e->rpos = at, e->rlen = at + (int)r;
	}
}

static long futex(uint32_t *w, int op, uint32_t v) { return syscall(SYS_futex, w, op, v, NULL, NULL, 0); }
/* posixshm-eventfd: the eventfd standing for each announcement flag. */
static struct shm_ring *ring_base;
static int efds[2][2] = {{-1, -1}, {-1, -1}}; /* [ring][data, room] */
static int efd_of(uint32_t *flag) {
	for (int i = 0; i < 2; i++) {
		if (flag == &ring_at(ring_base, i)->data_wait) return efds[i][0];
		if (flag == &ring_at(ring_base, i)->room_wait) return efds[i][1];
	}
	return -1;
}
/* sleep_on and wake_one: the futex, or the flag's eventfd: a blocking
 * read, or with poll waits a ppoll on the (non-blocking) eventfd alone and
 * then a read, as shmchan's eventfd strategy sleeps (its Close and
 * deadlines write the same eventfd, so it polls nothing else). */
static void sleep_on(uint32_t *flag) {
	if (kind != M_SHM_EVENTFD) { futex(flag, FUTEX_WAIT, 1); return; }
	uint64_t v;
	int fd = efd_of(flag);
	if (poll_waits) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		polls++;
		if (ppoll(&p, 1, NULL, NULL) < 0 && errno != EINTR) die("ppoll eventfd");
		if (read(fd, &v, 8) < 0 && errno != EAGAIN && errno != EINTR) die("read eventfd");
		return;
	}
	if (read(fd, &v, 8) < 0 && errno != EINTR) die("read eventfd");
}
static void wake_one(uint32_t *flag) {
	if (kind != M_SHM_EVENTFD) { futex(flag, FUTEX_WAKE, 1); return; }
	uint64_t one = 1;
	if (write(efd_of(flag), &one, 8) < 0) die("write eventfd");
}
static void psem_wait(sem_t *s) { while (sem_wait(s) < 0) if (errno != EINTR) die("sem_wait"); }
static void sem_add(int num, int delta) {
	struct sembuf op = {(unsigned short)num, (short)delta, 0};
	while (semop(semid, &op, 1) < 0) if (errno != EINTR) die("semop");
}
/* PAUSE between polls, as shmchan's spin (cpuops.Pause): leaving the loop
 * then costs no flush of loads speculated past the change. */
static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}
/* spin_until_changed spins until *word differs from old, for SPIN_NS
 * (futex) or for ever (spin); returns 0 if the futex caller should sleep. */
static int spin_until_changed(uint64_t *word, uint64_t old, int forever) {
	uint64_t t0 = 0;
	for (unsigned i = 0;; i++) {
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != old) return 1;
		relax();
		if (forever) continue;
		if ((i & 63) == 0) {
			uint64_t t = now_ns();
			if (t0 == 0) t0 = t;
			else if (t - t0 > (uint64_t)SPIN_NS) return 0;
		}
	}
}
/* Whether spinning pays, per direction, as shmchan's spinner decides it
 * (shmchan/adapt.go): OFF_AFTER spins in a row that run out turn spinning
 * off; then a probe (one full spin) comes after FIRST_PROBE waits, and half
 * as often after each failed probe, down to one in MAX_PROBE_GAP; a spin
 * that succeeds turns it back on. */
enum { OFF_AFTER = 4, FIRST_PROBE = 16, MAX_PROBE_GAP = 1024 };
struct spinner { int off, fails, gap, left; };
static struct spinner data_spin, room_spin;
static int spinner_spin(struct spinner *s) { return !s->off || --s->left <= 0; }
static void spinner_record(struct spinner *s, int ok) {
	if (ok) {
		memset(s, 0, sizeof *s);
	} else if (s->off) {
		s->gap = 2 * s->gap < MAX_PROBE_GAP ? 2 * s->gap : MAX_PROBE_GAP;
		s->left = s->gap;
	} else if (++s->fails >= OFF_AFTER) {
		*s = (struct spinner){.off = 1, .gap = FIRST_PROBE, .left = FIRST_PROBE};
	}
}
/* spin_for waits for *word to move from old by the strategy's spin: for
 * ever (spin), or (futex) for SPIN_NS where s says spinning pays; returns 0
 * if the futex caller should sleep. */
static int spin_for(uint64_t *word, uint64_t old, struct spinner *s) {
	if (kind == M_SHM_SPIN) return spin_until_changed(word, old, 1);
	if (!spinner_spin(s)) return 0;
	int ok = spin_until_changed(word, old, 0);
	spinner_record(s, ok);
	return ok;
}
/* As shmchan (ring.publishTail, Chan.syncFastTail): while this side's
 * data spins succeed, its producer publishes the tail by a release store
 * alone, and this side makes the barrier that the wake-up check needs, a
 * global membarrier, before each sleep and when it withdraws the offer.
 * barrier_ok: the kernel lets this process (and its child: registration
 * survives fork) use it. */
static int barrier_ok, rx_fast;
static void global_barrier(void) {
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) < 0) die("membarrier");
}
static void sync_fast_tail(struct shm_ring *r) {
	int want = barrier_ok && (kind == M_SHM_FUTEX || kind == M_SHM_EVENTFD) && !data_spin.off;
	if (want == rx_fast) return;
	rx_fast = want;
	__atomic_store_n(&r->fast_tail, (uint32_t)want, __ATOMIC_SEQ_CST);
	if (!want) global_barrier();
}
/* Sleep on flag until *word moves from old: announce, recheck, sleep. The
 * other side clears the flag and wakes it after moving the word. */
static void futex_wait_change(uint64_t *word, uint64_t old, uint32_t *flag, int fast) {
	while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == old) {
		__atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);
		if (fast) global_barrier();
		if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != old) break;
		sleep_on(flag);
	}
	__atomic_store_n(flag, 0, __ATOMIC_RELAXED);
}
static void futex_wake_if(uint32_t *flag) {
	if (__atomic_load_n(flag, __ATOMIC_SEQ_CST) && __atomic_exchange_n(flag, 0, __ATOMIC_SEQ_CST))
		wake_one(flag);
}

/* PREFETCHW, as shmchan issues it (gcc's __builtin_prefetch(p, 1) is a
 * plain read prefetch unless the target has PRFCHW). */
static inline void prefetch_for_write(const char *p) {
#ifdef __x86_64__
	__asm__ volatile("prefetchw %0" : : "m"(*p));
#else
	__builtin_prefetch(p, 1);
#endif
}

static size_t round64(long n) { return ((size_t)n + 63) & ~(size_t)63; }

/* MSG_TEXT_OFFSET: where ipclab's queue buffers hold a message's bytes,
 * clear of 4K aliasing in the kernel's copies in and out (sysipc.
 * MsgTextOffset says why 128), and so do ipcbench's. (Before, the text was
 * only 64-byte aligned: malloc had put it 24 bytes into a line, and copying
 * 4 KiB so placed cost the receiver 1.2-1.9 us of user time per message.) */
enum { MSG_TEXT_OFFSET = 128 };
static char *placed_alloc(size_t n, size_t off) {
	char *p = aligned_alloc(4096, 4096 + ((n + 4095) & ~(size_t)4095));
	if (!p) die("aligned_alloc");
	return p + off;
}
static void *msgbuf_alloc(int text) { return placed_alloc(sizeof(long) + (size_t)text, MSG_TEXT_OFFSET - sizeof(long)); }

/* ring_full says whether the producer's ring has no free slot at tail t,
 * loading the consumer's head only when the head last seen says so. */
static int ring_full(struct end *e, uint64_t t) {
	if (t - e->tx_head_seen < nslots) return 0;
	e->tx_head_seen = __atomic_load_n(&e->tx->head, __ATOMIC_ACQUIRE);
	return t - e->tx_head_seen == nslots;
}

static void send_msg(struct end *e, const char *p, int n) {
	switch (kind) {
	case M_PIPE:
		if (4 + n <= PIPE_BUF_SIZE) { /* one write per frame */
			static char frame[PIPE_BUF_SIZE];
			memcpy(frame, &n, 4), memcpy(frame + 4, p, (size_t)n);
			write_all(e->wfd, frame, 4 + (size_t)n);
		} else {
			write_all(e->wfd, (const char *)&n, 4), write_all(e->wfd, p, (size_t)n);
		}
		return;
	case M_SYSVMSG:
		e->mbuf->mtype = e->wtype;
		memcpy(e->mbuf->data, p, (size_t)n);
		while (msgsnd(msqid, e->mbuf, (size_t)n, 0) < 0) if (errno != EINTR) die("msgsnd");
		return;
	case M_POSIXMQ:
		while (mq_send(e->wq, p, (size_t)n, 0) < 0) if (!would_wait(e->wq, POLLOUT)) die("mq_send");
		return;
	case M_PACKET: {
		/* data, after the message, as sockconn sends it: the kind byte, or
		 * 63 zeros and the kind with its long bit where the byte alone
		 * would leave the kernel's pages 1-31 bytes off a page boundary
		 * (sockconn's longTrailer) */
		static char trailer[LONG_TRAILER];
		size_t t = 1;
		trailer[0] = 0;
		if (near_alias_edge((size_t)n + 1) && n + LONG_TRAILER <= packet_max + 1) {
			t = LONG_TRAILER;
			memset(trailer, 0, LONG_TRAILER);
			trailer[LONG_TRAILER - 1] = (char)KIND_LONG;
		}
		struct iovec iov[2] = {{(void *)p, (size_t)n}, {trailer, t}};
		struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
		while (sendmsg(e->wfd, &m, 0) < 0) if (!would_wait(e->wfd, POLLOUT)) die("sendmsg");
		return;
	}
	default: break;
	}
	struct shm_ring *r = e->tx;
	uint64_t t = e->tx_tail;
	if (kind == M_SHM_SEM) {
		sem_add(e->tx_full + 1, -1);
	} else if (kind == M_SHM_PSEM) {
		while (ring_full(e, t)) {
			while (sem_trywait(e->tx_psem[1]) == 0) {}
			if (!ring_full(e, t)) break;
			psem_wait(e->tx_psem[1]);
		}
	} else if (ring_full(e, t)) {
		uint64_t h = t - nslots;
		if (!spin_for(&r->head, h, &room_spin)) futex_wait_change(&r->head, h, &r->room_wait, 0);
	}
	uint64_t ring = nslots * (uint64_t)slot_size, off = e->tx_off;
	char *slot = r->slots + off;
	memcpy(slot, &n, 4), memcpy(slot + 8, p, (size_t)n);
	/* As shmchan (ring.publishTail): a release store, then a barrier (the
	 * load of data_wait below must not pass the store) unless the consumer
	 * spins and makes it for us (fast_tail); a spinning consumer never
	 * sleeps, and a semaphore's consumer is told by the V below. */
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
	e->tx_tail = t + 1;
	__asm__ volatile("" ::: "memory"); /* the hint is read after the store, in program order */
	if ((kind == M_SHM_FUTEX || kind == M_SHM_EVENTFD) && !__atomic_load_n(&r->fast_tail, __ATOMIC_RELAXED))
		__atomic_store_n(&r->tail, t + 1, __ATOMIC_SEQ_CST); /* the barrier: XCHG (a semaphore's consumer reads after its P, which takes the V below) */
	/* As shmchan: ask for the line a few small messages ahead, for
	 * writing, so that a later store does not wait for it to come back
	 * from the consumer's CPU. */
	uint64_t ahead = off + 8 + (uint64_t)n + 256;
	prefetch_for_write(r->slots + (ahead < ring ? ahead : ahead - ring));
	e->tx_off = off + slot_size == ring ? 0 : off + slot_size;
	if (kind == M_SHM_SEM) sem_add(e->tx_full, 1);
	else if (kind == M_SHM_PSEM) { if (sem_post(e->tx_psem[0]) < 0) die("sem_post"); }
	else if (kind == M_SHM_FUTEX || kind == M_SHM_EVENTFD) futex_wake_if(&r->data_wait);
}

/* As shmchan (ring.prefetchRead): for messages of 257 B to 2 KiB, ask for
 * the lines of what is published up to 2 KiB past the record taken. */
enum { READ_AHEAD = 2048, READ_AHEAD_MIN = 256, READ_AHEAD_MAX = 2048 };
static void prefetch_read(struct end *e, struct shm_ring *r, uint64_t next_slot) {
	uint64_t ring = nslots * (uint64_t)slot_size;
	uint64_t next = next_slot * (uint64_t)slot_size, end = e->rx_tail_seen * (uint64_t)slot_size;
	if (end > next + READ_AHEAD) end = next + READ_AHEAD;
	uint64_t start = e->rx_fetched > next ? e->rx_fetched : next;
	if (end <= start) return;
	e->rx_fetched = end;
	/* At most two spans, split at the ring's end; each from the line
	 * holding its first byte. */
	for (uint64_t off = start % ring, n = end - start; n > 0; off = 0) {
		uint64_t k = ring - off < n ? ring - off : n;
		for (uint64_t a = off & ~(uint64_t)63; a < off + k; a += 64) __builtin_prefetch(r->slots + a, 0, 3);
		n -= k;
	}
}

static int recv_msg(struct end *e, char *p) {
	int n;
	switch (kind) {
	case M_PIPE:
		read_exact(e, (char *)&n, 4);
		if (n < 0 || n > MAX_MSG) { fprintf(stderr, "ipcbench: bad frame length %d\n", n); exit(1); }
		read_exact(e, p, (size_t)n);
		return n;
	case M_SYSVMSG: {
		ssize_t r;
		while ((r = msgrcv(msqid, e->mbuf, (size_t)bufsize, e->rtype, 0)) < 0) if (errno != EINTR) die("msgrcv");
		memcpy(p, e->mbuf->data, (size_t)r);
		return (int)r;
	}
	case M_POSIXMQ: {
		int waited = recv_poll_first(e->rq), w;
		ssize_t r;
		while ((r = mq_receive(e->rq, e->mqbuf, (size_t)e->mqsize, NULL)) < 0) {
			if (!(w = would_wait(e->rq, POLLIN))) die("mq_receive");
			waited |= w == WAITED;
		}
		recv_done(waited);
		memcpy(p, e->mqbuf, (size_t)r);
		return (int)r;
	}
	case M_PACKET: {
		/* the trailer: in p, or here past a message of bufsize */
		static char tail[LONG_TRAILER];
		struct iovec iov[2] = {{p, (size_t)bufsize}, {tail, LONG_TRAILER}};
		struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
		ssize_t r;
		while ((r = recvmsg(e->rfd, &m, 0)) < 0) if (!would_wait(e->rfd, POLLIN)) die("recvmsg");
		if (r == 0) { fprintf(stderr, "ipcbench: peer closed the socket\n"); exit(1); }
		if (m.msg_flags & MSG_TRUNC) { fprintf(stderr, "ipcbench: packet truncated\n"); exit(1); }
		char kind = r <= bufsize ? p[r - 1] : tail[r - 1 - bufsize];
		ssize_t t = (kind & KIND_LONG) ? LONG_TRAILER : 1;
		if (r < t) { fprintf(stderr, "ipcbench: a %zd-byte packet with a %zd-byte trailer\n", r, t); exit(1); }
		return (int)(r - t);
	}
	default: break;
	}
	struct shm_ring *r = e->rx;
	uint64_t h = e->rx_head;
	if (kind == M_SHM_SEM || kind == M_SHM_PSEM) {
		if (kind == M_SHM_SEM) sem_add(e->rx_full, -1);
		else psem_wait(e->rx_psem[0]);
		/* The read-ahead needs the published end; shmchan's consumer
		 * loads it the same way (ring.available) under every strategy. */
		if (e->rx_tail_seen == h) e->rx_tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	} else if (e->rx_tail_seen == h && (e->rx_tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE)) == h) {
		/* About to wait: publish what was consumed, so the producer is not
		 * held up by a lazy head. */
		__atomic_store_n(&r->head, h, __ATOMIC_SEQ_CST);
		e->rx_published = h;
		futex_wake_if(&r->room_wait);
		int ok = spin_for(&r->tail, h, &data_spin);
		sync_fast_tail(r);
		if (!ok) futex_wait_change(&r->tail, h, &r->data_wait, rx_fast);
		e->rx_tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	}
	char *slot = r->slots + e->rx_off;
	e->rx_off = e->rx_off + slot_size == nslots * (uint64_t)slot_size ? 0 : e->rx_off + slot_size;
	memcpy(&n, slot, 4);
	if (n < 0 || n > bufsize) { fprintf(stderr, "ipcbench: corrupt record length %d\n", n); exit(1); }
	if (n > READ_AHEAD_MIN && n <= READ_AHEAD_MAX) prefetch_read(e, r, h + 1);
	memcpy(p, slot + 8, (size_t)n);
	e->rx_head = ++h;
	if (kind == M_SHM_SEM) {
		__atomic_store_n(&r->head, h, __ATOMIC_RELEASE);
		e->rx_published = h;
		sem_add(e->rx_full + 1, 1);
	} else if (kind == M_SHM_PSEM) {
		__atomic_store_n(&r->head, h, __ATOMIC_RELEASE); /* release: a producer that takes a token posted after it sees it */
		e->rx_published = h;
		sem_post(e->rx_psem[1]); /* EOVERFLOW: 2^31 tokens nobody waited for; nothing lost */
	} else if (__atomic_load_n(&r->room_wait, __ATOMIC_SEQ_CST)) {
		/* The producer sleeps for room: publish, with a barrier before the
		 * wake's look at room_wait. */
		__atomic_store_n(&r->head, h, __ATOMIC_SEQ_CST);
		e->rx_published = h;
		futex_wake_if(&r->room_wait);
	} else if (h - e->rx_published >= publish_slots) {
		/* shmchan's lazy head: publish every publish_slots, few enough bytes
		 * that a producer spinning for room sees them within its budget, by
		 * a release store (a sleeping producer is seen by the next receive,
		 * or after the barrier before this side waits). */
		__atomic_store_n(&r->head, h, __ATOMIC_RELEASE);
		e->rx_published = h;
	}
	return n;
}

/* Four sums side by side, as the Go receiver's (internal/checksum): the
 * two harnesses do the same work per byte, whether or not gcc vectorises
 * a single chain of adds. */
static uint64_t checksum(const char *b, int n) {
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, w[4];
	for (; n >= 32; b += 32, n -= 32) memcpy(w, b, 32), s0 += w[0], s1 += w[1], s2 += w[2], s3 += w[3];
	uint64_t s = s0 + s1 + s2 + s3, v;
	for (; n >= 8; b += 8, n -= 8) memcpy(&v, b, 8), s += v; /* little-endian host */
	for (; n > 0; b++, n--) s += (uint8_t)*b;
	return s;
}

struct cost { int64_t user_ns, sys_ns, vol, invol, maxrss, polls, empty_tries; int cpu; };
static struct rusage usage0;
static void cost_start(void) { getrusage(RUSAGE_SELF, &usage0), polls = empty_tries = 0; }
static struct cost cost_end(void) {
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	struct cost c = {
		(u.ru_utime.tv_sec - usage0.ru_utime.tv_sec) * 1000000000ll + (u.ru_utime.tv_usec - usage0.ru_utime.tv_usec) * 1000ll,
		(u.ru_stime.tv_sec - usage0.ru_stime.tv_sec) * 1000000000ll + (u.ru_stime.tv_usec - usage0.ru_stime.tv_usec) * 1000ll,
		u.ru_nvcsw - usage0.ru_nvcsw, u.ru_nivcsw - usage0.ru_nivcsw, u.ru_maxrss, polls, empty_tries, sched_getcpu()};
	return c;
}
static void print_cost(const char *name, struct cost c, int pid) {
	printf("\"%s\":{\"user_ns\":%lld,\"sys_ns\":%lld,\"vol_ctxsw\":%lld,\"invol_ctxsw\":%lld,\"max_rss_kib\":%lld,\"poll_waits\":%lld,\"cpus\":[%d],\"threads\":1,\"pid\":%d}",
	       name, (long long)c.user_ns, (long long)c.sys_ns, (long long)c.vol, (long long)c.invol, (long long)c.maxrss, (long long)c.polls, c.cpu, pid);
}

/* What the receiver hands the sender, through a pipe, at the end. */
struct report { struct cost cost; uint64_t first_ns, last_ns, bytes, sum; int n_oneway; };

static void pin(int cpu) {
	if (cpu < 0) return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0) die("sched_setaffinity");
}

/* sock_tcp_pair connects two TCP sockets over 127.0.0.1, as ipclab's tcp
 * transport does: a listener on a port the kernel picks, one connection,
 * TCP_NODELAY on both ends. */
static void sock_tcp_pair(int sv[2]) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0) die("tcp listen");
	if ((sv[0] = socket(AF_INET, SOCK_STREAM, 0)) < 0 || connect(sv[0], (struct sockaddr *)&a, sizeof a) < 0) die("tcp connect");
	if ((sv[1] = accept(l, NULL, NULL)) < 0) die("accept");
	close(l);
	setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int too_large(const char *limit, long value, const char *raise) {
	fprintf(stderr, "message of %d bytes exceeds %s = %ld; raise it with %s\n", size, limit, value, raise);
	return 3;
}

int main(int argc, char **argv) {
	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: ipcbench pipe|fifo|sysvmsg|posixmq|shm-sysvsem|shm-futex|shm-spin|posixshm-futex|posixshm-spin|posixshm-posixsem|posixshm-eventfd|unix-stream|unix-seqpacket|unix-dgram|tcp latency|throughput SIZE COUNT WARM SENDER_CPU RECEIVER_CPU [block|poll]\n");
		return 2;
	}
	mech = argv[1];
	const char *mode = argv[2];
	int latency = strcmp(mode, "latency") == 0;
	size = atoi(argv[3]);
	int count = atoi(argv[4]), warm = atoi(argv[5]), cpu_tx = atoi(argv[6]), cpu_rx = atoi(argv[7]);
	if (!latency && strcmp(mode, "throughput") != 0) { fprintf(stderr, "unknown mode %s\n", mode); return 2; }
	if (size < 0 || size > MAX_MSG || count < 1 || warm < 0) {
		fprintf(stderr, "want 0 <= SIZE <= %d, COUNT >= 1, WARM >= 0\n", MAX_MSG);
		return 2;
	}
	int fifo = strcmp(mech, "fifo") == 0;
	if (!strcmp(mech, "pipe") || fifo) kind = M_PIPE;
	else if (!strcmp(mech, "sysvmsg")) kind = M_SYSVMSG;
	else if (!strcmp(mech, "posixmq")) kind = M_POSIXMQ;
	else if (!strcmp(mech, "shm-sysvsem")) kind = M_SHM_SEM;
	else if (!strcmp(mech, "shm-futex")) kind = M_SHM_FUTEX;
	else if (!strcmp(mech, "shm-spin")) kind = M_SHM_SPIN;
	else if (!strcmp(mech, "posixshm-futex")) kind = M_SHM_FUTEX, posix_shm = 1;
	else if (!strcmp(mech, "posixshm-spin")) kind = M_SHM_SPIN, posix_shm = 1;
	else if (!strcmp(mech, "posixshm-posixsem")) kind = M_SHM_PSEM, posix_shm = 1;
	else if (!strcmp(mech, "posixshm-eventfd")) kind = M_SHM_EVENTFD, posix_shm = 1;
	else if (!strcmp(mech, "unix-stream") || !strcmp(mech, "tcp")) kind = M_PIPE; /* the same frames */
	else if (!strcmp(mech, "unix-seqpacket") || !strcmp(mech, "unix-dgram")) kind = M_PACKET;
	else { fprintf(stderr, "unknown mechanism %s\n", mech); return 2; }
	const char *waits = argc == 9 ? argv[8] : "block";
	if (!strcmp(waits, "poll")) poll_waits = 1;
	else if (strcmp(waits, "block")) { fprintf(stderr, "unknown WAITS %s: block or poll\n", waits); return 2; }
	if (poll_waits && kind != M_PIPE && kind != M_POSIXMQ && kind != M_PACKET && kind != M_SHM_EVENTFD) {
		fprintf(stderr, "WAITS poll: %s has no descriptor to poll; its waits are the same either way\n", mech);
		return 2;
	}
	streak_recv = poll_waits && (!strcmp(mech, "pipe") || fifo || kind == M_POSIXMQ);
	streak_timed = kind == M_POSIXMQ;

	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	bufsize = size > 64 ? size : 64;
	struct end tx = {0}, rx = {0};    /* the sender's and the receiver's ends */
	switch (kind) {
	case M_PIPE: {
		int a[2], b[2];
		if (!strcmp(mech, "unix-stream") || !strcmp(mech, "tcp")) {
			/* One socket per end, both directions. */
			int sv[2];
			if (!strcmp(mech, "tcp")) sock_tcp_pair(sv);
			else if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) die("socketpair");
			tx.wfd = tx.rfd = sv[0], rx.rfd = rx.wfd = sv[1];
			tx.rbuf = readahead_alloc(&tx), rx.rbuf = readahead_alloc(&rx);
			break;
		}
		if (fifo) {
			char p1[300], p2[300];
			const char *tmp = getenv("TMPDIR");
			snprintf(fifo_dir, sizeof fifo_dir, "%s/ipcbench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
			if (!mkdtemp(fifo_dir)) { fifo_dir[0] = 0; die("mkdtemp"); }
			snprintf(p1, sizeof p1, "%s/1", fifo_dir), snprintf(p2, sizeof p2, "%s/2", fifo_dir);
			if (mkfifo(p1, 0600) < 0 || mkfifo(p2, 0600) < 0) die("mkfifo");
			/* Open the read end without blocking, then the write end. */
			if ((a[0] = open(p1, O_RDONLY | O_NONBLOCK)) < 0 || (a[1] = open(p1, O_WRONLY)) < 0 ||
			    (b[0] = open(p2, O_RDONLY | O_NONBLOCK)) < 0 || (b[1] = open(p2, O_WRONLY)) < 0) die("open fifo");
			fcntl(a[0], F_SETFL, 0), fcntl(b[0], F_SETFL, 0);
			cleanup(); /* the names go; the open pipes stay */
		} else if (pipe(a) < 0 || pipe(b) < 0) die("pipe");
		tx.wfd = a[1], rx.rfd = a[0], rx.wfd = b[1], tx.rfd = b[0];
		tx.rbuf = readahead_alloc(&tx), rx.rbuf = readahead_alloc(&rx);
		break;
	}
	case M_SYSVMSG: {
		long msgmax = read_limit("/proc/sys/kernel/msgmax"), msgmnb = read_limit("/proc/sys/kernel/msgmnb");
		if (size > msgmax) return too_large("kernel.msgmax", msgmax, "sysctl -w kernel.msgmax=N");
		if (size > msgmnb) return too_large("kernel.msgmnb", msgmnb, "sysctl -w kernel.msgmnb=N");
		if ((msqid = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600)) < 0) die("msgget");
		tx.wtype = 1, rx.rtype = 1, rx.wtype = 2, tx.rtype = 2;
		tx.mbuf = msgbuf_alloc(bufsize), rx.mbuf = msgbuf_alloc(bufsize);
		break;
	}
	case M_POSIXMQ: {
		long depth = read_limit("/proc/sys/fs/mqueue/msg_default"), msgsize = read_limit("/proc/sys/fs/mqueue/msgsize_default");
		if (size > msgsize) return too_large("fs.mqueue.msgsize_default", msgsize, "sysctl -w fs.mqueue.msgsize_default=N (up to fs.mqueue.msgsize_max)");
		struct mq_attr attr = {.mq_maxmsg = depth, .mq_msgsize = msgsize};
		mqd_t q[2];
		for (int i = 0; i < 2; i++) {
			snprintf(mq_names[i], sizeof mq_names[i], "/ipcbench-%d.%d", getpid(), i + 1);
			if ((q[i] = mq_open(mq_names[i], O_RDWR | O_CREAT | O_EXCL, 0600, &attr)) == (mqd_t)-1) {
				mq_names[i][0] = 0;
				die("mq_open");
			}
		}
		cleanup(); /* the names go; the open queues stay */
		tx.wq = q[0], rx.rq = q[0], rx.wq = q[1], tx.rq = q[1];
		tx.mqsize = rx.mqsize = msgsize;
		tx.mqbuf = placed_alloc((size_t)msgsize, MSG_TEXT_OFFSET), rx.mqbuf = placed_alloc((size_t)msgsize, MSG_TEXT_OFFSET);
		if (!tx.mqbuf || !rx.mqbuf) die("aligned_alloc");
		break;
	}
	case M_PACKET: {
		int sv[2], dgram = !strcmp(mech, "unix-dgram");
		if (socketpair(AF_UNIX, dgram ? SOCK_DGRAM : SOCK_SEQPACKET, 0, sv) < 0) die("socketpair");
		int sndbuf = 0;
		socklen_t len = sizeof sndbuf;
		getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
		/* The kernel refuses a packet over SO_SNDBUF - 32; one byte is the kind
		 * trailer (the long one only where it fits). */
		packet_max = sndbuf - 33;
		if (size > packet_max) return too_large("SO_SNDBUF - 33 (net.core.wmem_default)", sndbuf - 33L, "sysctl -w net.core.wmem_default=N");
		tx.wfd = tx.rfd = sv[0], rx.rfd = rx.wfd = sv[1];
		break;
	}
	default: {
		slot_size = (8 + bufsize + 7) & ~7;
		ring_bytes = ring_size_for(size);
		nslots = ring_bytes / (uint64_t)slot_size;
		if (kind == M_SHM_SEM && nslots > SEM_MAX) nslots = SEM_MAX; /* SEMVMX */
		publish_slots = nslots / 8 < PUBLISH_CHUNK / (uint64_t)slot_size ? nslots / 8 : PUBLISH_CHUNK / (uint64_t)slot_size;
		if (publish_slots == 0) publish_slots = 1;
		struct shm_ring *rings;
		if (posix_shm) {
			snprintf(shm_name, sizeof shm_name, "/ipcbench-%d", getpid());
			int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
			if (fd < 0) { shm_name[0] = 0; die("shm_open"); }
			/* Pages reserved now: a full /dev/shm fails here, not as SIGBUS. */
			if ((errno = posix_fallocate(fd, 0, (off_t)(2 * ring_stride()))) != 0) die("posix_fallocate /dev/shm");
			rings = mmap(NULL, 2 * ring_stride(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			close(fd);
			if (rings == MAP_FAILED) die("mmap");
			if (kind == M_SHM_PSEM) {
				/* ping full, ping empty, pong full, pong empty */
				sem_t *s[4];
				for (int i = 0; i < 4; i++) {
					snprintf(psem_names[i], sizeof psem_names[i], "/ipcbench-%d-%c%d", getpid(), i % 2 ? 'e' : 'f', i / 2);
					if ((s[i] = sem_open(psem_names[i], O_CREAT | O_EXCL, 0600, 0)) == SEM_FAILED) { psem_names[i][0] = 0; die("sem_open"); }
				}
				tx.tx_psem[0] = rx.rx_psem[0] = s[0], tx.tx_psem[1] = rx.rx_psem[1] = s[1];
				rx.tx_psem[0] = tx.rx_psem[0] = s[2], rx.tx_psem[1] = tx.rx_psem[1] = s[3];
			}
			cleanup(); /* the names go; the mappings stay, and fork shares them */
		} else {
			int shmid = shmget(IPC_PRIVATE, 2 * ring_stride(), IPC_CREAT | IPC_EXCL | 0600);
			if (shmid < 0) die("shmget");
			rings = shmat(shmid, NULL, 0);
			shmctl(shmid, IPC_RMID, NULL); /* gone once both processes detach */
			if (rings == (void *)-1) die("shmat");
		}
		tx.tx = rx.rx = ring_at(rings, 0), rx.tx = tx.rx = ring_at(rings, 1);
		ring_base = rings;
		if (kind == M_SHM_EVENTFD)
			for (int i = 0; i < 4; i++)
				if ((efds[i / 2][i % 2] = eventfd(0, EFD_CLOEXEC | (poll_waits ? EFD_NONBLOCK : 0))) < 0) die("eventfd");
		if (kind == M_SHM_SEM) {
			/* 0: ping full, 1: ping empty, 2: pong full, 3: pong empty. */
			if ((semid = semget(IPC_PRIVATE, 4, IPC_CREAT | IPC_EXCL | 0600)) < 0) die("semget");
			semctl(semid, 1, SETVAL, (int)nslots), semctl(semid, 3, SETVAL, (int)nslots);
			tx.tx_full = rx.rx_full = 0, rx.tx_full = tx.rx_full = 2;
		}
	}
	}

	if (poll_waits && kind != M_SHM_EVENTFD) { /* the ends' descriptors (the eventfds are made non-blocking); fork shares the flag */
		int fds[] = {tx.rfd, tx.wfd, rx.rfd, rx.wfd};
		if (kind == M_POSIXMQ) fds[0] = tx.rq, fds[1] = tx.wq, fds[2] = rx.rq, fds[3] = rx.wq;
		for (int i = 0; i < 4; i++) set_nonblock(fds[i]);
	}
	int rep_pipe[2];
	if (pipe(rep_pipe) < 0) die("pipe");
	char *msg = aligned_alloc(64, round64(bufsize)), *buf = aligned_alloc(64, round64(bufsize));
	if (!msg || !buf) die("aligned_alloc");
	memset(msg, 0, (size_t)bufsize), memset(buf, 0, (size_t)bufsize);
	for (int i = 0; i < size; i++) msg[i] = (char)(i * 7 + 1);
	fflush(stdout);
	signal(SIGCHLD, on_child);
	/* SIGCHLD stays blocked until child is set: a receiver killed at once
	 * (a loaded machine may not run the parent for a while after fork)
	 * would otherwise find the handler with child unset, and the sender
	 * would block for ever on a channel nobody reads. */
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	barrier_ok = syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
	pid_t receiver = fork();
	if (receiver < 0) die("fork");
	child = receiver;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (ring_base) populate(ring_base, 2 * ring_stride());
	if (poll_waits && (wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) die("eventfd");
	if (receiver == 0) { /* the receiver */
		is_parent = 0;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pin(cpu_rx);
		struct report rep = {0};
		double *oneway = latency && size >= 8 ? malloc(sizeof(double) * (size_t)count) : NULL;
		for (int i = 0; i < warm + count; i++) {
			if (i == warm) cost_start();
			int n = recv_msg(&rx, buf);
			if (n != size) { fprintf(stderr, "ipcbench: message %d has %d bytes, want %d\n", i, n, size); _exit(1); }
			if (latency) {
				/* As the Go echo: the clock only on the round trips the
				 * sender leaves out (one_way_sampled). */
				if (oneway && one_way_sampled(i, warm)) {
					uint64_t sent, t = now_ns();
					memcpy(&sent, buf, 8);
					oneway[rep.n_oneway++] = (double)(int64_t)(t - sent);
				}
				send_msg(&rx, buf, n);
				continue;
			}
			/* A stream reads the clock at its first and last measured
			 * message only, as the Go receiver. */
			if (i == warm) rep.first_ns = now_ns();
			if (i == warm + count - 1) rep.last_ns = now_ns();
			if (i >= warm) rep.bytes += (uint64_t)n, rep.sum += checksum(buf, n);
		}
		rep.cost = cost_end();
		if (!latency) {
			char conf[64];
			int n = snprintf(conf, sizeof conf, "%llu %llu", (unsigned long long)rep.bytes, (unsigned long long)rep.sum);
			if (n > bufsize) n = bufsize;
			memcpy(buf, conf, (size_t)n);
			send_msg(&rx, buf, n);
		}
		write_all(rep_pipe[1], (char *)&rep, sizeof rep);
		if (oneway) write_all(rep_pipe[1], (char *)oneway, sizeof(double) * (size_t)rep.n_oneway);
		_exit(0);
	}
	close(rep_pipe[1]);
	pin(cpu_tx);
	uint64_t *rtt = latency ? malloc(sizeof(uint64_t) * (size_t)count) : NULL, first_send = 0;
	int n_rtt = 0;
	/* One clock reading per round trip, as the Go harness: each round trip
	 * ends where the next begins. */
	uint64_t t0 = now_ns();
	for (int i = 0; i < warm + count; i++) {
		if (i == warm) cost_start(), first_send = t0 = now_ns();
		if (latency) {
			if (size >= 8) memcpy(msg, &t0, 8);
			send_msg(&tx, msg, size);
			int n = recv_msg(&tx, buf);
			uint64_t t1 = now_ns();
			if (n != size) { fprintf(stderr, "ipcbench: reply %d has %d bytes, want %d\n", i, n, size); return 1; }
			if (i >= warm && !one_way_sampled(i, warm)) rtt[n_rtt++] = t1 - t0;
			t0 = t1;
		} else {
			send_msg(&tx, msg, size);
		}
	}
	struct cost sender = cost_end();
	char conf[65] = {0};
	if (!latency) {
		int n = recv_msg(&tx, buf);
		memcpy(conf, buf, (size_t)(n < 64 ? n : 64));
	}
	struct report rep;
	FILE *rf = fdopen(rep_pipe[0], "r");
	if (fread(&rep, sizeof rep, 1, rf) != 1) { fprintf(stderr, "ipcbench: the receiver did not report\n"); return 1; }
	double *oneway = malloc(sizeof(double) * (size_t)(rep.n_oneway + 1));
	if (rep.n_oneway < 0 || rep.n_oneway > count || fread(oneway, sizeof(double), (size_t)rep.n_oneway, rf) != (size_t)rep.n_oneway) {
		fprintf(stderr, "ipcbench: short one-way report\n");
		return 1;
	}
	int status;
	signal(SIGCHLD, SIG_DFL);
	if (waitpid(receiver, &status, 0) < 0) status = child_status; /* reaped by on_child */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "ipcbench: the receiver failed\n");
		return 1;
	}
	child = -1;

	printf("{\"mechanism\":\"%s\",\"mode\":\"%s\",\"waits\":\"%s\",\"size\":%d,\"count\":%d,\"warmup\":%d,\"ring_bytes\":%llu,", mech, mode, poll_waits ? "poll" : "block", size, count, warm, (unsigned long long)ring_bytes);
	print_cost("sender", sender, getpid());
	printf(",");
	print_cost("receiver", rep.cost, receiver);
	printf(",\"empty_tries\":[%lld,%lld]", (long long)sender.empty_tries, (long long)rep.cost.empty_tries);
	printf(",\"first_send_ns\":%llu,\"first_ns\":%llu,\"last_ns\":%llu,\"bytes\":%llu,\"sum\":%llu,\"confirmation\":\"%s\"",
	       (unsigned long long)first_send, (unsigned long long)rep.first_ns, (unsigned long long)rep.last_ns,
	       (unsigned long long)rep.bytes, (unsigned long long)rep.sum, latency ? "" : conf);
	printf(",\"rtt_ns\":[");
	for (int i = 0; latency && i < n_rtt; i++) printf(i ? ",%llu" : "%llu", (unsigned long long)rtt[i]);
	printf("],\"one_way_ns\":[");
	for (int i = 0; i < rep.n_oneway; i++) printf(i ? ",%.0f" : "%.0f", oneway[i]);
	printf("]}\n");
	return 0;
}
