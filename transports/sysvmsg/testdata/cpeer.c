/* The opener's part of an ipclab sysvmsg channel, in plain C as in the
 * course material: receive mtype 1, answer with mtype 2.
 *   cpeer ftok PATH ID    print ftok(PATH, ID) in hex
 *   cpeer KEY             receive one message, print it, send a reply */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct msg { long mtype; char mtext[8192]; };

int main(int argc, char **argv) {
	if (argc == 4 && strcmp(argv[1], "ftok") == 0) {
		key_t k = ftok(argv[2], atoi(argv[3]));
		if (k == -1) { perror("ftok"); return 1; }
		printf("0x%08x\n", (unsigned)k);
		return 0;
	}
	if (argc != 2) { fprintf(stderr, "usage: cpeer KEY | cpeer ftok PATH ID\n"); return 2; }
	key_t key = (key_t)strtoul(argv[1], NULL, 0);
	int id = msgget(key, 0);
	if (id < 0) { perror("msgget"); return 1; }
	struct msg m;
	ssize_t n = msgrcv(id, &m, sizeof m.mtext, 1, 0);
	if (n < 0) { perror("msgrcv"); return 1; }
	printf("got %zd bytes: %.*s\n", n, (int)n, m.mtext);
	m.mtype = 2;
	strcpy(m.mtext, "hello from C");
	if (msgsnd(id, &m, strlen(m.mtext), 0) < 0) { perror("msgsnd"); return 1; }
	return 0;
}
