// stream.c: the C side of scripts/pipestream, pinned to a CPU.
//   r CPU BYTES: read fd 3 (up to 64 KiB a call) until BYTES, then write a byte to fd 4.
//   w CPU N SIZE: write N frames (a 4-byte length, SIZE bytes) to fd 4, one write(2) each.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
	if (argc < 4) { fprintf(stderr, "usage: stream r|w CPU BYTES|N [SIZE]\n"); return 2; }
	cpu_set_t set; CPU_ZERO(&set); CPU_SET(atoi(argv[2]), &set);
	if (sched_setaffinity(0, sizeof set, &set)) { perror("affinity"); return 1; }
	if (argv[1][0] == 'r') {
		long long total = atoll(argv[3]), got = 0;
		static char buf[65536] __attribute__((aligned(64)));
		while (got < total) {
			ssize_t n = read(3, buf, sizeof buf);
			if (n <= 0) { perror("read"); return 1; }
			got += n;
		}
		char b = 1; write(4, &b, 1);
		return 0;
	}
	if (argc < 5) { fprintf(stderr, "usage: stream w CPU N SIZE\n"); return 2; }
	long n = atol(argv[3]); int size = atoi(argv[4]);
	if (size < 0 || size > 65536 - 4) { fprintf(stderr, "stream: SIZE %d: at most 65532\n", size); return 2; }
	static char frame[65536] __attribute__((aligned(64)));
	*(unsigned *)frame = size;
	for (long i = 0; i < n; i++)
		if (write(4, frame, size + 4) != size + 4) { perror("write"); return 1; }
	return 0;
}
