// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libbpf shim: owns the skeleton and the ring buffer; see include/cbpf.h. */
#define _GNU_SOURCE
#include "cbpf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "claude_guard.skel.h"

struct cg_bpf {
	struct claude_guard_bpf *skel;
	struct ring_buffer *rb;
	bool fails;
	long busy_poll_us;        /* spin this long after the last record before sleeping */
	uint64_t last_record_ns;  /* CLOCK_MONOTONIC of the last record read */
};

/* A spin-wait hint to the CPU: the pause or yield instruction of the build's architecture. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void cg_bpf_set_busy_poll(cg_bpf *bpf, long us)
{
	bpf->busy_poll_us = us;
}

/* libbpf's warnings, kept so a failed load can show the verifier's last lines. */
static char last_log[8192];
static size_t last_log_len;

static int log_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[1024];
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, args);
	if (n <= 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (last_log_len + n >= sizeof(last_log)) {
		/* Keep the tail: drop the older half. */
		size_t keep = last_log_len / 2;
		memmove(last_log, last_log + last_log_len - keep, keep);
		last_log_len = keep;
	}
	if ((size_t)n < sizeof(last_log) - last_log_len) {
		memcpy(last_log + last_log_len, line, n);
		last_log_len += n;
		last_log[last_log_len] = 0;
	}
	return 0;
}

const char *cg_bpf_last_log(void)
{
	return last_log;
}

int cg_bpf_load(const struct cg_config *cfg, cg_bpf **out)
{
	struct cg_bpf *bpf;
	int err;

	libbpf_set_print(log_print);
	last_log_len = 0;
	last_log[0] = 0;
	bpf = calloc(1, sizeof(*bpf));
	if (!bpf)
		return -ENOMEM;
	bpf->fails = cfg->fails;
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = cfg->btf_path);
	bpf->skel = claude_guard_bpf__open_opts(&opts);
	if (!bpf->skel) {
		err = -errno;
		free(bpf);
		return err ? err : -EINVAL;
	}
	bpf->skel->rodata->enforce = cfg->enforce;
	bpf->skel->rodata->default_verdict = cfg->default_verdict;
	bpf->skel->rodata->unreported_verdict = cfg->unreported_verdict;
	/* Failed-exec and resume-guard programs load only when used. */
	bpf_program__set_autoload(bpf->skel->progs.handle_enter_execve, cfg->fails);
	bpf_program__set_autoload(bpf->skel->progs.handle_enter_execveat, cfg->fails);
	bpf_program__set_autoload(bpf->skel->progs.handle_exit_execve, cfg->fails);
	bpf_program__set_autoload(bpf->skel->progs.handle_exit_execveat, cfg->fails);
	/* sys_enter: the resume guard, file calls, and ptrace by tracked tasks (seen in audit mode too). */
	bpf->skel->rodata->ptrace_verdict = cfg->ptrace_verdict;
	bpf_program__set_autoload(bpf->skel->progs.handle_sys_exit, cfg->files);
	/* io_uring's opens and writes of /proc/PID/mem, with file rules, where the kernel has io_uring. */
	bpf_program__set_autoload(bpf->skel->progs.handle_uring_complete,
				  cfg->files && libbpf_find_vmlinux_btf_id("io_uring_complete", BPF_TRACE_RAW_TP) > 0);
	/* The readline probe loads unless -B; it is attached per bash file (cbash.c). */
	bpf_program__set_autoload(bpf->skel->progs.bash_readline_return, cfg->bash);
	bpf->skel->rodata->files_on = cfg->files;
	bpf->skel->rodata->files_all = cfg->files_all;
	bpf->skel->rodata->watch_on = cfg->watch;
	/* The tree's signals to the guard's own processes (claude_guard_tamper.bpf.h). */
	bpf->skel->rodata->tamper_on = cfg->tamper;
	bpf->skel->rodata->tamper_verdict = cfg->tamper_verdict;
	bpf_program__set_autoload(bpf->skel->progs.handle_signal_generate, cfg->tamper);
	bpf_program__set_autoload(bpf->skel->progs.handle_exit_kill, cfg->tamper);
	bpf_program__set_autoload(bpf->skel->progs.handle_exit_tkill, cfg->tamper);
	bpf_program__set_autoload(bpf->skel->progs.handle_exit_tgkill, cfg->tamper);
	bpf_program__set_autoload(bpf->skel->progs.handle_exit_rt_sigqueueinfo, cfg->tamper);
	bpf_program__set_autoload(bpf->skel->progs.handle_exit_rt_tgsigqueueinfo, cfg->tamper);
	bpf_program__set_autoload(bpf->skel->progs.handle_exit_pidfd_send_signal, cfg->tamper);
	/* Smaller maps for the tests that fill them; 0 keeps the object's sizes. */
	err = cfg->tracked_max ? bpf_map__set_max_entries(bpf->skel->maps.tracked, cfg->tracked_max) : 0;
	if (!err && cfg->held_max)
		err = bpf_map__set_max_entries(bpf->skel->maps.held, cfg->held_max);
	if (!err)
		err = claude_guard_bpf__load(bpf->skel);
	if (err) {
		claude_guard_bpf__destroy(bpf->skel);
		free(bpf);
		return err < 0 ? err : -EINVAL;
	}
	*out = bpf;
	return 0;
}

struct bpf_object *cg_bpf_object(cg_bpf *bpf)
{
	return bpf->skel->obj;
}

int cg_bpf_attach(cg_bpf *bpf)
{
	int err = claude_guard_bpf__attach(bpf->skel);

	return err < 0 ? err : (err ? -EINVAL : 0);
}

void cg_bpf_destroy(cg_bpf *bpf)
{
	if (!bpf)
		return;
	ring_buffer__free(bpf->rb);
	claude_guard_bpf__destroy(bpf->skel);
	free(bpf);
}

int cg_bpf_open_ringbuf(cg_bpf *bpf, cg_event_fn fn, void *ctx)
{
	bpf->rb = ring_buffer__new(bpf_map__fd(bpf->skel->maps.events), (ring_buffer_sample_fn)fn, ctx, NULL);
	return bpf->rb ? 0 : (errno ? -errno : -EINVAL);
}

/**
 * Busy polling: a sleeping reader is woken by an IPI, and on a VM a halted
 * vCPU takes tens of microseconds to wake, which a held exec waits out. With
 * --busy-poll, the reader spins on the ring for a while after each record, so
 * during an agent's bursts of commands a hold is answered without a wakeup.
 */
int cg_bpf_poll(cg_bpf *bpf, int timeout_ms)
{
	int n, m;

	if (bpf->busy_poll_us > 0 && timeout_ms > 0) {
		while ((mono_ns() - bpf->last_record_ns) / 1000 < (uint64_t)bpf->busy_poll_us) {
			m = ring_buffer__consume(bpf->rb);
			if (m != 0) {
				if (m > 0)
					bpf->last_record_ns = mono_ns();
				return m;
			}
			cpu_relax();
		}
	}
	n = ring_buffer__poll(bpf->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	/* Most records are submitted without a wakeup (see wakeup_flags in the
	 * kernel side): epoll does not report them, so read what is there. */
	m = ring_buffer__consume(bpf->rb);
	if (m < 0)
		return m;
	n = (n > 0 ? n : 0) + m;
	if (n > 0)
		bpf->last_record_ns = mono_ns();
	return n;
}

int cg_bpf_track(cg_bpf *bpf, uint32_t tgid, uint32_t root, uint32_t landlocked)
{
	struct cg_tracked t = { .root = root, .landlocked = landlocked };

	return bpf_map_update_elem(bpf_map__fd(bpf->skel->maps.tracked), &tgid, &t, BPF_ANY) ? -errno : 0;
}

int cg_bpf_untrack(cg_bpf *bpf, uint32_t tgid)
{
	return bpf_map_delete_elem(bpf_map__fd(bpf->skel->maps.tracked), &tgid) ? -errno : 0;
}

int cg_bpf_tracked(cg_bpf *bpf, uint32_t root, uint32_t *tgids, int max)
{
	int fd = bpf_map__fd(bpf->skel->maps.tracked), n = 0;
	uint32_t key, next;
	struct cg_tracked t;
	void *prev = NULL;

	while (n < max && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t) == 0 && (!root || t.root == root))
			tgids[n++] = key;
	}
	return n;
}

/* OR bits into a u64 value of a hash map. */
static int map_or(int fd, const void *key, uint64_t bits)
{
	uint64_t v = 0;

	bpf_map_lookup_elem(fd, key, &v);
	v |= bits;
	return bpf_map_update_elem(fd, key, &v, BPF_ANY) ? -errno : 0;
}

int cg_bpf_add_tree_root(cg_bpf *bpf, const struct cg_ident *id, uint64_t bits)
{
	return map_or(bpf_map__fd(bpf->skel->maps.ftrees), id, bits);
}

int cg_bpf_add_tree_name(cg_bpf *bpf, const struct cg_name_key *key, uint64_t bits)
{
	return map_or(bpf_map__fd(bpf->skel->maps.fnames), key, bits);
}

int cg_bpf_add_process(cg_bpf *bpf, const struct cg_ident *id, uint64_t bits)
{
	return map_or(bpf_map__fd(bpf->skel->maps.fprocs), id, bits);
}

int cg_bpf_set_tree(cg_bpf *bpf, uint32_t bit, const struct cg_ftree *tree)
{
	return bpf_map_update_elem(bpf_map__fd(bpf->skel->maps.ftree_info), &bit, tree, BPF_ANY) ? -errno : 0;
}

int cg_bpf_set_file_rule(cg_bpf *bpf, uint32_t index, const struct cg_frule *rule)
{
	return bpf_map_update_elem(bpf_map__fd(bpf->skel->maps.frules), &index, rule, BPF_ANY) ? -errno : 0;
}

void cg_bpf_set_file_globals(cg_bpf *bpf, uint64_t strict, uint64_t named, uint32_t access, bool procs)
{
	bpf->skel->bss->tree_strict = strict;
	bpf->skel->bss->tree_named = named;
	bpf->skel->bss->frule_procs = procs;
	/* Last: the programs judge nothing until the rules are all in place. */
	__atomic_store_n(&bpf->skel->bss->frule_access, access, __ATOMIC_SEQ_CST);
}

int cg_bpf_freeze_file_rules(cg_bpf *bpf)
{
	struct bpf_map *maps[] = { bpf->skel->maps.ftrees, bpf->skel->maps.fnames, bpf->skel->maps.ftree_info,
				   bpf->skel->maps.frules, bpf->skel->maps.fprocs };

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (bpf_map_freeze(bpf_map__fd(maps[i])))
			return -errno;
	return 0;
}

uint64_t cg_name_hash(const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len && i < CG_NAME_MAX; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int cg_bpf_set_verdict(cg_bpf *bpf, const struct cg_file_key *key, uint32_t verdict)
{
	return bpf_map_update_elem(bpf_map__fd(bpf->skel->maps.verdicts), key, &verdict, BPF_ANY) ? -errno : 0;
}

int cg_bpf_set_hold_words(cg_bpf *bpf, const struct cg_file_key *key, const struct cg_hold_words *words)
{
	return bpf_map_update_elem(bpf_map__fd(bpf->skel->maps.hold_words), key, words, BPF_ANY) ? -errno : 0;
}

/* Async-signal-safe: only syscalls, so the forked watchdog may call it. */
int cg_bpf_release_all(cg_bpf *bpf, bool kill_held)
{
	int fd = bpf_map__fd(bpf->skel->maps.held), n = 0;
	uint32_t key;

	/* Delete-first iteration: every pass takes the first key left. */
	while (bpf_map_get_next_key(fd, NULL, &key) == 0) {
		if (bpf_map_delete_elem(fd, &key) == 0) {
			__atomic_fetch_sub(&bpf->skel->bss->held_count, 1, __ATOMIC_SEQ_CST);
			kill(key, kill_held ? SIGKILL : SIGCONT);
			n++;
		}
	}
	return n;
}

/* Tracked tasks under root (0: any), for the watchdog: how many there are, and SIGKILL each if asked. */
static int tracked_sweep(cg_bpf *bpf, uint32_t root, bool kill_them)
{
	int fd = bpf_map__fd(bpf->skel->maps.tracked), n = 0;
	uint32_t key, next;
	struct cg_tracked t;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t) || (root && t.root != root))
			continue;
		/* A tgid whose process is gone (its exit was missed) is forgotten. */
		if (kill(key, kill_them ? SIGKILL : 0) && errno == ESRCH) {
			bpf_map_delete_elem(fd, &key);
			continue;
		}
		n++;
	}
	return n;
}

/**
 * In the forked watchdog: close every inherited descriptor but stderr, the guard's pipe and the BPF objects
 * (programs, maps, links, perf events). A descriptor someone waits on for the guard's end (a launcher's
 * pipe, Foundation's process monitor) must not be held open by the watchdog. Raw syscalls only: this runs
 * between fork and _exit of a process that may have had other threads.
 */
void keep_only_bpf_fds(int keep, bool keep_stderr)
{
	char buf[4096], link[64], target[64];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;

	if (dir < 0)
		return;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d =
				(void *)(buf + off);
			int fd = atoi(d->name);
			ssize_t len;

			off += d->reclen;
			if (d->name[0] < '0' || d->name[0] > '9' || fd == dir || fd == keep ||
			    (fd == STDERR_FILENO && keep_stderr))
				continue;
			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			len = readlink(link, target, sizeof(target) - 1);
			target[len > 0 ? len : 0] = 0;
			if (strstr(target, "bpf") || strstr(target, "perf_event"))
				continue;
			close(fd);
		}
	}
	close(dir);
}

static void watchdog_say(const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

int cg_bpf_set_guard_procs(cg_bpf *bpf, const uint32_t *tgids, int n)
{
	if (n < 0 || n > CG_GUARD_PROCS)
		return -EINVAL;
	for (int i = 0; i < CG_GUARD_PROCS; i++)
		__atomic_store_n(&bpf->skel->bss->guard_tgids[i], i < n ? tgids[i] : 0, __ATOMIC_SEQ_CST);
	cg_tamperers_fd = bpf_map__fd(bpf->skel->maps.tamperers);
	return 0;
}

/* The processes of the tree that sent the guard SIGKILL (the kernel's `tamperers`), said by the watchdog. */
static void watchdog_say_killers(cg_bpf *bpf)
{
	int fd = bpf_map__fd(bpf->skel->maps.tamperers);
	uint32_t key, next, sig;
	char line[160];
	int more;

	for (more = bpf_map_get_next_key(fd, NULL, &next) == 0; more;) {
		key = next;
		more = bpf_map_get_next_key(fd, &key, &next) == 0;
		if (bpf_map_lookup_elem(fd, &key, &sig) == 0 && sig == SIGKILL) {
			snprintf(line, sizeof(line), "claude-guard: pid %u of the guarded tree sent the guard SIGKILL "
				 "(settings.tamper)\n", key);
			watchdog_say(line);
		}
	}
}

/**
 * The watchdog: a forked companion that holds the programs, links and maps too, so they stay attached when
 * the guard dies. The guard writes 'r' + the root of a `run` tree, and 'q' before a clean exit. End of file
 * without 'q' means the guard was lost (even by SIGKILL): the kernel is told (orphaned), so what it would
 * hold gets on_timeout in the kernel and kills stay kills; held tasks get on_timeout now; a `run` tree is
 * killed whole; an attached tree stays guarded this way until its last process exits.
 */
pid_t cg_bpf_start_watchdog(cg_bpf *bpf, bool kill_held, int *alive)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		uint32_t run_root = 0, resuming;
		bool clean = false;
		char c;
		ssize_t n;

		/* Ctrl-C and the guard's own SIGTERM are for the guard, not for us; nor is a signal of the tree (its
		 * sender is judged in the kernel). Our own process group: one kill(0) or kill(-pgid) of the tree, which
		 * shares the guard's, cannot end the guard and us together. */
		cg_ignore_ending_signals();
		setpgid(0, 0);
		/* A background group now: its goodbye on a terminal with `tostop` must not stop it. */
		signal(SIGTTOU, SIG_IGN);
		signal(SIGTSTP, SIG_IGN);
		close(p[1]);
		keep_only_bpf_fds(p[0], true);
		for (;;) {
			n = read(p[0], &c, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (c == 'q')
				clean = true;
			else if (c == 'r' && read(p[0], &run_root, sizeof(run_root)) != sizeof(run_root))
				break;
		}
		if (clean)
			_exit(0);
		__atomic_store_n(&bpf->skel->bss->orphaned, 1, __ATOMIC_SEQ_CST);
		watchdog_say("claude-guard: the guard was lost: the kernel keeps enforcing (holds get on_timeout, kills "
			     "stay kills)\n");
		watchdog_say_killers(bpf);
		cg_bpf_release_all(bpf, kill_held);
		/* A task the guard was continuing (let go, not yet sent SIGCONT) would stay stopped: finish its resume. */
		resuming = __atomic_load_n(&bpf->skel->bss->resuming, __ATOMIC_SEQ_CST);
		if (resuming)
			kill(resuming, SIGCONT);
		if (run_root) {
			/* A `run` tree without its guard ends: kill until nothing of it is left. */
			watchdog_say("claude-guard: killing the guarded command's tree\n");
			while (tracked_sweep(bpf, run_root, true) > 0)
				usleep(20000);
		} else {
			/* Nothing more to say: let go of stderr, whoever reads it may be waiting for its end. */
			close(STDERR_FILENO);
			while (tracked_sweep(bpf, 0, false) > 0) {
				cg_bpf_release_all(bpf, kill_held);
				usleep(100000);
			}
		}
		_exit(0);
	}
	close(p[0]);
	*alive = p[1];
	return pid;
}

void cg_detach_in_background(void)
{
	pid_t parent = getpid();

	if (fork() != 0)
		return;
	/* Child: hold every BPF link and probe until the guard is gone, then exit and pay the detach. */
	keep_only_bpf_fds(-1, false);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(0);
	for (;;)
		pause();
}

int cg_watchdog_tell_root(int alive, uint32_t root)
{
	char msg[1 + sizeof(root)] = { 'r' };

	memcpy(msg + 1, &root, sizeof(root));
	return write(alive, msg, sizeof(msg)) == sizeof(msg) ? 0 : -errno;
}

void cg_watchdog_release(int alive)
{
	(void)!write(alive, "q", 1);
	close(alive);
}

void cg_bpf_set_resuming(cg_bpf *bpf, uint32_t tgid)
{
	__atomic_store_n(&bpf->skel->bss->resuming, tgid, __ATOMIC_SEQ_CST);
}

int cg_bpf_unhold(cg_bpf *bpf, uint32_t tgid)
{
	if (bpf_map_delete_elem(bpf_map__fd(bpf->skel->maps.held), &tgid))
		return -errno;
	/* Whoever deletes an entry drops the count (the kernel does the same). */
	__atomic_fetch_sub(&bpf->skel->bss->held_count, 1, __ATOMIC_SEQ_CST);
	return 0;
}

bool cg_bpf_is_held(cg_bpf *bpf, uint32_t tgid)
{
	struct cg_held h;

	return bpf_map_lookup_elem(bpf_map__fd(bpf->skel->maps.held), &tgid, &h) == 0;
}

int cg_bpf_held(cg_bpf *bpf, uint32_t *tgids, uint64_t *since_ns, int max)
{
	int fd = bpf_map__fd(bpf->skel->maps.held), n = 0;
	uint32_t key, next;
	struct cg_held h;
	void *prev = NULL;

	while (n < max && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &h) == 0) {
			tgids[n] = key;
			since_ns[n] = h.since_ns;
			n++;
		}
	}
	return n;
}

int cg_percpu_sum(int fd, uint64_t *out, uint32_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

int cg_bpf_stats(cg_bpf *bpf, uint64_t out[CG_STAT_MAX])
{
	return cg_percpu_sum(bpf_map__fd(bpf->skel->maps.stats), out, CG_STAT_MAX);
}

const char *cg_strerror(int err)
{
	static char buf[256];

	if (libbpf_strerror(err, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "%s", strerror(err));
	return buf;
}

/* For the HTTPS capture object (cssl.c), which shares the tracked set. */
int cg_bpf_tracked_fd(cg_bpf *bpf)
{
	return bpf_map__fd(bpf->skel->maps.tracked);
}

/* The BPF object compiled into the binary (for `claude-guard version`'s build id). */
const void *cg_bpf_object_bytes(size_t *size)
{
	return claude_guard_bpf__elf_bytes(size);
}

/* libbpf's version ("v1.1"), as linked. */
const char *cg_libbpf_version(void)
{
	return libbpf_version_string();
}
