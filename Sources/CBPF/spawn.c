// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The process side of `run`: the gated child, the stop handlers, the subreaper; see include/cbpf.h. */
#define _GNU_SOURCE
#include "cbpf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <bpf/bpf.h>

pid_t cg_spawn_gated(const char *file, char *const argv[], const int *rulesets, int nrulesets, int *gate,
		     int *report)
{
	int g[2], r[2];
	pid_t pid;

	if (pipe2(g, O_CLOEXEC))
		return -errno;
	if (pipe2(r, O_CLOEXEC)) {
		int err = -errno;
		close(g[0]);
		close(g[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(g[0]); close(g[1]); close(r[0]); close(r[1]);
		return err;
	}
	if (pid == 0) {
		/* Child: only async-signal-safe calls from here on. */
		char go;
		sigset_t none;
		int err;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		close(g[1]);
		close(r[0]);
		if (read(g[0], &go, 1) != 1)
			_exit(127);
		err = cg_landlock_restrict(rulesets, nrulesets);
		if (err) {
			err |= CG_SPAWN_LANDLOCK;
			(void)!write(r[1], &err, sizeof(err));
			_exit(127);
		}
		execvp(file, argv);
		err = errno;
		(void)!write(r[1], &err, sizeof(err));
		_exit(127);
	}
	close(g[0]);
	close(r[1]);
	*gate = g[1];
	*report = r[0];
	return pid;
}

int cg_gate_open(int gate, int report)
{
	char go = 1;
	int err = 0;
	ssize_t n;

	n = write(gate, &go, 1);
	close(gate);
	if (n != 1) {
		close(report);
		return -EPIPE;
	}
	/* EOF (exec closed the pipe) means success; 4 bytes mean execvp failed. */
	do {
		n = read(report, &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(report);
	return n == sizeof(err) ? -err : 0;
}

static volatile sig_atomic_t stop_signal;
int cg_tamperers_fd = -1;

/* The signals whose default action ends a process (the ones it can catch; glibc keeps the first real-time ones). */
static int ending_signal(int i)
{
	static const int fixed[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF,
				     SIGIO, SIGXCPU, SIGXFSZ, SIGSTKFLT, SIGPWR };
	int n = sizeof(fixed) / sizeof(fixed[0]);

	if (i < n)
		return fixed[i];
	return SIGRTMIN + (i - n) <= SIGRTMAX ? SIGRTMIN + (i - n) : 0;
}

/* A signal sent by the guard's own tree (the kernel wrote its sender into `tamperers` before generating it): a
 * violation already reported and acted on, never a request to stop. bpf_map_lookup_elem is one system call. */
static int from_tree(const siginfo_t *si)
{
	uint32_t key, sig;

	if (cg_tamperers_fd < 0 || !si || si->si_code > 0)
		return 0;
	key = (uint32_t)si->si_pid;
	return bpf_map_lookup_elem(cg_tamperers_fd, &key, &sig) == 0;
}

static void on_stop(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)uc;
	if (!from_tree(si))
		stop_signal = sig;
	errno = saved;
}

void cg_install_stop_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_stop;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (int i = 0, sig; (sig = ending_signal(i)); i++)
		sigaction(sig, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void cg_ignore_ending_signals(void)
{
	for (int i = 0, sig; (sig = ending_signal(i)); i++)
		signal(sig, SIG_IGN);
}

int cg_stop_requested(void)
{
	return stop_signal;
}

int cg_set_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) ? -errno : 0;
}
