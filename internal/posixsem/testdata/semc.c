/* semc: glibc's named semaphores driven from the command line, so the Go
   tests can show that posixsem and sem_open(3) share one semaphore.

   semc create NAME VALUE   sem_open(NAME, O_CREAT|O_EXCL, 0600, VALUE)
   semc post NAME           sem_post, once
   semc wait NAME           sem_wait, once (blocks while the value is 0)
   semc value NAME          prints sem_getvalue's value
   semc unlink NAME         sem_unlink */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *name)
{
	fprintf(stderr, "semc: %s %s: %s\n", what, name, strerror(errno));
	exit(1);
}

int main(int argc, char *argv[])
{
	if (argc < 3) {
		fprintf(stderr, "usage: semc create|post|wait|value|unlink NAME [VALUE]\n");
		return 2;
	}
	const char *cmd = argv[1], *name = argv[2];
	if (strcmp(cmd, "unlink") == 0) {
		if (sem_unlink(name) != 0)
			die("sem_unlink", name);
		return 0;
	}
	sem_t *s;
	if (strcmp(cmd, "create") == 0 && argc == 4)
		s = sem_open(name, O_CREAT | O_EXCL, 0600, (unsigned)atoi(argv[3]));
	else
		s = sem_open(name, 0);
	if (s == SEM_FAILED)
		die("sem_open", name);
	if (strcmp(cmd, "post") == 0 && sem_post(s) != 0)
		die("sem_post", name);
	if (strcmp(cmd, "wait") == 0) {
		while (sem_wait(s) != 0)
			if (errno != EINTR)
				die("sem_wait", name);
		printf("took one\n");
	}
	if (strcmp(cmd, "value") == 0) {
		int v;
		if (sem_getvalue(s, &v) != 0)
			die("sem_getvalue", name);
		printf("%d\n", v);
	}
	return sem_close(s) == 0 ? 0 : 1;
}
