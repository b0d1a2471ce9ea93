/* shmstat.c (seed 004, "Shared Memory", after Advanced Linux Programming):
   a private segment (IPC_PRIVATE), its size read back with IPC_STAT, a
   string written, the segment detached and attached again at another
   address, and finally removed with IPC_RMID.

   usage: shmstat             the seed's program, in one process
          shmstat create      creates the segment, writes the string, prints
                              its id, waits for a line on stdin, removes it
          shmstat attach ID   what the seed does after the first detach, on
                              a segment another process created: IPC_PRIVATE
                              only means "no key"; the id reaches it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define REATTACH_AT ((void *)0x5000000)

static int stat_and_reattach(int segment_id)
{
	struct shmid_ds shmbuffer;
	char *shared_memory;

	/* Determine the segment's size. */
	if (shmctl(segment_id, IPC_STAT, &shmbuffer) == -1) {
		perror("shmctl IPC_STAT");
		return -1;
	}
	printf("segment size: %zu\n", (size_t)shmbuffer.shm_segsz);
	printf("creator pid: %d\n", (int)shmbuffer.shm_cpid);
	/* Reattach the shared memory segment, at a different address. */
	shared_memory = shmat(segment_id, REATTACH_AT, 0);
	if (shared_memory == (void *)-1) {
		perror("shmat at 0x5000000");
		return -1;
	}
	printf("shared memory reattached at address %p\n", (void *)shared_memory);
	/* Print out the string from shared memory. */
	printf("%s\n", shared_memory);
	/* Detach the shared memory segment. */
	return shmdt(shared_memory);
}

int main(int argc, char *argv[])
{
	int segment_id;
	char *shared_memory;
	const int shared_segment_size = 0x6400;

	if (argc == 3 && strcmp(argv[1], "attach") == 0)
		return stat_and_reattach(atoi(argv[2])) == 0 ? 0 : 1;
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "create"))) {
		fprintf(stderr, "uso: shmstat [create | attach ID]\n");
		return 2;
	}

	/* Allocate a shared memory segment. */
	segment_id = shmget(IPC_PRIVATE, shared_segment_size, IPC_CREAT | IPC_EXCL | S_IRUSR | S_IWUSR);
	if (segment_id == -1) {
		perror("shmget");
		return 1;
	}
	/* Attach the shared memory segment. */
	shared_memory = shmat(segment_id, NULL, 0);
	if (shared_memory == (void *)-1) {
		perror("shmat");
		shmctl(segment_id, IPC_RMID, NULL);
		return 1;
	}
	printf("shared memory attached at address %p\n", (void *)shared_memory);
	/* Write a string to the shared memory segment. */
	sprintf(shared_memory, "Hello, world");
	/* Detach the shared memory segment. */
	shmdt(shared_memory);

	int rc = 0;
	if (argc == 2) { /* create: another process attaches by id meanwhile */
		printf("id=%d\n", segment_id);
		fflush(stdout);
		int c;
		do
			c = getchar();
		while (c != '\n' && c != EOF);
	} else if (stat_and_reattach(segment_id) != 0) {
		rc = 1;
	}
	/* Deallocate the shared memory segment. */
	if (shmctl(segment_id, IPC_RMID, NULL) == -1) {
		perror("shmctl IPC_RMID");
		return 1;
	}
	printf("removed\n");
	return rc;
}
