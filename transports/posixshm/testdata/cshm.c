/* cshm: a C peer of a posixshm channel with the posixsem strategy, using
   only shm_open(3), mmap(2) and glibc's sem_open/sem_wait/sem_post, so the
   Go tests can show that the Go channel and plain C share one object and
   its named semaphores. It speaks shmchan's layout (shmchan/layout.go).

   cshm open NAME N     attach as the opener; echo N messages back as
                        "echo: MSG"; set the opener's closed flag
   cshm create NAME N   create the object and semaphores (0600, O_EXCL),
                        print "ready", send N messages "hello N", read N
                        replies and check them, unlink every name, close

   The semaphores are NAME-f0, NAME-e0 (ring 0: creator to opener, "full"
   and "empty") and NAME-f1, NAME-e1 (ring 1). */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC 0x485342414c435049ULL /* "IPCLABSH" little-endian */
#define VERSION 1
#define POSIXSEM 3 /* shmchan.PosixSem */
#define CTRL 512
#define DATA 4096
#define LINE 128
#define KIND_MSG 1
#define KIND_PAD 2

struct ring {
	uint64_t *head, *tail;
	unsigned char *data;
	uint64_t size, align, pos;
	sem_t *full, *empty;
};

static unsigned char *seg;

static void die(const char *what)
{
	fprintf(stderr, "cshm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t u64at(int off) { return __atomic_load_n((uint64_t *)(seg + off), __ATOMIC_ACQUIRE); }
static uint32_t u32at(int off) { return __atomic_load_n((uint32_t *)(seg + off), __ATOMIC_ACQUIRE); }
static uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) & ~(a - 1); }

static sem_t *sem(const char *name, const char *suffix, int create)
{
	char n[300];
	snprintf(n, sizeof n, "%s%s", name, suffix);
	sem_t *s = create ? sem_open(n, O_CREAT | O_EXCL, 0600, 0) : sem_open(n, 0);
	if (s == SEM_FAILED)
		die(n);
	return s;
}

static void ring_init(struct ring *r, int idx, uint64_t size, uint64_t align, const char *name, int create)
{
	r->head = (uint64_t *)(seg + CTRL + idx * CTRL);
	r->tail = (uint64_t *)(seg + CTRL + idx * CTRL + LINE);
	r->data = seg + DATA + idx * size;
	r->size = size;
	r->align = align;
	r->full = sem(name, idx ? "-f1" : "-f0", create);
	r->empty = sem(name, idx ? "-e1" : "-e0", create);
}

/* send: wait for room as the Go producer does (take the piled-up "empty"
   tokens, look again, then sleep), write the record, publish, V(full). */
static void send(struct ring *r, const void *p, uint32_t n)
{
	uint64_t rec = align_up(8 + n, r->align);
	for (;;) {
		uint64_t contig = r->size - (r->pos & (r->size - 1));
		uint64_t need = rec > contig ? contig + rec : rec;
		if (r->size - (r->pos - __atomic_load_n(r->head, __ATOMIC_ACQUIRE)) >= need)
			break;
		while (sem_trywait(r->empty) == 0)
			;
		if (r->size - (r->pos - __atomic_load_n(r->head, __ATOMIC_ACQUIRE)) >= need)
			break;
		while (sem_wait(r->empty) != 0)
			if (errno != EINTR)
				die("sem_wait empty");
	}
	uint64_t idx = r->pos & (r->size - 1);
	if (rec > r->size - idx) {
		*(uint64_t *)(r->data + idx) = (r->size - idx - 8) | (uint64_t)KIND_PAD << 32;
		r->pos += r->size - idx;
		idx = 0;
	}
	*(uint64_t *)(r->data + idx) = n | (uint64_t)KIND_MSG << 32;
	memcpy(r->data + idx + 8, p, n);
	r->pos += rec;
	__atomic_store_n(r->tail, r->pos, __ATOMIC_RELEASE);
	if (sem_post(r->full) != 0)
		die("sem_post full");
}

/* recv: P(full), take the record (skipping padding), publish, V(empty). */
static uint32_t recv(struct ring *r, void *p, uint32_t cap)
{
	while (sem_wait(r->full) != 0)
		if (errno != EINTR)
			die("sem_wait full");
	uint64_t idx = r->pos & (r->size - 1);
	uint64_t h = *(uint64_t *)(r->data + idx);
	if (h >> 32 == KIND_PAD) {
		r->pos += r->size - idx;
		idx = 0;
		h = *(uint64_t *)(r->data + idx);
	}
	uint32_t n = (uint32_t)h;
	if (h >> 32 != KIND_MSG || n > cap) {
		fprintf(stderr, "cshm: bad record %#llx\n", (unsigned long long)h);
		exit(1);
	}
	memcpy(p, r->data + idx + 8, n);
	r->pos += align_up(8 + n, r->align);
	__atomic_store_n(r->head, r->pos, __ATOMIC_RELEASE);
	if (sem_post(r->empty) != 0 && errno != EOVERFLOW)
		die("sem_post empty");
	return n;
}

int main(int argc, char *argv[])
{
	if (argc != 4) {
		fprintf(stderr, "usage: cshm open|create NAME N\n");
		return 2;
	}
	const char *name = argv[2];
	int n = atoi(argv[3]);
	char buf[4096], want[4096];
	struct ring tx, rx;
	if (strcmp(argv[1], "open") == 0) {
		int fd = shm_open(name, O_RDWR, 0);
		if (fd < 0)
			die("shm_open");
		struct stat st;
		if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || st.st_size < DATA)
			die("fstat: not ours, or too small");
		seg = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (seg == MAP_FAILED)
			die("mmap");
		close(fd);
		uint64_t ring = u64at(24), align = u64at(40);
		if (u64at(0) != MAGIC || u32at(8) != VERSION || u32at(12) != POSIXSEM || u64at(16) != DATA + 2 * ring ||
		    (uint64_t)st.st_size < DATA + 2 * ring || ring == 0 || (ring & (ring - 1)) || align < 8) {
			fprintf(stderr, "cshm: not a posixsem channel this program reads\n");
			return 1;
		}
		/* Open the semaphores first, then say we are here: a creator that
		 * sees the opener's pid unlinks every name. */
		ring_init(&rx, 0, ring, align, name, 0);
		ring_init(&tx, 1, ring, align, name, 0);
		uint32_t zero = 0;
		if (!__atomic_compare_exchange_n((uint32_t *)(seg + 60), &zero, (uint32_t)getpid(), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			fprintf(stderr, "cshm: the channel already has an opener\n");
			return 1;
		}
		rx.pos = u64at(CTRL);
		tx.pos = u64at(2 * CTRL + LINE);
		for (int i = 0; i < n; i++) {
			uint32_t got = recv(&rx, buf, sizeof buf - 6);
			memmove(buf + 6, buf, got);
			memcpy(buf, "echo: ", 6);
			send(&tx, buf, got + 6);
		}
		__atomic_store_n((uint32_t *)(seg + 68), 1, __ATOMIC_SEQ_CST); /* the opener's closed flag */
		sem_post(tx.full); /* wake a Go reader, which finds the flag and an empty ring */
		printf("echoed %d\n", n);
		return 0;
	}
	if (strcmp(argv[1], "create") != 0) {
		fprintf(stderr, "cshm: unknown command %s\n", argv[1]);
		return 2;
	}
	uint64_t ring = 65536, align = 8, size = DATA + 2 * ring;
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		die("shm_open");
	if (ftruncate(fd, size) != 0)
		die("ftruncate");
	seg = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (seg == MAP_FAILED)
		die("mmap");
	close(fd);
	ring_init(&tx, 0, ring, align, name, 1); /* the semaphores before the magic: */
	ring_init(&rx, 1, ring, align, name, 1); /* an opener that sees it opens them */
	*(uint32_t *)(seg + 8) = VERSION;
	*(uint32_t *)(seg + 12) = POSIXSEM;
	*(uint64_t *)(seg + 16) = size;
	*(uint64_t *)(seg + 24) = ring;
	*(uint64_t *)(seg + 32) = 4096;
	*(uint64_t *)(seg + 40) = align;
	*(int32_t *)(seg + 48) = -1;
	*(uint32_t *)(seg + 56) = (uint32_t)getpid();
	__atomic_store_n((uint64_t *)seg, MAGIC, __ATOMIC_RELEASE);
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		int len = snprintf(buf, sizeof buf, "hello %d", i);
		send(&tx, buf, len);
	}
	for (int i = 0; i < n; i++) {
		uint32_t got = recv(&rx, buf, sizeof buf);
		int len = snprintf(want, sizeof want, "echo: hello %d", i);
		if (got != (uint32_t)len || memcmp(buf, want, len) != 0) {
			fprintf(stderr, "cshm: reply %d is %.*s, want %s\n", i, (int)got, buf, want);
			return 1;
		}
	}
	/* The opener has attached (it answered): the names can go. */
	char s[300];
	const char *suf[] = {"-f0", "-e0", "-f1", "-e1"};
	for (int i = 0; i < 4; i++) {
		snprintf(s, sizeof s, "%s%s", name, suf[i]);
		if (sem_unlink(s) != 0)
			die("sem_unlink");
	}
	if (shm_unlink(name) != 0)
		die("shm_unlink");
	__atomic_store_n((uint32_t *)(seg + 64), 1, __ATOMIC_SEQ_CST); /* the creator's closed flag */
	sem_post(tx.full);
	printf("checked %d\n", n);
	return 0;
}
