// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The job-control tracer (issue 12, class 8): holds invisible to an interactive shell.
 *
 * A hold is a SIGSTOP sent at exec, a group stop: a shell with job control hears of it through
 * waitpid(WUNTRACED) before any verdict, reports the command `Stopped` and takes the terminal back. A task
 * that is ptraced does not group-stop on a signal: it stops for its tracer alone (signal-delivery-stop), and
 * the tracer may continue it with the signal suppressed. So this companion PTRACE_SEIZEs each interactive shell
 * of the tree (its children are attached by the kernel at fork), parks the tracees the kernel holds (the
 * `held` map names them), and lets each go without its SIGSTOP once the guard's verdict allows it: detached,
 * unless it is a job-control shell itself; a tracee whose exec is not held is detached at that exec. Every
 * other stop is passed on as it came: a signal is re-injected (Ctrl-Z's SIGTSTP then group-stops the job as
 * usual), a group stop is left to SIGCONT (PTRACE_LISTEN).
 *
 * A separate process, not a thread of the guard: a thread group that traces its own children hides their
 * group stops from itself and its waitpid(-1) reaps (the guard is a subreaper) would take the ptrace stops.
 * It dies with the guard (PR_SET_PDEATHSIG); a parked tracee has PTRACE_O_EXITKILL, so a lost guard kills it
 * instead of letting the kernel's detach run it (fail closed, class 7).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cbpf.h"

#define JC_BASE (PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)
#define JC_MAX 4096

enum { JC_SEIZE = 1, JC_RESUME = 2 };

struct jc_req {
	int op;
	pid_t pid;
	int keep;
};

/* What the companion knows of one tracee (a thread id). */
struct tracee {
	pid_t pid;
	bool parked;  /* in its hold's signal-delivery-stop, waiting for a verdict */
	bool release; /* the verdict came before the stop: let it go when the stop comes */
	bool keep;    /* stays traced once let go (a job-control shell) */
};

static struct tracee tab[JC_MAX];

static struct tracee *find(pid_t pid, bool add)
{
	struct tracee *free_slot = NULL;

	for (int i = 0; i < JC_MAX; i++) {
		if (tab[i].pid == pid)
			return &tab[i];
		if (!tab[i].pid && !free_slot)
			free_slot = &tab[i];
	}
	if (!add || !free_slot)
		return NULL;
	*free_slot = (struct tracee){ .pid = pid };
	return free_slot;
}

/* The tgid tracing pid (0: none, -1: unknown), from /proc. */
static pid_t tracer_of(pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *t = strstr(buf, "\nTracerPid:");
	return t ? (pid_t)atoi(t + 11) : -1;
}

/* Continues a held tracee without its SIGSTOP: traced still if it is a shell, else detached. */
static void let_go(struct tracee *t)
{
	if (t->keep) {
		ptrace(PTRACE_SETOPTIONS, t->pid, 0, JC_BASE);
		ptrace(PTRACE_CONT, t->pid, 0, 0);
		t->parked = t->release = false;
	} else {
		ptrace(PTRACE_DETACH, t->pid, 0, 0);
		t->pid = 0;
	}
}

/* One wait report of a tracee. */
static void stopped(cg_bpf *bpf, pid_t pid, int st)
{
	struct tracee *t;
	int ev = st >> 16, sig = WSTOPSIG(st);

	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		if ((t = find(pid, false)))
			t->pid = 0;
		return;
	}
	t = find(pid, true);
	if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE) {
		ptrace(PTRACE_CONT, pid, 0, 0);
		return;
	}
	if (ev == PTRACE_EVENT_EXEC) {
		/* After the kernel's verdict: a held exec stops next (SIGSTOP) and is let go by its verdict; any other
		 * runs untraced from here (its forks cost no stop, a debugger it is may trace its own children). */
		if (cg_bpf_is_held(bpf, (uint32_t)pid)) {
			ptrace(PTRACE_CONT, pid, 0, 0);
		} else {
			ptrace(PTRACE_DETACH, pid, 0, 0);
			if (t)
				t->pid = 0;
		}
		return;
	}
	if (ev == PTRACE_EVENT_STOP) {
		/* SIGTRAP: a new child's first stop, or woken from a group stop; else it is in a group stop. */
		ptrace(sig == SIGTRAP ? PTRACE_CONT : PTRACE_LISTEN, pid, 0, 0);
		return;
	}
	if (sig == SIGSTOP && t && (t->release || cg_bpf_is_held(bpf, (uint32_t)pid))) {
		if (t->release) {
			let_go(t);
			return;
		}
		/* Held: wait for the verdict; should the guard be lost meanwhile, the kernel kills it. */
		ptrace(PTRACE_SETOPTIONS, pid, 0, JC_BASE | PTRACE_O_EXITKILL);
		t->parked = true;
		return;
	}
	/* The SIGCONT a verdict sends a tracee not parked yet comes after its SIGSTOP is resolved (let go, flushed
	 * while pending, or ended a group stop): a release still pending then has nothing left to release. */
	if (sig == SIGCONT && t)
		t->release = false;
	ptrace(PTRACE_CONT, pid, 0, sig);
}

static int serve(cg_bpf *bpf, const struct jc_req *r)
{
	struct tracee *t = find(r->pid, false);

	if (!t && tracer_of(r->pid) == getpid())
		t = find(r->pid, true);
	if (r->op == JC_SEIZE) {
		if (t)
			return 0;
		if (ptrace(PTRACE_SEIZE, r->pid, 0, JC_BASE))
			return -errno;
		return find(r->pid, true) ? 0 : -ENOSPC;
	}
	if (!t)
		return -ESRCH;
	cg_bpf_unhold(bpf, (uint32_t)r->pid);
	t->keep = r->keep;
	if (t->parked) {
		let_go(t);
	} else {
		/* Its stop is still to come (let it go then), or it is group-stopped (seized while held). */
		t->release = true;
		kill(r->pid, SIGCONT);
	}
	return 0;
}

static void run(cg_bpf *bpf, int sock)
{
	sigset_t set;
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	struct jc_req r;
	int st;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pfd[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK), .events = POLLIN };
	for (;;) {
		while ((pid = waitpid(-1, &st, __WALL | WNOHANG)) > 0)
			stopped(bpf, pid, st);
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		while (read(pfd[1].fd, &si, sizeof(si)) == sizeof(si)) {
		}
		if (pfd[0].revents & (POLLHUP | POLLERR))
			_exit(0);
		if (pfd[0].revents & POLLIN) {
			ssize_t n = recv(sock, &r, sizeof(r), 0);
			if (n <= 0)
				_exit(0);
			int res = n == sizeof(r) ? serve(bpf, &r) : -EINVAL;
			if (send(sock, &res, sizeof(res), MSG_NOSIGNAL) != sizeof(res))
				_exit(0);
		}
	}
}

pid_t cg_jc_start(cg_bpf *bpf, int *sock)
{
	int sv[2];
	pid_t parent = getpid(), pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		close(sv[0]);
		cg_ignore_ending_signals(); /* the guard's to end us (PDEATHSIG), not the tree's */
		keep_only_bpf_fds(sv[1], true);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != parent)
			_exit(0);
		run(bpf, sv[1]);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

static int call(int sock, int op, pid_t pid, bool keep)
{
	struct jc_req r = { .op = op, .pid = pid, .keep = keep };
	int res;

	if (send(sock, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
		return -errno;
	if (recv(sock, &res, sizeof(res), 0) != sizeof(res))
		return -EPIPE;
	return res;
}

int cg_jc_seize(int sock, pid_t pid)
{
	return call(sock, JC_SEIZE, pid, false);
}

int cg_jc_resume(int sock, pid_t pid, bool keep)
{
	return call(sock, JC_RESUME, pid, keep);
}
