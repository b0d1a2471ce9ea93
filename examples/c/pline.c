/* pline.c (seed 000): prints a line of ctrl->length copies of ctrl->c every
   four seconds, both read from struct info in a shared segment that cline
   changes; it ends when the length is 0 or less, and removes the segment.

   usage: pline [interval_ms]   (default 4000, the seed's sleep(4)) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include "line.h"

/* sleep_ms sleeps ms milliseconds (usleep may refuse a second or more). */
static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int main(int argc, char *argv[])
{
	int i, id;
	long interval_ms = 4000;
	volatile struct info *ctrl; /* another process writes it */

	if (argc > 2 || (argc == 2 && (interval_ms = strtol(argv[1], NULL, 10)) <= 0)) {
		fprintf(stderr, "uso: pline [intervalo_ms]\n");
		exit(3);
	}
	id = shmget(KEY, SEGSIZE, IPC_CREAT | 0600);
	if (id < 0) {
		perror("pline: shmget failed");
		exit(1);
	}
	ctrl = shmat(id, NULL, 0);
	if (ctrl == (void *)-1) {
		perror("pline: shmat failed");
		exit(2);
	}
	/* Inicia los parametros por defecto */
	ctrl->c = 'a';
	ctrl->length = 10;

	/* Este bucle imprime una linea cada 4 segundos */
	while (ctrl->length > 0) {
		int length = ctrl->length;
		char c = ctrl->c;
		for (i = 0; i < length; i++)
			putchar(c);
		putchar('\n');
		fflush(stdout); /* a pipe or file is block-buffered */
		sleep_ms(interval_ms);
	}
	if (shmdt((void *)ctrl) < 0)
		perror("pline: shmdt failed");
	if (shmctl(id, IPC_RMID, NULL) < 0) {
		perror("pline: shmctl failed");
		exit(3);
	}
	exit(0);
}
