/* forkshm.c (seed 001, "EJEMPLO: memoria compartida"): a child process
   writes 0..9 into a shared segment, one value every two time units, and its
   parent prints the ten values twenty times, one time unit apart; a named
   POSIX semaphore (initial value 1) guards the buffer.

   usage: forkshm [both|producer|consumer [unit_ms [rounds]]]

   "both" (the default) is the seed: fork, the child produces, the parent
   consumes, waits for the child and removes the semaphore and the segment.
   "producer" and "consumer" run one side alone, so that a Go side can meet
   a C side (the consumer removes both objects when it is done). The key is
   ftok("ipc1", 0): the file ipc1 must exist in the current directory. */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHM_SIZE 1024 /* 1K segmento de memoria compartida */
#define SEM_NAME "/sem_ipc1"

static sem_t *sem_1; /* puntero para el identificador de los semaforos */
static int shmid;    /* manejador de memoria compartida */

/* sleep_ms sleeps ms milliseconds (usleep may refuse a second or more). */
static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void producer(int *data, long unit_ms)
{
	int i;
	printf("Soy el hijo con PID (escribo en el buffer):%d\n", getpid());
	fflush(stdout);
	for (i = 0; i < 10; i++) {
		sem_wait(sem_1); /* Seccion de entrada */
		data[i] = i;     /* Seccion critica */
		sem_post(sem_1); /* Seccion de salida */
		sleep_ms(2 * unit_ms);
	}
	sem_close(sem_1);
	if (shmdt(data) == -1) {
		perror("Error desconectando segmento de memoria con shmdt");
		exit(1);
	}
	printf("Soy el hijo y termino.....\n");
}

static void consumer(int *data, long unit_ms, int rounds)
{
	int i, j;
	printf("Soy el padre con PID (leo del buffer):%d\n", getpid());
	for (j = 0; j < rounds; j++) {
		sem_wait(sem_1); /* Seccion de entrada */
		for (i = 0; i < 10; i++) /* Seccion critica: muestra los 10 valores */
			printf("%3d ", data[i]);
		printf("\n");
		fflush(stdout);
		sem_post(sem_1); /* Seccion de salida */
		sleep_ms(unit_ms);
	}
	sem_close(sem_1);
	if (shmdt(data) == -1) {
		perror("Error desconectando segmento de memoria con shmdt");
		exit(1);
	}
}

static void destroy(void)
{
	printf("Soy el padre destruyo los semaforos/memoria compartida y termino\n");
	if (sem_unlink(SEM_NAME) == -1) /* the name sem_open used */
		perror("Error eliminando el semaforo con sem_unlink");
	if (shmctl(shmid, IPC_RMID, NULL) == -1) {
		perror("Error eliminando segmento de memoria con shmctl");
		exit(1);
	}
}

int main(int argc, char *argv[])
{
	const char *role = argc > 1 ? argv[1] : "both";
	long unit_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
	int rounds = argc > 3 ? atoi(argv[3]) : 20;
	key_t key;
	int *data;
	pid_t hijo;

	if (argc > 4 || unit_ms <= 0 || rounds <= 0 ||
	    (strcmp(role, "both") && strcmp(role, "producer") && strcmp(role, "consumer"))) {
		fprintf(stderr, "uso: forkshm [both|producer|consumer [unidad_ms [rondas]]]\n");
		exit(2);
	}
	printf("Creando semaforos .....\n");
	/* comprueba si ya existe el semaforo sino lo crea desbloqueado (1) */
	if ((sem_1 = sem_open(SEM_NAME, O_CREAT, 0600, 1)) == SEM_FAILED) {
		perror("Error creando semaforo 1");
		exit(1);
	}
	printf("Creando Region de memoria compartida .....\n");
	if ((key = ftok("ipc1", 0)) == -1) {
		perror("Error creando clave con ftok (does the file ipc1 exist?)");
		exit(1);
	}
	if ((shmid = shmget(key, SHM_SIZE, IPC_CREAT | 0600)) == -1) {
		perror("Error creando segmento memoria con shmget");
		exit(1);
	}
	data = shmat(shmid, NULL, 0);
	if (data == (void *)-1) {
		perror("Error obteniendo el puntero con shmat");
		exit(1);
	}

	if (strcmp(role, "producer") == 0) {
		producer(data, unit_ms);
		exit(0);
	}
	if (strcmp(role, "consumer") == 0) {
		consumer(data, unit_ms, rounds);
		destroy();
		exit(0);
	}

	printf("Creando proceso hijo .....\n");
	fflush(stdout); /* or the child inherits, and prints again, what is buffered */
	hijo = fork();
	switch (hijo) {
	case -1:
		perror("error creando proceso hijo");
		exit(1);
	case 0: /* estamos en el hijo, escribir valores en segmento de memoria */
		producer(data, unit_ms);
		exit(0);
	default: /* estamos en el padre, leer valores del segmento compartido */
		consumer(data, unit_ms, rounds);
		printf("Soy el padre espero que termine el hijo .....\n");
		fflush(stdout);
		if (waitpid(hijo, NULL, 0) == -1)
			perror("waitpid");
		destroy();
	}
	exit(0);
}
