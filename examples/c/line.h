/* line.h: what pline and cline share (seed 000, "1.3 Un ejemplo de
   memoria compartida"). gcc lays struct info out as c at offset 0, three
   bytes of padding, length at offset 4: 8 bytes, which the Go programs
   mirror in examples/line. */
#ifndef LINE_H
#define LINE_H

#include <sys/types.h>

struct info {
	char c;
	int length;
};

#define KEY ((key_t)(1234))
#define SEGSIZE sizeof(struct info)

#endif
