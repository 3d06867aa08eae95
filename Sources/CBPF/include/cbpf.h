/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The C surface Swift sees of the kernel side: a small shim over libbpf and
 * the generated skeleton (which stays inside cbpf.c, so its embedded object
 * is compiled once). Every function returns 0 or a negative errno.
 */
#ifndef CBPF_H
#define CBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "claude_guard.h"

typedef struct cg_bpf cg_bpf;

/* Byte offsets of the array fields of struct cg_exec_event: Swift does not
 * import C arrays this large, so it reads them at these offsets. */
static inline size_t cg_exec_offset_comm(void) { return offsetof(struct cg_exec_event, comm); }
static inline size_t cg_exec_offset_filename(void) { return offsetof(struct cg_exec_event, filename); }
static inline size_t cg_exec_offset_path(void) { return offsetof(struct cg_exec_event, path); }
static inline size_t cg_exec_offset_cwd(void) { return offsetof(struct cg_exec_event, cwd); }
static inline size_t cg_exec_offset_argv(void) { return offsetof(struct cg_exec_event, argv); }
static inline size_t cg_file_offset_comm(void) { return offsetof(struct cg_file_event, comm); }
static inline size_t cg_file_offset_path(void) { return offsetof(struct cg_file_event, path); }
static inline size_t cg_file_offset_name(void) { return offsetof(struct cg_file_event, name); }
static inline size_t cg_file_offset_name2(void) { return offsetof(struct cg_file_event, name2); }
static inline size_t cg_file_event_size(void) { return sizeof(struct cg_file_event); }
static inline size_t cg_exec_offset_loader_env(void) { return offsetof(struct cg_exec_event, loader_env); }
static inline size_t cg_ptrace_offset_comm(void) { return offsetof(struct cg_ptrace_event, comm); }
static inline size_t cg_ptrace_offset_target_comm(void) { return offsetof(struct cg_ptrace_event, target_comm); }

/* Called for each ring buffer record; ctx is what cg_bpf_open_ringbuf got. */
typedef int (*cg_event_fn)(void *ctx, void *data, size_t size);

struct cg_config {
	bool enforce;                /* signal at all (false: audit) */
	bool fails;                  /* attach the failed-exec programs (-x) */
	uint32_t default_verdict;    /* enum cg_verdict for files not in the verdicts map */
	uint32_t unreported_verdict; /* when a hold cannot be reported (ring full) */
	const char *btf_path;        /* kernel BTF for CO-RE; NULL: /sys/kernel/btf/vmlinux */
	bool files;                  /* load the file-call programs (file rules or --files) */
	bool files_all;              /* --files: report every file call of the tree */
	uint32_t ptrace_verdict;     /* enum cg_verdict for a tracked task attaching to an untracked process */
	bool bash;                   /* load the readline probe (lines of interactive bash; -B: off) */
	uint32_t tracked_max;        /* entries of the `tracked` map (0: the object's own); tests fill a small one */
	uint32_t held_max;           /* entries of the `held` map (0: the object's own) */
	bool watch;                  /* daemon: untracked tasks matching the watch list become roots */
	bool tamper;                 /* judge the tree's signals to the guard's processes (settings.tamper not allow) */
	uint32_t tamper_verdict;     /* CG_VERDICT_KILL (the sender dies) or CG_VERDICT_PASS (alert) */
};

/* Open, configure and load the programs (not yet attached). */
int cg_bpf_load(const struct cg_config *cfg, cg_bpf **out);
/* The loaded object (for the C shims of the per-file probes, cbash.c). */
struct bpf_object;
struct bpf_object *cg_bpf_object(cg_bpf *bpf);
/* Attach every loaded program. */
int cg_bpf_attach(cg_bpf *bpf);
/* Detach and free everything (ring buffer first, then the object). */
void cg_bpf_destroy(cg_bpf *bpf);

int cg_bpf_open_ringbuf(cg_bpf *bpf, cg_event_fn fn, void *ctx);
/* Spin on the ring for this long after each record before sleeping in epoll (0: never). */
void cg_bpf_set_busy_poll(cg_bpf *bpf, long us);
/* Poll the ring buffer; returns records consumed or -errno (-EINTR is fine). */
int cg_bpf_poll(cg_bpf *bpf, int timeout_ms);

/* Track tgid under root; landlocked: enum cg_access bits the kernel already refuses in that tree. */
int cg_bpf_track(cg_bpf *bpf, uint32_t tgid, uint32_t root, uint32_t landlocked);

/* The compiled file rules (see struct cg_frule): trees by identity and by name, filters, rules, programs. */
int cg_bpf_add_tree_root(cg_bpf *bpf, const struct cg_ident *id, uint64_t bits);
int cg_bpf_add_tree_name(cg_bpf *bpf, const struct cg_name_key *key, uint64_t bits);
int cg_bpf_add_process(cg_bpf *bpf, const struct cg_ident *id, uint64_t bits);
int cg_bpf_set_tree(cg_bpf *bpf, uint32_t bit, const struct cg_ftree *tree);
int cg_bpf_set_file_rule(cg_bpf *bpf, uint32_t index, const struct cg_frule *rule);
/* Publish the rules: until this is called with a non-zero access set, no file call is judged. */
void cg_bpf_set_file_globals(cg_bpf *bpf, uint64_t strict, uint64_t named, uint32_t access, bool procs);
/* Make the file-rule maps read-only for user space (a root agent needs more than one map update). */
int cg_bpf_freeze_file_rules(cg_bpf *bpf);
/* FNV-1a 64 of a name, as the kernel side hashes names for `fnames`. */
uint64_t cg_name_hash(const char *name, size_t len);

/* Landlock: the ABI version (or -errno), a ruleset handling these rights (fd or -errno), one more
 * directory or file beneath which rights are allowed (0 or -errno). */
int cg_landlock_abi(void);
int cg_landlock_ruleset(uint64_t handled);
int cg_landlock_allow(int ruleset, const char *path, uint64_t access);
/* Restrict the calling process with each ruleset, one layer each (async-signal-safe: for a forked child). Returns
 * 0 or the errno of the failing call. */
int cg_landlock_restrict(const int *rulesets, int n);
/* Forget a tracked tgid (a process that is gone without the kernel seeing its exit). */
int cg_bpf_untrack(cg_bpf *bpf, uint32_t tgid);
/* Tasks in the tracked map under root (0: any). Fills up to max tgids. */
int cg_bpf_tracked(cg_bpf *bpf, uint32_t root, uint32_t *tgids, int max);
int cg_bpf_set_verdict(cg_bpf *bpf, const struct cg_file_key *key, uint32_t verdict);
/* The argv words (hashed) without which a held file's exec passes in the kernel (the hold_words map). */
int cg_bpf_set_hold_words(cg_bpf *bpf, const struct cg_file_key *key, const struct cg_hold_words *words);
/* The task user space is continuing right now (0: none), for the watchdog should the guard be lost then. */
void cg_bpf_set_resuming(cg_bpf *bpf, uint32_t tgid);
/* Forget a held task; returns 0 if it was held (and drops held_count), -ENOENT otherwise. */
int cg_bpf_unhold(cg_bpf *bpf, uint32_t tgid);
/* Whether a task is held right now. */
bool cg_bpf_is_held(cg_bpf *bpf, uint32_t tgid);
/* In a forked companion: close every inherited descriptor but keep, stderr (if asked) and the BPF objects. */
void keep_only_bpf_fds(int keep, bool keep_stderr);

/*
 * The job-control tracer (jobtrace.c): a forked companion that PTRACE_SEIZEs interactive shells of the tree so
 * a hold of theirs or of their children is a ptrace stop, which the shell never sees (issue 12, class 8).
 * cg_jc_start returns the companion's pid (its socket in *sock) or -errno; the others 0 or -errno.
 */
pid_t cg_jc_start(cg_bpf *bpf, int *sock);
/* Seize a shell (-EPERM: traced by someone else already). */
int cg_jc_seize(int sock, pid_t pid);
/* Let a held tracee run (after its verdict): forgets the hold, continues it without the hold's SIGSTOP, keeps
 * it traced if keep (a job-control shell), else detaches it. -ESRCH: not a tracee of the companion. */
int cg_jc_resume(int sock, pid_t pid, bool keep);
/* Held tasks right now, with the monotonic time they were held. */
int cg_bpf_held(cg_bpf *bpf, uint32_t *tgids, uint64_t *since_ns, int max);
/* Sums each of the first n u64 counters of a per-CPU array map over the CPUs. */
int cg_percpu_sum(int fd, uint64_t *out, uint32_t n);
/* Sum of the per-CPU counters (enum cg_stat). */
int cg_bpf_stats(cg_bpf *bpf, uint64_t out[CG_STAT_MAX]);

/* Text of a libbpf or system errno (positive). */
const char *cg_strerror(int err);

/*
 * Fork the watchdog: a companion that keeps the programs and maps, and once the
 * guard is lost (its end of a pipe closes without a goodbye, even after
 * SIGKILL) fails closed: the kernel gives what it would hold the on-timeout
 * action, held tasks get it now, a `run` tree is killed, an attached tree stays
 * guarded until it exits. Returns the watchdog's pid or -errno; *alive is the
 * guard's end of the pipe.
 */
pid_t cg_bpf_start_watchdog(cg_bpf *bpf, bool kill_held, int *alive);
/* Tell the watchdog the root of the tree `run` launched (killed whole if the guard is lost). */
int cg_watchdog_tell_root(int alive, uint32_t root);
/*
 * Detaching probes waits for RCU grace periods (uprobes: ~2 s for a run's worth): a forked child that keeps
 * only the BPF and perf-event descriptors holds them until the guard exits, so the guard exits at once and
 * the child pays the detach. Call last, after the summary.
 */
void cg_detach_in_background(void);
/* A clean exit: the watchdog leaves without acting; closes alive. */
void cg_watchdog_release(int alive);
/* Resolve every held task now (kill, or resume), as the watchdog would. Returns how many. */
int cg_bpf_release_all(cg_bpf *bpf, bool kill_held);

/*
 * Daemon mode (cwatch.c): the watch list. kind is enum cg_watch_kind; key is a NUL-padded comm[16], a struct
 * cg_ident, a u32 uid or a u64 cgroup id. watch_put sets a key's guard bits, watch_drop forgets a key.
 */
int cg_watch_put(cg_bpf *bpf, uint32_t kind, const void *key, uint64_t bits);
int cg_watch_drop(cg_bpf *bpf, uint32_t kind, const void *key);
/* Every key of a kind (up to max, each key_size bytes into keys); returns how many. */
int cg_watch_keys(cg_bpf *bpf, uint32_t kind, void *keys, int max);
int cg_watch_set_conf(cg_bpf *bpf, const struct cg_watch_conf *conf);
/* The guard bits the kernel matched for a new root (and forgets them): 0, or -ENOENT. */
int cg_watch_adopted(cg_bpf *bpf, uint32_t root, uint64_t *bits);
/* Mark (or unmark) a root as audited: the kernel signals nothing in its tree. */
int cg_watch_set_audit_root(cg_bpf *bpf, uint32_t root, bool audit);
/* SIGHUP asks the daemon to reload (replaces the stop handler's SIGHUP); the request is taken (and cleared) by
 * cg_reload_requested. */
void cg_install_reload_handler(void);
int cg_reload_requested(void);

/* Last lines libbpf printed at warning level (the verifier log on a failed load). */
const char *cg_bpf_last_log(void);

/*
 * Fork a child that waits on a gate before it execs file (PATH searched).
 * The caller tracks the pid, then cg_gate_open() lets it exec. Returns the
 * pid or -errno; *gate is the write end of the gate pipe, *report the read end
 * of a close-on-exec pipe that carries the child's errno if exec fails. Between the gate and the exec the
 * child restricts itself with each Landlock ruleset given (file rules of `run`).
 */
pid_t cg_spawn_gated(const char *file, char *const argv[], const int *rulesets, int nrulesets, int *gate,
		     int *report);
/* Set in the errno cg_gate_open returns (negated) when applying a Landlock ruleset failed (not the exec). */
#define CG_SPAWN_LANDLOCK 0x10000
/* Open the gate; returns 0 when the exec happened, or -errno: the child's exec errno, with CG_SPAWN_LANDLOCK
 * when it is a Landlock call's, or -EPIPE when the child is gone before the gate opened. */
int cg_gate_open(int gate, int report);

/* Become a child subreaper: orphaned descendants are reparented to us. */
int cg_set_subreaper(void);

/* SIGINT/SIGTERM/SIGHUP (and the other signals whose default ends a process) set a flag instead of killing the
 * guard; one its own tree sent (the kernel's `tamperers` map, cg_bpf_set_guard_procs) is ignored. */
void cg_install_stop_handlers(void);
/* The watchdog and the job-control tracer: ignore every signal whose default would end them. */
void cg_ignore_ending_signals(void);
/* The `tamperers` map's descriptor for the stop handlers (-1: none). */
extern int cg_tamperers_fd;
/* The guard's own processes (up to CG_GUARD_PROCS; 0 for none), before the tree starts: the tree's signals to them
 * are judged (claude_guard_tamper.bpf.h), and the stop handlers ignore the tree's. */
int cg_bpf_set_guard_procs(cg_bpf *bpf, const uint32_t *tgids, int n);
/* The signal that asked the guard to stop, or 0. */
int cg_stop_requested(void);

/* The BPF object compiled into the binary, and libbpf's version string as linked. */
const void *cg_bpf_object_bytes(size_t *size);
const char *cg_libbpf_version(void);

#endif /* CBPF_H */
