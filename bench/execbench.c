// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * execbench: fork + execve + wait, timed per exec.
 *
 *   execbench count N PROG [ARGS...]        N execs in a row; prints median/p99/mean in µs (JSON)
 *   execbench storm SECONDS WORKERS PROG     WORKERS loops for SECONDS; prints total execs (JSON)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int run_once(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execve(argv[0], argv, environ);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "count")) {
		int n = atoi(argv[2]), failures = 0;
		double *lat = calloc(n, sizeof(*lat)), sum = 0;

		for (int i = 0; i < n; i++) {
			double t0 = now_us();
			if (run_once(argv + 3) != 0)
				failures++;
			lat[i] = now_us() - t0;
			sum += lat[i];
		}
		qsort(lat, n, sizeof(*lat), cmp);
		printf("{\"n\":%d,\"median_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f,\"failures\":%d}\n", n, lat[n / 2],
		       lat[(int)(n * 0.99)], sum / n, failures);
		return 0;
	}
	if (argc >= 5 && !strcmp(argv[1], "storm")) {
		double seconds = atof(argv[2]);
		int workers = atoi(argv[3]);
		int fds[2];
		long total = 0;

		if (pipe(fds))
			return 1;
		for (int w = 0; w < workers; w++) {
			if (fork() == 0) {
				long count = 0;
				double end = now_us() + seconds * 1e6;

				while (now_us() < end) {
					run_once(argv + 4);
					count++;
				}
				(void)!write(fds[1], &count, sizeof(count));
				_exit(0);
			}
		}
		close(fds[1]);
		for (int w = 0; w < workers; w++) {
			long c;
			if (read(fds[0], &c, sizeof(c)) == sizeof(c))
				total += c;
			wait(NULL);
		}
		printf("{\"execs\":%ld,\"seconds\":%.1f,\"workers\":%d}\n", total, seconds, workers);
		return 0;
	}
	fprintf(stderr, "usage: execbench count N PROG [ARGS...] | execbench storm SECONDS WORKERS PROG [ARGS...]\n");
	return 2;
}
