/* ftokshm.c (seeds 002 and 003, "Memoria Compartida", Practica 3): a key
   made with ftok, a segment of MAXBUF ints created exclusively and filled
   with 0..MAXBUF-1, kept until a line arrives on standard input, then
   detached and removed.

   usage: ftokshm serve [PATH [PROJ]]   the seed's program
          ftokshm read  [PATH [PROJ]]   attaches the same segment read-only
                                        and prints what it holds

   PATH and PROJ default to the seed's FILEKEY "/bin/cat" and KEY 1300.
   glibc's ftok keeps only the low 8 bits of PROJ (1300 acts as 20), so
   any int is accepted; the key printed shows the result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>

#define FILEKEY "/bin/cat" /* Util para ftok */
#define KEY 1300
#define MAXBUF 10

int main(int argc, char *argv[])
{
	int *buffer; /* shared buffer */
	int id_zone, i, c;
	key_t key;

	if (argc < 2 || argc > 4 || (strcmp(argv[1], "serve") && strcmp(argv[1], "read"))) {
		fprintf(stderr, "uso: ftokshm serve|read [RUTA [PROJ]]\n");
		return 2;
	}
	int serve = strcmp(argv[1], "serve") == 0;
	const char *path = argc > 2 ? argv[2] : FILEKEY;
	int proj = argc > 3 ? atoi(argv[3]) : KEY;

	/* Key to shared memory */
	key = ftok(path, proj);
	if (key == -1) {
		perror("Error with key (ftok)");
		return 1;
	}
	printf("key=0x%08x\n", (unsigned)key);

	if (serve) /* We create the shared memory */
		id_zone = shmget(key, sizeof(int) * MAXBUF, IPC_CREAT | IPC_EXCL | SHM_R | SHM_W);
	else
		id_zone = shmget(key, sizeof(int) * MAXBUF, 0);
	if (id_zone == -1) {
		perror("Error with shmget");
		return 1;
	}

	/* we link the zone to share */
	buffer = shmat(id_zone, NULL, serve ? 0 : SHM_RDONLY);
	if (buffer == (void *)-1) { /* shmat fails with (void *)-1, never NULL */
		perror("Error reserve shared memory (shmat)");
		if (serve)
			shmctl(id_zone, IPC_RMID, NULL);
		return 1;
	}

	if (!serve) {
		for (i = 0; i < MAXBUF; i++)
			printf("%d ", buffer[i]);
		printf("\n");
		return shmdt(buffer) == 0 ? 0 : 1;
	}

	for (i = 0; i < MAXBUF; i++)
		buffer[i] = i;
	printf("ready id=%d\n", id_zone);
	fflush(stdout);

	/* The daemon executes until press some character */
	do
		c = getchar();
	while (c != '\n' && c != EOF);

	/* Free the shared memory */
	if (shmdt(buffer) == -1)
		perror("shmdt");
	if (shmctl(id_zone, IPC_RMID, NULL) == -1) {
		perror("shmctl IPC_RMID");
		return 1;
	}
	printf("removed\n");
	return 0;
}
