/* The C side of scripts/pingpong (see main.go): MODE 0 blocking reads, 1 ppoll then read, 2 read then ppoll on EAGAIN, 3 epoll_wait (on the pipe and the eventfd, one set per process) then read; usage: pingpong MODE CPU1 CPU2 N. */
#define _GNU_SOURCE
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
static int mode; static int efd; static int ep=-1;
static void rd(int fd, char *b, int n){
  int got=0;
  while(got<n){
    if(mode==3){ struct epoll_event e[2];
      if(ep<0){ ep=epoll_create1(0); struct epoll_event x={.events=EPOLLIN}; x.data.fd=fd; epoll_ctl(ep,EPOLL_CTL_ADD,fd,&x); x.data.fd=efd; epoll_ctl(ep,EPOLL_CTL_ADD,efd,&x);}
      if(epoll_wait(ep,e,2,-1)<0) exit(3);}
    if(mode==1){ struct pollfd p[2]={{fd,POLLIN,0},{efd,POLLIN,0}}; if(ppoll(p,2,NULL,NULL)<0) exit(3);} 
    ssize_t r=read(fd,b+got,n-got);
    if(r<0){ if(mode==2){ struct pollfd p[2]={{fd,POLLIN,0},{efd,POLLIN,0}}; ppoll(p,2,NULL,NULL); continue;} perror("read"); exit(2);} 
    if(r==0) exit(0);
    got+=r;
  }
}
static int cmp(const void*x,const void*y){double d=*(const double*)x-*(const double*)y; return d<0?-1:d>0;}
static double now(){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1e9+t.tv_nsec;}
int main(int argc,char**argv){
  if(argc!=5){ fprintf(stderr,"usage: pingpong MODE(0 blocking, 1 ppoll first, 2 ppoll on EAGAIN, 3 epoll_wait first) CPU1 CPU2 N\n"); return 2; }
  mode=atoi(argv[1]); int cpu1=atoi(argv[2]), cpu2=atoi(argv[3]); int n=atoi(argv[4]); int sz=64;
  int a[2],b[2]; pipe(a); pipe(b); efd=eventfd(0,0);
  if(mode){ fcntl(a[0],F_SETFL,O_NONBLOCK); fcntl(b[0],F_SETFL,O_NONBLOCK);} 
  char buf[4096]; memset(buf,1,sizeof buf);
  cpu_set_t s;
  pid_t pid=fork();
  if(pid==0){ CPU_ZERO(&s); CPU_SET(cpu2,&s); sched_setaffinity(0,sizeof s,&s);
    for(;;){ rd(a[0],buf,sz); write(b[1],buf,sz);} }
  CPU_ZERO(&s); CPU_SET(cpu1,&s); sched_setaffinity(0,sizeof s,&s);
  double *lat=malloc(n*sizeof(double));
  for(int i=0;i<n+1000;i++){ double t=now(); write(a[1],buf,sz); rd(b[0],buf,sz); if(i>=1000) lat[i-1000]=now()-t; }
  qsort(lat,n,sizeof(double),cmp);
  printf("mode %d p50 %.2f us p99 %.2f us\n",mode,lat[n/2]/1000,lat[n*99/100]/1000);
  kill(pid,SIGKILL); wait(NULL); return 0;
}
