/* The shared-memory ping-pong of ipclab's shmchan, in plain C, so the Go
 * numbers have a reference: two processes (fork), one SysV segment, a
 * message of SIZE bytes each way per round trip.
 *
 *   shm_pingpong sem  N SIZE   SysV semaphores, the textbook P/V pairing
 *   shm_pingpong spin N SIZE   busy-wait on a sequence number
 *
 * Prints: mode size n p50_ns p99_ns min_ns
 * Build: gcc -O2 -o shm_pingpong shm_pingpong.c */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct box {
	_Alignas(128) volatile uint64_t seq; /* spin: bumped by the writer */
	_Alignas(128) char data[1 << 20];
};
struct seg { struct box ping, pong; };

static int semid;
static void P(int n) { struct sembuf op = {n, -1, 0}; if (semop(semid, &op, 1)) { perror("semop"); exit(1); } }
static void V(int n) { struct sembuf op = {n, 1, 0}; if (semop(semid, &op, 1)) { perror("semop"); exit(1); } }
static uint64_t now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000ull + t.tv_nsec; }
static int cmp(const void *a, const void *b) { uint64_t x = *(uint64_t *)a, y = *(uint64_t *)b; return x < y ? -1 : x > y; }

/* Semaphores: 0 ping full, 1 ping empty, 2 pong full, 3 pong empty. */
static void send_sem(struct box *b, int full, const char *m, int size) { P(full + 1); memcpy(b->data, m, size); V(full); }
static void recv_sem(struct box *b, int full, char *m, int size) { P(full); memcpy(m, b->data, size); V(full + 1); }
static void send_spin(struct box *b, const char *m, int size, uint64_t *s) { memcpy(b->data, m, size); __atomic_store_n(&b->seq, ++*s, __ATOMIC_RELEASE); }
static void recv_spin(struct box *b, char *m, int size, uint64_t *s) { while (__atomic_load_n(&b->seq, __ATOMIC_ACQUIRE) == *s) ; ++*s; memcpy(m, b->data, size); }

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: shm_pingpong sem|spin N SIZE\n"); return 2; }
	int spin = strcmp(argv[1], "spin") == 0, n = atoi(argv[2]), size = atoi(argv[3]), warm = 1000;
	if (size < 1 || size > (1 << 20) || n < 1) { fprintf(stderr, "1 <= SIZE <= 1 MiB, N >= 1\n"); return 2; }
	int shmid = shmget(IPC_PRIVATE, sizeof(struct seg), IPC_CREAT | IPC_EXCL | 0600);
	if (shmid < 0) { perror("shmget"); return 1; }
	struct seg *s = shmat(shmid, NULL, 0);
	shmctl(shmid, IPC_RMID, NULL); /* gone once both have detached */
	if (s == (void *)-1) { perror("shmat"); return 1; }
	semid = semget(IPC_PRIVATE, 4, IPC_CREAT | IPC_EXCL | 0600);
	if (semid < 0) { perror("semget"); return 1; }
	semctl(semid, 1, SETVAL, 1);
	semctl(semid, 3, SETVAL, 1);
	char *m = calloc(1, size), *r = calloc(1, size);
	pid_t pid = fork();
	if (pid == 0) { /* echo */
		uint64_t in = 0, out = 0;
		for (int i = 0; i < warm + n; i++) {
			if (spin) { recv_spin(&s->ping, r, size, &in); send_spin(&s->pong, r, size, &out); }
			else { recv_sem(&s->ping, 0, r, size); send_sem(&s->pong, 2, r, size); }
		}
		_exit(0);
	}
	uint64_t *rtt = malloc(n * sizeof *rtt), in = 0, out = 0;
	for (int i = 0; i < warm + n; i++) {
		uint64_t t0 = now();
		if (spin) { send_spin(&s->ping, m, size, &out); recv_spin(&s->pong, r, size, &in); }
		else { send_sem(&s->ping, 0, m, size); recv_sem(&s->pong, 2, r, size); }
		if (i >= warm) rtt[i - warm] = now() - t0;
	}
	waitpid(pid, NULL, 0);
	semctl(semid, 0, IPC_RMID);
	shmdt(s);
	qsort(rtt, n, sizeof *rtt, cmp);
	printf("%s %d %d %llu %llu %llu\n", argv[1], size, n, (unsigned long long)rtt[n / 2],
	       (unsigned long long)rtt[n * 99 / 100], (unsigned long long)rtt[0]);
	return 0;
}
