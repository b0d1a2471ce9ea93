/* cline.c (seed 000): writes a character and a length into the struct info
   that pline prints from; the segment must exist already.

   usage: cline <char> <length> */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>
#include "line.h"

int main(int argc, char *argv[])
{
	int id;
	long length;
	char *end;
	volatile struct info *ctrl;

	if (argc != 3 || argv[1][0] == '\0' || argv[1][1] != '\0') {
		fprintf(stderr, "uso: cline <char> <length>\n");
		exit(3);
	}
	errno = 0;
	length = strtol(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || end == argv[2] || length < INT_MIN || length > INT_MAX) {
		fprintf(stderr, "cline: length %s is not an int\n", argv[2]);
		exit(3);
	}
	id = shmget(KEY, SEGSIZE, 0);
	if (id < 0) {
		perror("cline: shmget failed (is pline running?)");
		exit(1);
	}
	ctrl = shmat(id, NULL, 0);
	if (ctrl == (void *)-1) {
		perror("cline: shmat failed");
		exit(2);
	}

	/* Copia los datos de la linea de comandos en el segmento de memoria compartida */
	ctrl->c = argv[1][0];
	ctrl->length = (int)length;

	if (shmdt((void *)ctrl) < 0) {
		perror("cline: shmdt failed");
		exit(2);
	}
	exit(0);
}
