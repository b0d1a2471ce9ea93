/* straight: the plainest C measurement of each mechanism, written apart
 * from ipcbench.c to check it (scripts/check-cbaseline.sh runs both and
 * compares). Nothing clever on purpose: blocking calls, the kernel copies
 * in and out, one write/msgsnd/mq_send per message, a pipe reader that
 * takes whatever one read() returns, textbook semaphores around one slot,
 * and a single-producer single-consumer spin ring.
 *
 *   straight MECH MODE SIZE COUNT SENDER_CPU RECEIVER_CPU
 *
 *   MECH  pipe | pipe-malloc | sysvmsg | posixmq | shm-sysvsem | shm-posixsem | shm-spin
 *         (pipe-malloc: the throughput reader's buffer from malloc, not
 *         page-aligned; see main)
 *   MODE  latency:    ping-pong; the sender times each round trip with
 *                     CLOCK_MONOTONIC and reports p50 and p99.
 *         throughput: one way; the receiver sums every byte (the same
 *                     checksum as ipcbench) and reports messages/s and
 *                     MB/s from its first measured message to its last.
 *   CPUs  -1 for no pinning (sched_setaffinity otherwise).
 *
 * COUNT/10 messages (round trips) go first, unmeasured. One JSON line on
 * stdout; exit status 2 on bad input, 3 when SIZE is beyond a kernel limit
 * (stderr names it), 1 on any other failure. Every object is 0600 and
 * exclusive, and is gone on every exit: a POSIX name and the SysV shared
 * memory id are removed once the object is open or attached (fork hands it
 * to the child), the queue and semaphores on exit, SIGINT and SIGTERM.
 *
 * Build: gcc -O2 -Wall -o straight straight.c -lrt */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE (1 << 20)
#define PIPE_READ (1 << 20)  /* the throughput reader asks for this much */
#define RING_BYTES (256 << 10)
#define LINE 128              /* two cache lines: no false sharing with the adjacent-line prefetcher */

enum mech { PIPE, SYSVMSG, POSIXMQ, SHM_SYSVSEM, SHM_POSIXSEM, SHM_SPIN, NMECH };
static const char *const mech_name[NMECH] = {"pipe", "sysvmsg", "posixmq", "shm-sysvsem", "shm-posixsem", "shm-spin"};

static enum mech mech;
static int size;

static void fail(const char *what) {
	perror(what);
	exit(1);
}
static uint64_t now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- what must go, whatever happens ---- */

static int msq = -1, semset = -1;
static char names[3][48]; /* POSIX names not yet unlinked: queues (0, 1), shm (2) */
static volatile pid_t peer;  /* the child, as seen by the parent; 0 in the child */
static volatile sig_atomic_t peer_done, owner = 1; /* owner: the parent, which removes */

static void remove_objects(void) {
	if (!owner) return;
	if (msq >= 0) msgctl(msq, IPC_RMID, NULL), msq = -1;
	if (semset >= 0) semctl(semset, 0, IPC_RMID), semset = -1;
	for (int i = 0; i < 2; i++)
		if (names[i][0]) mq_unlink(names[i]), names[i][0] = 0;
	if (names[2][0]) shm_unlink(names[2]), names[2][0] = 0;
}
static void on_term(int sig) {
	pid_t p = peer;
	peer = 0; /* its death is ours to report, not on_child's */
	if (p > 0) kill(p, SIGKILL);
	remove_objects();
	signal(sig, SIG_DFL);
	raise(sig);
}
/* A child that dies would leave the parent blocked for ever. */
static void on_child(int sig) {
	(void)sig;
	int st;
	if (peer > 0 && waitpid(peer, &st, WNOHANG) == peer) {
		peer_done = 1;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			static const char m[] = "straight: the other process failed\n";
			if (write(2, m, sizeof m - 1) < 0) {}
			peer = 0;
			remove_objects();
			_exit(1);
		}
	}
}

/* ---- one direction of a channel ---- */

struct box {             /* shm-sysvsem, shm-posixsem: the one slot */
	sem_t full, empty;   /* shm-posixsem only */
	int len;
	_Alignas(LINE) char data[];
};
struct ring {            /* shm-spin */
	_Alignas(LINE) _Atomic uint64_t head; /* next slot to read: the consumer's */
	_Alignas(LINE) _Atomic uint64_t tail; /* next slot to write: the producer's */
	_Alignas(LINE) char slots[];
};
struct chan {
	int rfd, wfd;        /* pipe */
	long type;           /* sysvmsg */
	mqd_t q;             /* posixmq */
	struct box *box;     /* shm-*sem */
	int full, empty;     /* shm-sysvsem: semaphore numbers */
	struct ring *ring;   /* shm-spin */
};
static struct { long mtype; char mtext[MAX_SIZE]; } mbuf; /* sysvmsg */
static size_t box_stride, slot_stride;
static uint64_t nslots;

static void sem_op(int num, int delta) {
	struct sembuf op = {.sem_num = (unsigned short)num, .sem_op = (short)delta};
	while (semop(semset, &op, 1) < 0)
		if (errno != EINTR) fail("semop");
}
static void psem_wait(sem_t *s) {
	while (sem_wait(s) < 0)
		if (errno != EINTR) fail("sem_wait");
}
static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void chan_send(struct chan *c, const char *p) {
	switch (mech) {
	case PIPE:
		for (int done = 0; done < size;) {
			ssize_t w = write(c->wfd, p + done, (size_t)(size - done));
			if (w < 0 && errno != EINTR) fail("write");
			if (w > 0) done += (int)w;
		}
		break;
	case SYSVMSG:
		mbuf.mtype = c->type;
		memcpy(mbuf.mtext, p, (size_t)size);
		while (msgsnd(msq, &mbuf, (size_t)size, 0) < 0)
			if (errno != EINTR) fail("msgsnd");
		break;
	case POSIXMQ:
		while (mq_send(c->q, p, (size_t)size, 0) < 0)
			if (errno != EINTR) fail("mq_send");
		break;
	case SHM_SYSVSEM:
	case SHM_POSIXSEM:
		if (mech == SHM_SYSVSEM) sem_op(c->empty, -1);
		else psem_wait(&c->box->empty);
		memcpy(c->box->data, p, (size_t)size);
		c->box->len = size;
		if (mech == SHM_SYSVSEM) sem_op(c->full, 1);
		else if (sem_post(&c->box->full) < 0) fail("sem_post");
		break;
	case SHM_SPIN: {
		struct ring *r = c->ring;
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
		while (t - atomic_load_explicit(&r->head, memory_order_acquire) == nslots) relax();
		memcpy(r->slots + (t & (nslots - 1)) * slot_stride, p, (size_t)size);
		atomic_store_explicit(&r->tail, t + 1, memory_order_release);
		break;
	}
	default: abort();
	}
}

/* chan_recv takes one whole message of SIZE bytes into p. */
static void chan_recv(struct chan *c, char *p) {
	ssize_t n = size;
	switch (mech) {
	case PIPE:
		for (int done = 0; done < size;) {
			ssize_t r = read(c->rfd, p + done, (size_t)(size - done));
			if (r == 0) { fprintf(stderr, "straight: the other process closed the pipe early\n"); exit(1); }
			if (r < 0 && errno != EINTR) fail("read");
			if (r > 0) done += (int)r;
		}
		break;
	case SYSVMSG:
		while ((n = msgrcv(msq, &mbuf, (size_t)size, c->type, 0)) < 0)
			if (errno != EINTR) fail("msgrcv");
		memcpy(p, mbuf.mtext, (size_t)n);
		break;
	case POSIXMQ:
		while ((n = mq_receive(c->q, p, (size_t)size, NULL)) < 0)
			if (errno != EINTR) fail("mq_receive");
		break;
	case SHM_SYSVSEM:
	case SHM_POSIXSEM:
		if (mech == SHM_SYSVSEM) sem_op(c->full, -1);
		else psem_wait(&c->box->full);
		n = c->box->len; /* the peer wrote it: check before use */
		if (n == size) memcpy(p, c->box->data, (size_t)size);
		if (mech == SHM_SYSVSEM) sem_op(c->empty, 1);
		else if (sem_post(&c->box->empty) < 0) fail("sem_post");
		break;
	case SHM_SPIN: {
		struct ring *r = c->ring;
		uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
		while (atomic_load_explicit(&r->tail, memory_order_acquire) == h) relax();
		memcpy(p, r->slots + (h & (nslots - 1)) * slot_stride, (size_t)size);
		atomic_store_explicit(&r->head, h + 1, memory_order_release);
		break;
	}
	default: abort();
	}
	if (n != size) {
		fprintf(stderr, "straight: got a message of %zd bytes, want %d\n", n, size);
		exit(1);
	}
}

/* ---- the checksum: ipcbench's, so the receiver does the same work ----
 * Per message, the little-endian 64-bit words summed, then the bytes past
 * the last whole word. A pipe's reads cut messages anywhere, so the sum
 * keeps its place in the message; a byte inside a word counts shifted to
 * its place, which adds up to the same as the word. */
struct sum {
	uint64_t s;
	int pos; /* offset in the current message */
};
static void sum_bytes(struct sum *c, const unsigned char *p, size_t n) {
	const int words_end = size / 8 * 8;
	while (n > 0) {
		if (c->pos % 8 == 0 && c->pos < words_end && n >= 8) {
			size_t k = (size_t)(words_end - c->pos) / 8;
			if (k > n / 8) k = n / 8;
			uint64_t s = 0, w;
			for (size_t i = 0; i < k; i++, p += 8) memcpy(&w, p, 8), s += w;
			c->s += s, c->pos += (int)(8 * k), n -= 8 * k;
		} else {
			c->s += c->pos < words_end ? (uint64_t)*p << (8 * (c->pos % 8)) : *p;
			p++, n--, c->pos++;
		}
		if (c->pos == size) c->pos = 0;
	}
}

/* ---- setup ---- */

static long sysctl_value(const char *path) {
	long v = -1;
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1) v = -1;
		fclose(f);
	}
	return v;
}
static int beyond(const char *sysctl, long limit) {
	fprintf(stderr, "straight: SIZE %d exceeds %s = %ld (raise it with sysctl -w %s=N)\n", size, sysctl, limit, sysctl);
	return 3;
}
static void *shared_memory(size_t bytes) {
	void *p;
	if (mech == SHM_POSIXSEM) {
		snprintf(names[2], sizeof names[2], "/straight-%d", (int)getpid());
		int fd = shm_open(names[2], O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0) names[2][0] = 0, fail("shm_open");
		if (ftruncate(fd, (off_t)bytes) < 0) fail("ftruncate");
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) fail("mmap");
		close(fd);
		shm_unlink(names[2]), names[2][0] = 0; /* the mapping lives on; fork shares it */
	} else {
		int id = shmget(IPC_PRIVATE, bytes, IPC_CREAT | IPC_EXCL | 0600);
		if (id < 0) fail("shmget");
		p = shmat(id, NULL, 0);
		shmctl(id, IPC_RMID, NULL); /* freed when the last process detaches */
		if (p == (void *)-1) fail("shmat");
	}
	return p;
}

/* open_chan makes channel i (0: sender to receiver, 1: back), both ends. */
static void open_chan(struct chan *c, int i, char *mem) {
	switch (mech) {
	case PIPE: {
		int fd[2];
		if (pipe(fd) < 0) fail("pipe");
		c->rfd = fd[0], c->wfd = fd[1];
		break;
	}
	case SYSVMSG:
		c->type = i + 1;
		break;
	case POSIXMQ: {
		long depth = sysctl_value("/proc/sys/fs/mqueue/msg_default");
		struct mq_attr a = {.mq_maxmsg = depth > 0 ? depth : 10, .mq_msgsize = size};
		snprintf(names[i], sizeof names[i], "/straight-%d.%d", (int)getpid(), i);
		if ((c->q = mq_open(names[i], O_RDWR | O_CREAT | O_EXCL, 0600, &a)) == (mqd_t)-1) {
			names[i][0] = 0;
			fail("mq_open");
		}
		mq_unlink(names[i]), names[i][0] = 0; /* the descriptor lives on; fork shares it */
		break;
	}
	case SHM_SYSVSEM:
		c->box = (struct box *)(mem + (size_t)i * box_stride);
		c->full = 2 * i, c->empty = 2 * i + 1;
		break;
	case SHM_POSIXSEM:
		c->box = (struct box *)(mem + (size_t)i * box_stride);
		if (sem_init(&c->box->full, 1, 0) < 0 || sem_init(&c->box->empty, 1, 1) < 0) fail("sem_init");
		break;
	case SHM_SPIN:
		c->ring = (struct ring *)(mem + (size_t)i * (sizeof(struct ring) + nslots * slot_stride));
		break;
	default: abort();
	}
}

static void pin(int cpu) {
	if (cpu < 0) return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0) fail("sched_setaffinity");
}

/* reap waits for the child, which is done once its last message is
 * through, so nothing is printed for a run whose other half failed. */
static void reap(pid_t pid) {
	signal(SIGCHLD, SIG_DFL);
	int st = 0;
	if (!peer_done && (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
		fprintf(stderr, "straight: the other process failed\n");
		exit(1);
	}
	peer = 0;
}

static int cmp_u64(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}
/* quantile interpolates between closest ranks (Hyndman-Fan type 7, as
 * ipclab's summaries). */
static double quantile(const uint64_t *sorted, int n, double q) {
	double h = (n - 1) * q;
	int lo = (int)h;
	if (lo + 1 >= n) return (double)sorted[n - 1];
	return (double)sorted[lo] + (h - lo) * ((double)sorted[lo + 1] - (double)sorted[lo]);
}

static int parse_int(const char *s, long lo, long hi, long *v) {
	char *end;
	errno = 0;
	*v = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == 0 && *v >= lo && *v <= hi;
}

int main(int argc, char **argv) {
	static const char usage[] =
	    "usage: straight pipe|pipe-malloc|sysvmsg|posixmq|shm-sysvsem|shm-posixsem|shm-spin latency|throughput SIZE COUNT SENDER_CPU RECEIVER_CPU\n";
	if (argc != 7) {
		fputs(usage, stderr);
		return 2;
	}
	mech = NMECH;
	for (int i = 0; i < NMECH; i++)
		if (strcmp(argv[1], mech_name[i]) == 0) mech = (enum mech)i;
	int stream_malloc = strcmp(argv[1], "pipe-malloc") == 0;
	if (stream_malloc) mech = PIPE;
	if (mech == NMECH) {
		fprintf(stderr, "straight: unknown mechanism %s\n%s", argv[1], usage);
		return 2;
	}
	int latency = strcmp(argv[2], "latency") == 0;
	if (!latency && strcmp(argv[2], "throughput") != 0) {
		fprintf(stderr, "straight: unknown mode %s\n%s", argv[2], usage);
		return 2;
	}
	long v_size, v_count, v_tx, v_rx;
	if (!parse_int(argv[3], 1, MAX_SIZE, &v_size) || !parse_int(argv[4], 2, 100000000, &v_count) ||
	    !parse_int(argv[5], -1, CPU_SETSIZE - 1, &v_tx) || !parse_int(argv[6], -1, CPU_SETSIZE - 1, &v_rx)) {
		fprintf(stderr, "straight: want 1 <= SIZE <= %d, 2 <= COUNT <= 100000000, CPUs -1 to %d\n", MAX_SIZE, CPU_SETSIZE - 1);
		return 2;
	}
	size = (int)v_size;
	const int count = (int)v_count, warm = count / 10, total = warm + count;
	const int tx_cpu = (int)v_tx, rx_cpu = (int)v_rx;

	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof allowed, &allowed) < 0) fail("sched_getaffinity");
	for (int i = 0; i < 2; i++) {
		int cpu = i ? rx_cpu : tx_cpu;
		if (cpu >= 0 && !CPU_ISSET(cpu, &allowed)) {
			fprintf(stderr, "straight: CPU %d is not one this process may run on (see taskset -p %d)\n", cpu, (int)getpid());
			return 2;
		}
	}
	signal(SIGINT, on_term);
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	atexit(remove_objects);

	/* Ping-pong needs a channel each way; streaming one. */
	const int nchan = latency ? 2 : 1;
	char *mem = NULL;
	switch (mech) {
	case SYSVMSG: {
		long msgmax = sysctl_value("/proc/sys/kernel/msgmax"), msgmnb = sysctl_value("/proc/sys/kernel/msgmnb");
		if (msgmax >= 0 && size > msgmax) return beyond("kernel.msgmax", msgmax);
		if (msgmnb >= 0 && size > msgmnb) return beyond("kernel.msgmnb", msgmnb);
		if ((msq = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600)) < 0) fail("msgget");
		break;
	}
	case POSIXMQ: {
		long max = sysctl_value("/proc/sys/fs/mqueue/msgsize_max");
		if (max >= 0 && size > max) return beyond("fs.mqueue.msgsize_max", max);
		break;
	}
	case SHM_SYSVSEM:
	case SHM_POSIXSEM:
		box_stride = (sizeof(struct box) + (size_t)size + LINE - 1) / LINE * LINE;
		mem = shared_memory((size_t)nchan * box_stride);
		if (mech == SHM_SYSVSEM) {
			/* per channel: full (0), empty (1) */
			unsigned short init[4] = {0, 1, 0, 1};
			if ((semset = semget(IPC_PRIVATE, 2 * nchan, IPC_CREAT | IPC_EXCL | 0600)) < 0) fail("semget");
			if (semctl(semset, 0, SETALL, init) < 0) fail("semctl SETALL");
		}
		break;
	case SHM_SPIN:
		slot_stride = ((size_t)size + 7) / 8 * 8;
		for (nslots = 2; 2 * nslots * slot_stride <= RING_BYTES;) nslots *= 2;
		mem = shared_memory((size_t)nchan * (sizeof(struct ring) + nslots * slot_stride));
		break;
	default: break;
	}
	struct chan ch[2];
	memset(ch, 0, sizeof ch);
	for (int i = 0; i < nchan; i++) open_chan(&ch[i], i, mem);

	char *msg = malloc((size_t)size), *buf = malloc((size_t)size);
	/* The stream buffer starts a page, as Go's large buffers and
	 * ipcbench's read-ahead do. malloc puts a 1 MiB buffer 16 bytes into
	 * a page, where the kernel's copy out of the pipe's page-aligned
	 * buffers meets 4K aliasing (the destination 1-31 bytes further into
	 * its page than the source): that read 4 KiB messages 3x slower here,
	 * a property of where the buffer is, not of the pipe. pipe-malloc
	 * is the pipe with the buffer from malloc. */
	char *stream = mech != PIPE || latency ? NULL : stream_malloc ? malloc(PIPE_READ) : aligned_alloc(4096, PIPE_READ);
	uint64_t *rtt = latency ? malloc(sizeof(uint64_t) * (size_t)count) : NULL;
	if (!msg || !buf || (latency && !rtt) || (mech == PIPE && !latency && !stream)) fail("malloc");
	for (int i = 0; i < size; i++) msg[i] = (char)(i * 7 + 1);

	fflush(stdout);
	/* SIGCHLD waits until peer is set: a child that fails at once must
	 * still be noticed. */
	sigset_t chld, old;
	sigemptyset(&chld), sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	signal(SIGCHLD, on_child);
	const pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) fail("fork");
	if (pid == 0) {
		/* The child echoes (latency) or sends (throughput). */
		peer = 0, owner = 0;
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) _exit(1); /* it died before the line above */
		pin(latency ? rx_cpu : tx_cpu);
		if (latency) {
			for (int i = 0; i < total; i++) chan_recv(&ch[0], buf), chan_send(&ch[1], buf);
		} else {
			if (mech == PIPE) close(ch[0].rfd);
			for (int i = 0; i < total; i++) chan_send(&ch[0], msg);
		}
		_exit(0);
	}
	peer = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	pin(latency ? tx_cpu : rx_cpu);

	if (latency) {
		for (int i = 0; i < total; i++) {
			uint64_t t0 = now();
			chan_send(&ch[0], msg);
			chan_recv(&ch[1], buf);
			uint64_t t1 = now();
			if (i >= warm) rtt[i - warm] = t1 - t0;
			if (memcmp(buf, msg, (size_t)size) != 0) { fprintf(stderr, "straight: reply %d differs from the message\n", i); exit(1); }
		}
		reap(pid);
		qsort(rtt, (size_t)count, sizeof *rtt, cmp_u64);
		printf("{\"program\":\"straight\",\"mechanism\":\"%s\",\"mode\":\"%s\",\"size\":%d,\"count\":%d,\"warmup\":%d,"
		       "\"sender_cpu\":%d,\"receiver_cpu\":%d,",
		       argv[1], argv[2], size, count, warm, tx_cpu, rx_cpu);
		printf("\"rtt_min_ns\":%llu,\"rtt_p50_ns\":%.0f,\"rtt_p99_ns\":%.0f,\"rtt_max_ns\":%llu}\n",
		       (unsigned long long)rtt[0], quantile(rtt, count, 0.5), quantile(rtt, count, 0.99),
		       (unsigned long long)rtt[count - 1]);
	} else {
		/* Time runs from the first measured message to the last; what
		 * arrived with the first (a pipe read may hold many) is left out
		 * of the rate, as it arrived before the clock started. */
		struct sum sum = {0, 0};
		uint64_t first = 0, last = 0, before_clock = 0;
		if (mech == PIPE) {
			close(ch[0].wfd);
			const uint64_t warm_bytes = (uint64_t)warm * (uint64_t)size, all = (uint64_t)total * (uint64_t)size;
			uint64_t got = 0;
			while (got < all) {
				ssize_t r = read(ch[0].rfd, stream, PIPE_READ);
				uint64_t t = now();
				if (r == 0) { fprintf(stderr, "straight: the other process closed the pipe after %llu bytes\n", (unsigned long long)got); exit(1); }
				if (r < 0) {
					if (errno == EINTR) continue;
					fail("read");
				}
				if (got + (uint64_t)r > all) { fprintf(stderr, "straight: more bytes than were sent\n"); exit(1); }
				uint64_t skip = got < warm_bytes ? warm_bytes - got : 0;
				got += (uint64_t)r;
				if (skip >= (uint64_t)r) continue;
				sum_bytes(&sum, (unsigned char *)stream + skip, (size_t)((uint64_t)r - skip));
				if (first == 0) first = t, before_clock = got - warm_bytes;
				last = t;
			}
		} else {
			for (int i = 0; i < total; i++) {
				chan_recv(&ch[0], buf);
				uint64_t t = now();
				if (i < warm) continue;
				sum_bytes(&sum, (unsigned char *)buf, (size_t)size);
				if (i == warm) first = t, before_clock = (uint64_t)size;
				last = t;
			}
		}
		reap(pid);
		const uint64_t bytes = (uint64_t)count * (uint64_t)size;
		if (last <= first || bytes <= before_clock) {
			fprintf(stderr, "straight: every measured message arrived at once; raise COUNT\n");
			exit(1);
		}
		double secs = (double)(last - first) / 1e9, timed = (double)(bytes - before_clock);
		printf("{\"program\":\"straight\",\"mechanism\":\"%s\",\"mode\":\"%s\",\"size\":%d,\"count\":%d,\"warmup\":%d,"
		       "\"sender_cpu\":%d,\"receiver_cpu\":%d,",
		       argv[1], argv[2], size, count, warm, tx_cpu, rx_cpu);
		printf("\"first_ns\":%llu,\"last_ns\":%llu,\"elapsed_ns\":%llu,\"bytes\":%llu,\"sum\":%llu,"
		       "\"msgs_per_sec\":%.0f,\"mb_per_sec\":%.3f}\n",
		       (unsigned long long)first, (unsigned long long)last, (unsigned long long)(last - first),
		       (unsigned long long)bytes, (unsigned long long)sum.s, timed / size / secs, timed / 1e6 / secs);
	}

	return 0;
}
