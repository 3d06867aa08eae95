/* The price of a uprobe trap on this machine, apart from claude-guard: a call of a trivial function, timed
 * bare, with a perf uprobe on it, and with a perf uretprobe on it (bench/ssl/run.sh). */
#include <stdio.h>
#include <time.h>

__attribute__((noinline)) int target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

int main(void)
{
	struct timespec a, b;
	int s = 0, n = 200000;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		s += target(i);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.3f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1000 + (s == 42) * 0.0);
	return 0;
}
