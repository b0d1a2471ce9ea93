/* mqueue.c (seed 001, "Colas de mensajes POSIX"): mq_send and mq_receive
   with priorities, on a queue created with chosen attributes.

   usage: mqueue send NAME PRIO TEXT [PRIO TEXT ...]
          mqueue recv NAME COUNT [unlink]

   send creates NAME if needed (0600, mq_maxmsg 8, mq_msgsize 128) and
   sends each TEXT at its PRIO. recv prints the attributes (mq_getattr) and
   takes COUNT messages: the highest priority first, first in first out
   within one priority; "unlink" removes the queue afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXMSG 8
#define MSGSIZE 128

static long number(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 0) {
		fprintf(stderr, "mqueue: %s %s is not a number >= 0\n", what, s);
		exit(2);
	}
	return v;
}

static void print_attr(mqd_t q)
{
	struct mq_attr a;
	if (mq_getattr(q, &a) == -1) {
		perror("mqueue: mq_getattr");
		exit(1);
	}
	printf("mq_maxmsg=%ld mq_msgsize=%ld mq_curmsgs=%ld\n", a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs);
}

int main(int argc, char *argv[])
{
	int i;
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line at once, even into a pipe */
	if (argc < 4 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		fprintf(stderr, "uso: mqueue send NOMBRE PRIO TEXTO [PRIO TEXTO ...]\n"
				"     mqueue recv NOMBRE CUANTOS [unlink]\n");
		exit(2);
	}
	const char *name = argv[2];
	if (strcmp(argv[1], "send") == 0) {
		struct mq_attr attr = {.mq_maxmsg = MAXMSG, .mq_msgsize = MSGSIZE};
		if ((argc - 3) % 2 != 0) {
			fprintf(stderr, "mqueue: send takes PRIO TEXT pairs\n");
			exit(2);
		}
		/* mq_open(name, oflag, mode_t mode, struct mq_attr *attr) */
		mqd_t q = mq_open(name, O_WRONLY | O_CREAT, 0600, &attr);
		if (q == (mqd_t)-1) {
			perror("mqueue: mq_open");
			exit(1);
		}
		for (i = 3; i < argc; i += 2) {
			unsigned prio = (unsigned)number(argv[i], "priority");
			size_t n = strlen(argv[i + 1]);
			if (mq_send(q, argv[i + 1], n, prio) == -1) {
				perror("mqueue: mq_send");
				exit(1);
			}
			printf("sent prio=%u text=%s\n", prio, argv[i + 1]);
		}
		print_attr(q);
		return mq_close(q) == 0 ? 0 : 1;
	}
	long count = number(argv[3], "count");
	mqd_t q = mq_open(name, O_RDONLY);
	if (q == (mqd_t)-1) {
		perror("mqueue: mq_open");
		exit(1);
	}
	print_attr(q);
	struct mq_attr a;
	mq_getattr(q, &a);
	char *buf = malloc(a.mq_msgsize); /* mq_receive needs mq_msgsize bytes */
	if (buf == NULL) {
		perror("mqueue: malloc");
		exit(1);
	}
	for (i = 0; i < count; i++) {
		unsigned prio;
		ssize_t n = mq_receive(q, buf, a.mq_msgsize, &prio);
		if (n == -1) {
			perror("mqueue: mq_receive");
			exit(1);
		}
		printf("received prio=%u text=%.*s\n", prio, (int)n, buf);
	}
	free(buf);
	mq_close(q);
	if (argc > 4 && strcmp(argv[4], "unlink") == 0 && mq_unlink(name) == -1) {
		perror("mqueue: mq_unlink");
		exit(1);
	}
	return 0;
}
