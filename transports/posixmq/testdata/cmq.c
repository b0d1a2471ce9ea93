/* The opener's part of an ipclab posixmq channel in plain C: receive from
 * NAME.1, answer on NAME.2 with priority 3.   cmq /NAME */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
	if (argc != 2) { fprintf(stderr, "usage: cmq /NAME\n"); return 2; }
	char in[256], out[256];
	snprintf(in, sizeof in, "%s.1", argv[1]);
	snprintf(out, sizeof out, "%s.2", argv[1]);
	mqd_t r = mq_open(in, O_RDONLY), w = mq_open(out, O_WRONLY);
	if (r == (mqd_t)-1 || w == (mqd_t)-1) { perror("mq_open"); return 1; }
	struct mq_attr a;
	mq_getattr(r, &a);
	char buf[a.mq_msgsize];
	unsigned prio;
	ssize_t n = mq_receive(r, buf, sizeof buf, &prio);
	if (n < 0) { perror("mq_receive"); return 1; }
	printf("got %zd bytes at priority %u: %.*s\n", n, prio, (int)n, buf);
	const char *reply = "hello from C";
	if (mq_send(w, reply, strlen(reply), 3) < 0) { perror("mq_send"); return 1; }
	return 0;
}
