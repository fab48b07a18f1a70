/* Runs one agent and reports what it cost, for bench.py.
 *
 *   spawn [-i INFILE] TIMEOUT_S OUTFILE ERRFILE PROGRAM ARG...
 *
 * The agent's stdin is INFILE (a fence agent's key=value lines), else
 * /dev/null.
 * Prints "rc wall_s cpu_s maxrss_kb" on stdout. Written in C because the
 * peak RSS of a forked child starts at its parent's (Linux carries the
 * pre-exec high-water mark into ru_maxrss): forked from the Python harness,
 * every agent would weigh at least ~70 MB. This process is ~1 MB.
 *
 * It is a child subreaper, so descendants the agent orphans are reaped here
 * and counted: CPU is summed, peak RSS is the largest single process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;
static void on_alarm(int sig) { (void)sig; kill(-child, SIGKILL); }

int main(int argc, char **argv) {
    const char *in = "/dev/null";
    if (argc > 2 && argv[1][0] == '-' && argv[1][1] == 'i' && argv[1][2] == 0) {
        in = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc < 5) {
        fprintf(stderr, "usage: spawn [-i INFILE] TIMEOUT_S OUTFILE ERRFILE PROGRAM ARG...\n");
        return 2;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    child = fork();
    if (child < 0) { perror("fork"); return 2; }
    if (child == 0) {
        setsid();
        int o = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int n = open(in, O_RDONLY);
        if (o < 0 || e < 0 || n < 0) _exit(126);
        dup2(n, 0); dup2(o, 1); dup2(e, 2);
        execv(argv[4], argv + 4);
        _exit(127);
    }
    signal(SIGALRM, on_alarm);
    alarm((unsigned)atoi(argv[1]));
    int status = 0, st;
    struct rusage ru;
    double cpu = 0, wall = 0;
    long rss = 0;
    pid_t p;
    /* The agent first, then any orphans until none is left. */
    while ((p = wait4(-1, &st, 0, &ru)) > 0 || (p < 0 && errno == EINTR)) {
        if (p < 0) continue;
        cpu += ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        if (ru.ru_maxrss > rss) rss = ru.ru_maxrss;
        if (p == child) {
            status = st;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            wall = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        }
    }
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("%d %.6f %.6f %ld\n", rc, wall, cpu, rss);
    return 0;
}
