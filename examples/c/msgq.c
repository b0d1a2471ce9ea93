/* msgq.c (seed 001, "Comunicacion por Paso de Mensajes"): System V message
   queues with msgget, msgsnd and msgrcv, where the message type (mtype)
   selects what msgrcv takes.

   usage: msgq send PATH PROJ TYPE TEXT [TYPE TEXT ...]
          msgq recv PATH PROJ MSGTYP COUNT [rm]

   The key is ftok(PATH, PROJ); glibc keeps only the low 8 bits of PROJ, so
   any int works (1300 and 20 give the same key). send creates the queue if
   needed (0600) and sends each TEXT with its TYPE (>= 1). recv takes COUNT
   messages with msgrcv(..., MSGTYP, 0): 0 the first in the queue, > 0 the
   first of that type, < 0 the first of the lowest type <= |MSGTYP|; "rm"
   removes the queue afterwards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/types.h>

#define MAXTEXT 256

struct msgbuf_lab {
	long mtype;
	char mtext[MAXTEXT];
};

static long number(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s) {
		fprintf(stderr, "msgq: %s %s is not a number\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char *argv[])
{
	struct msgbuf_lab m;
	int i, id, send;
	key_t key;

	setvbuf(stdout, NULL, _IOLBF, 0); /* each line at once, even into a pipe */
	if (argc < 6 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		fprintf(stderr, "uso: msgq send RUTA PROJ TIPO TEXTO [TIPO TEXTO ...]\n"
				"     msgq recv RUTA PROJ MSGTYP CUANTOS [rm]\n");
		exit(2);
	}
	send = strcmp(argv[1], "send") == 0;
	key = ftok(argv[2], (int)number(argv[3], "proj"));
	if (key == -1) {
		perror("msgq: ftok");
		exit(1);
	}
	printf("key=0x%08x\n", (unsigned)key);
	/* msgget(key, flags): two arguments, not the seed's three */
	id = msgget(key, IPC_CREAT | 0600);
	if (id == -1) {
		perror("msgq: msgget");
		exit(1);
	}
	if (send) {
		if ((argc - 4) % 2 != 0) {
			fprintf(stderr, "msgq: send takes TYPE TEXT pairs\n");
			exit(2);
		}
		for (i = 4; i < argc; i += 2) {
			size_t n = strlen(argv[i + 1]);
			m.mtype = number(argv[i], "type");
			if (m.mtype < 1) {
				fprintf(stderr, "msgq: type %ld: msgsnd needs mtype >= 1\n", m.mtype);
				exit(2);
			}
			if (n > MAXTEXT) {
				fprintf(stderr, "msgq: text of %zu bytes is over MAXTEXT (%d)\n", n, MAXTEXT);
				exit(2);
			}
			memcpy(m.mtext, argv[i + 1], n);
			if (msgsnd(id, &m, n, 0) == -1) {
				perror("msgq: msgsnd");
				exit(1);
			}
			printf("sent mtype=%ld mtext=%.*s\n", m.mtype, (int)n, m.mtext);
		}
		return 0;
	}
	long msgtyp = number(argv[4], "msgtyp");
	long count = number(argv[5], "count");
	for (i = 0; i < count; i++) {
		ssize_t n = msgrcv(id, &m, MAXTEXT, msgtyp, 0);
		if (n == -1) {
			perror("msgq: msgrcv");
			exit(1);
		}
		printf("received mtype=%ld mtext=%.*s\n", m.mtype, (int)n, m.mtext);
	}
	if (argc > 6 && strcmp(argv[6], "rm") == 0 && msgctl(id, IPC_RMID, NULL) == -1) {
		perror("msgq: msgctl IPC_RMID");
		exit(1);
	}
	return 0;
}
