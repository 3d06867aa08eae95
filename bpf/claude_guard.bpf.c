// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* claude-guard kernel side: track a process tree, report and enforce its execs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "claude_guard.h"

#define SIGKILL 9
#define SIGCONT 18
#define SIGSTOP 19
#define EEXIST 17

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load. */
const volatile bool enforce = false;             /* false: audit, never signal */
const volatile __u32 default_verdict = CG_VERDICT_PASS; /* file not in `verdicts` */
const volatile __u32 unreported_verdict = CG_VERDICT_KILL; /* hold impossible: ring full */

/* Set by the watchdog when the guard is lost: nobody decides holds any more, so what would be held gets
 * unreported_verdict (on_timeout) in the kernel; kills stay kills. */
__u32 orphaned = 0;

/* Held tasks right now; sys_enter returns at once while it is 0. Whoever
 * deletes a `held` entry (kernel or user space) decrements it. */
__u32 held_count = 0;

/* Set by user space while it continues a held task it let go (no longer in `held`, not yet sent SIGCONT): the
 * watchdog finishes that resume if the guard is lost in between. Only user space reads and writes it. */
__u32 resuming = 0;

/* Forked children the `tracked` map had no room for and that are still alive; sys_enter looks for them only
 * while it is not 0. */
__u32 doomed_count = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* tgid */
	__type(value, struct cg_tracked);
} tracked SEC(".maps");

/* The program each tracked process runs, by the file it exec'd: a script, not its interpreter (`aws` is a
 * Python script; a file rule's process exception names the script). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* tgid */
	__type(value, struct cg_ident);
} proc_ident SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct cg_file_key);
	__type(value, __u32); /* enum cg_verdict */
} verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32); /* tgid */
	__type(value, struct cg_held);
} held SEC(".maps");

/* A child of a tracked task that could not be tracked: it dies at its first system call (see handle_fork). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} doomed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* mapped twice by the consumer: 8 MiB of RSS */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_exec_event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CG_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* execve arguments saved at syscall entry, for -x (failed execs). */
struct exec_args {
	const char *filename;
	const char *const *argv;
	__u32 flags;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct exec_args);
} pending_execs SEC(".maps");

/**
 * Ring buffer wakeup flags for a record.
 *
 * A wakeup is an irq_work, a self-IPI: in a VM that is a VM exit costing
 * ~15 us per record. Only a held task waits on user space, so only its record
 * wakes the reader at once; the rest is read at the reader's next poll (at
 * most 50 ms later) or when the ring is half full, so nothing is lost to a
 * sleeping reader.
 */
static __always_inline __u64 wakeup_flags(bool urgent)
{
	if (urgent || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 2)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/**
 * Stop a task for user space to decide, and remember it in `held` so the resume guard kills it if anyone
 * else continues it. SIGSTOP comes before the record is submitted: once user space can read the record it
 * may answer SIGCONT at once, and a SIGCONT that arrives before the SIGSTOP would leave the task stopped
 * forever. With no room in `held`, the resume guard could not protect the hold (a `kill -CONT` from the
 * agent would let it run unjudged): the kernel decides now, as for a hold it cannot report, with
 * unreported_verdict (on_timeout). A SIGCONT sent after the SIGSTOP discards it while still pending.
 * Returns the verdict carried out: CG_VERDICT_HOLD, _KILL or _PASS.
 */
static __always_inline __u32 hold_task(__u32 tgid, __u64 since_ns)
{
	struct cg_held h = { .since_ns = since_ns };
	long err;

	bpf_send_signal(SIGSTOP);
	err = bpf_map_update_elem(&held, &tgid, &h, BPF_NOEXIST);
	if (err == 0)
		__sync_fetch_and_add(&held_count, 1);
	if (err == 0 || err == -EEXIST)
		return CG_VERDICT_HOLD;
	count(CG_STAT_UNHELD);
	if (unreported_verdict == CG_VERDICT_KILL) {
		bpf_send_signal(SIGKILL);
		return CG_VERDICT_KILL;
	}
	bpf_send_signal(SIGCONT);
	return CG_VERDICT_PASS;
}

/* State of one path walk, shared with the bpf_loop callback. */
struct walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	char *buf;
	__u32 off;
	__u32 truncated;
};

/**
 * One step of a path walk: prepend one component, or cross a mount point.
 *
 * Components are written backwards ending at buf[CG_PATH_MAX]; every copy
 * lands at (off & (CG_PATH_MAX - 1)) with a length below CG_NAME_MAX, and buf
 * is CG_PATH_MAX + CG_NAME_MAX long, so each write is provably in bounds
 * without the verifier tracking `off`. Run under bpf_loop so the verifier
 * checks the step once instead of unrolling CG_PATH_DEPTH branches.
 */
static long walk_step(__u64 index, void *ctx)
{
	struct walk *w = ctx;
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct dentry *root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);

	if (dentry == root) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		/* Top of the mount tree (or of an internal mount). */
		if (up == mnt)
			return 1;
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = (void *)up + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	struct qstr name = BPF_CORE_READ(dentry, d_name);
	__u32 len = name.len & (CG_NAME_MAX - 1);
	__u32 off = w->off;

	if (len + 1 > off) {
		w->truncated = 1;
		return 1;
	}
	off -= len;
	bpf_probe_read_kernel(w->buf + (off & (CG_PATH_MAX - 1)), len, name.name);
	off -= 1;
	w->buf[off & (CG_PATH_MAX - 1)] = '/';
	w->off = off;
	w->dentry = parent;
	/* A pseudo dentry (memfd, anonymous) is its own parent: its name is all there is. */
	return dentry == parent;
}

/* Resolve (dentry, mount) to text as d_path does; returns where it starts in buf. */
static __always_inline __u32 resolve_path(struct dentry *dentry, struct vfsmount *vfsmnt, char *buf,
					  __u32 *flags, __u32 trunc_flag)
{
	struct walk w = {
		.dentry = dentry,
		.vfsmnt = vfsmnt,
		.mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt),
		.buf = buf,
		.off = CG_PATH_MAX,
	};
	long steps = bpf_loop(CG_PATH_DEPTH, walk_step, &w, 0);

	if (w.truncated || steps == CG_PATH_DEPTH)
		*flags |= trunc_flag;
	if (w.off >= CG_PATH_MAX) {
		w.off = CG_PATH_MAX - 1;
		buf[CG_PATH_MAX - 1] = '/';
	}
	return w.off;
}

/* Identity of an executed file: device, inode and ctime (CO-RE across layouts). */
static __always_inline void file_key(struct inode *inode, struct cg_file_key *key)
{
	key->ino = BPF_CORE_READ(inode, i_ino);
	key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		key->ctime_sec = BPF_CORE_READ(inode, i_ctime_sec);
		key->ctime_nsec = BPF_CORE_READ(inode, i_ctime_nsec);
	} else if (bpf_core_field_exists(((struct inode___v66 *)inode)->__i_ctime)) {
		key->ctime_sec = BPF_CORE_READ((struct inode___v66 *)inode, __i_ctime.tv_sec);
		key->ctime_nsec = BPF_CORE_READ((struct inode___v66 *)inode, __i_ctime.tv_nsec);
	} else {
		key->ctime_sec = BPF_CORE_READ((struct inode___v65 *)inode, i_ctime.tv_sec);
		key->ctime_nsec = BPF_CORE_READ((struct inode___v65 *)inode, i_ctime.tv_nsec);
	}
	/* 6.13+ multigrain timestamps keep a flag in bit 31 of i_ctime_nsec (I_CTIME_QUERIED, set once stat has
	 * read the ctime): not part of the time, and absent from stat's st_ctim that user space seeds keys with. */
	key->ctime_nsec &= ~(1U << 31);
}

/* Loader environment at exec, ptrace by tracked tasks. */
#include "claude_guard_rewrite.bpf.h"
#include "claude_guard_words.bpf.h"

/* Daemon mode: untracked tasks that match a guard become new roots. */
#include "claude_guard_watch.bpf.h"

/**
 * Fork: a child of a tracked process is tracked, under the same root. With no room in `tracked` the child
 * would run unguarded: it is counted and, when enforcing, marked to die at its first system call (this
 * tracepoint runs in the parent, which bpf_send_signal would hit). Until then it has run no instruction
 * that reaches the kernel: no exec, no file call.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct cg_tracked *t;
	__u32 *d;

	if (ctgid == ptgid) /* a new thread, not a new process */
		return 0;
	t = bpf_map_lookup_elem(&tracked, &ptgid);
	if (!t)
		return 0;
	if (bpf_map_update_elem(&tracked, &ctgid, t, BPF_ANY) == 0)
		return 0;
	count(CG_STAT_UNTRACKED);
	if (!enforce || watch_audits(t->root))
		return 0;
	d = bpf_task_storage_get(&doomed, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (d && !*d) {
		*d = 1;
		__sync_fetch_and_add(&doomed_count, 1);
	}
	return 0;
}

/* Exec: report, and enforce before the new image runs one instruction. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct cg_tracked *t;
	struct cg_exec_event *e;
	__u32 zero = 0, verdict, flags = 0;
	struct cg_file_key key = {};
	struct file *file;
	struct dentry *dentry;
	__u64 argv_len, start, end;
	__u64 size;
	int adopted = 0;

	/* Early exit: processes outside the guarded trees cost one lookup (and the watch list, in a daemon). */
	t = bpf_map_lookup_elem(&tracked, &tgid);
	if (!t && watch_on) {
		struct file *x = bpf_core_field_exists(bprm->executable) ? BPF_CORE_READ(bprm, executable) : NULL;
		struct inode *fi = BPF_CORE_READ(bprm, file, f_inode);
		struct inode *xi = x ? BPF_CORE_READ(x, f_inode) : fi;

		adopted = watch_adopt(tgid, BPF_CORE_READ(fi, i_sb, s_dev), BPF_CORE_READ(fi, i_ino),
				      BPF_CORE_READ(xi, i_sb, s_dev), BPF_CORE_READ(xi, i_ino));
		if (adopted)
			t = bpf_map_lookup_elem(&tracked, &tgid);
	}
	if (!t)
		return 0;
	count(CG_STAT_EXECS);
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;

	e->hdr.type = CG_EVENT_EXEC;
	e->hdr.pid = tgid;
	e->hdr.ktime_ns = bpf_ktime_get_ns();
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	__u64 ugid = bpf_get_current_uid_gid();
	e->uid = (__u32)ugid;
	e->gid = ugid >> 32;
	e->root = t->root;
	e->ret = 0;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	/* The executed file: after binfmt_script this is the interpreter. */
	file = BPF_CORE_READ(bprm, file);
	dentry = BPF_CORE_READ(file, f_path.dentry);
	file_key(BPF_CORE_READ(file, f_inode), &key);
	e->file = key;
	{
		/* What was exec'd by name: the script itself when an interpreter runs it. */
		struct file *x = bpf_core_field_exists(bprm->executable) ? BPF_CORE_READ(bprm, executable) : NULL;
		struct inode *xi = BPF_CORE_READ(x ? x : file, f_inode);
		struct cg_ident id = { .dev = BPF_CORE_READ(xi, i_sb, s_dev), .ino = BPF_CORE_READ(xi, i_ino) };

		bpf_map_update_elem(&proc_ident, &tgid, &id, BPF_ANY);
	}
	/* Unhashed: unlinked after open, or never linked (memfd). */
	if (!BPF_CORE_READ(dentry, d_hash.pprev))
		flags |= CG_FLAG_DELETED;
	e->path_off = resolve_path(dentry, BPF_CORE_READ(file, f_path.mnt), e->path, &flags,
				   CG_FLAG_PATH_TRUNCATED);
	e->cwd_off = resolve_path(BPF_CORE_READ(p, fs, pwd.dentry), BPF_CORE_READ(p, fs, pwd.mnt), e->cwd,
				  &flags, CG_FLAG_CWD_TRUNCATED);

	/* The name as given to execve (kernel memory by now). */
	long n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	if (n < 0)
		n = 1;
	if (n == sizeof(e->filename))
		flags |= CG_FLAG_FILENAME_TRUNCATED;
	e->filename_len = n - 1;

	/**
	 * argv from the new image, after the exec is committed: the old image can
	 * no longer rewrite it. One read of the whole area, clamped to a constant
	 * bound the verifier sees; longer argv is flagged, never dropped.
	 */
	start = BPF_CORE_READ(p, mm, arg_start);
	end = BPF_CORE_READ(p, mm, arg_end);
	argv_len = end > start ? end - start : 0;
	if (argv_len > CG_ARGV_MAX) {
		argv_len = CG_ARGV_MAX;
		flags |= CG_FLAG_ARGV_TRUNCATED;
	}
	if (bpf_probe_read_user(e->argv, argv_len, (void *)start))
		argv_len = 0;
	e->argv_len = argv_len;
	e->argc_seen = 0;

	/* What can rewrite that argv before the program reads it: a tracer, a preload or audit library. */
	if (BPF_CORE_READ(p, ptrace))
		flags |= CG_FLAG_TRACED;
	flags |= scan_loader_env(p, e);

	/* Verdict by the executed file's identity (device, inode), never by name. */
	__u32 *v = bpf_map_lookup_elem(&verdicts, &key);
	verdict = v ? *v : default_verdict;
	/* Held only for words its argv lacks: passes here, unless what could rewrite that argv is at work. A learned
	 * verdict only (one the files program forgot for a rewritten file is held whatever the words). */
	if (v && verdict == CG_VERDICT_HOLD &&
	    !(flags & (CG_FLAG_ARGV_TRUNCATED | CG_FLAG_FILENAME_TRUNCATED | CG_FLAG_TRACED | CG_FLAG_LOADER_ENV |
		       CG_FLAG_LOADER_ENV_TRUNCATED)) &&
	    words_pass(&key, e, argv_len))
		verdict = CG_VERDICT_PASS;
	if (adopted == 2)
		verdict = CG_VERDICT_HOLD;
	if (orphaned && verdict == CG_VERDICT_HOLD)
		verdict = unreported_verdict;
	/* A daemon's audited tree: reported, never signalled. */
	if (verdict != CG_VERDICT_PASS && watch_audits(t->root))
		verdict = CG_VERDICT_PASS;
	size = CG_EXEC_HEAD_SIZE + argv_len;

	if (enforce && verdict == CG_VERDICT_HOLD) {
		/* A hold needs its record delivered; with no room, decide here. */
		__u64 ring = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
		__u64 used = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

		if (used + size + 4096 > ring)
			verdict = unreported_verdict;
	}
	if (enforce && verdict == CG_VERDICT_HOLD) {
		verdict = hold_task(tgid, e->hdr.ktime_ns);
		if (verdict == CG_VERDICT_HOLD) {
			flags |= CG_FLAG_HELD;
			count(CG_STAT_HELD);
		} else if (verdict == CG_VERDICT_KILL) {
			flags |= CG_FLAG_KILLED;
			count(CG_STAT_KILLED);
		}
	} else if (enforce && verdict == CG_VERDICT_KILL) {
		bpf_send_signal(SIGKILL);
		flags |= CG_FLAG_KILLED;
		count(CG_STAT_KILLED);
	}
	e->flags = flags;

	if (bpf_ringbuf_output(&events, e, size, wakeup_flags(flags & (CG_FLAG_HELD | CG_FLAG_KILLED))))
		count(CG_STAT_LOST);
	return 0;
}

/* Exit of a whole process (its last thread): report it and forget it. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct cg_tracked *t;
	struct cg_exit_event e = {};

	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	if (doomed_count && bpf_task_storage_delete(&doomed, p) == 0)
		__sync_fetch_and_add(&doomed_count, -1);
	t = bpf_map_lookup_elem(&tracked, &tgid);
	if (!t)
		return 0;
	e.hdr.type = CG_EVENT_EXIT;
	e.hdr.pid = tgid;
	e.hdr.ktime_ns = bpf_ktime_get_ns();
	e.ppid = BPF_CORE_READ(p, real_parent, tgid);
	e.root = t->root;
	e.exit_code = BPF_CORE_READ(p, exit_code);
	e.start_ns = BPF_CORE_READ(p, start_time);
	BPF_CORE_READ_STR_INTO(&e.comm, p, comm);
	if (bpf_map_delete_elem(&held, &tgid) == 0)
		__sync_fetch_and_add(&held_count, -1);
	bpf_map_delete_elem(&tracked, &tgid);
	bpf_map_delete_elem(&proc_ident, &tgid);
	if (bpf_ringbuf_output(&events, &e, sizeof(e), wakeup_flags(false)))
		count(CG_STAT_LOST);
	return 0;
}

/* -x: remember the arguments of a tracked execve/execveat ... */
static __always_inline int enter_exec(const char *filename, const char *const *argv, __u32 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct exec_args a = { .filename = filename, .argv = argv, .flags = flags };

	if (!bpf_map_lookup_elem(&tracked, &tgid))
		return 0;
	bpf_map_update_elem(&pending_execs, &id, &a, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int handle_enter_execve(struct syscall_trace_enter *ctx)
{
	return enter_exec((const char *)BPF_CORE_READ(ctx, args[0]), (const char *const *)BPF_CORE_READ(ctx, args[1]), 0);
}

SEC("tp/syscalls/sys_enter_execveat")
int handle_enter_execveat(struct syscall_trace_enter *ctx)
{
	return enter_exec((const char *)BPF_CORE_READ(ctx, args[1]), (const char *const *)BPF_CORE_READ(ctx, args[2]),
			  CG_FLAG_EXECVEAT);
}

/* ... and report it if the exec failed. */
static __always_inline int exit_exec(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0, off = 0;
	struct exec_args *a = bpf_map_lookup_elem(&pending_execs, &id);
	struct cg_tracked *t = bpf_map_lookup_elem(&tracked, &tgid);
	struct task_struct *task;
	struct cg_exec_event *e;
	int i;

	if (!a)
		return 0;
	if (ret >= 0 || !t)
		goto out;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		goto out;
	task = (struct task_struct *)bpf_get_current_task();
	e->hdr.type = CG_EVENT_EXEC_FAILED;
	e->hdr.pid = tgid;
	e->hdr.ktime_ns = bpf_ktime_get_ns();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	__u64 ugid = bpf_get_current_uid_gid();
	e->uid = (__u32)ugid;
	e->gid = ugid >> 32;
	e->root = t->root;
	e->ret = ret;
	e->flags = a->flags;
	e->cgroup_id = bpf_get_current_cgroup_id();
	__builtin_memset(&e->file, 0, sizeof(e->file));
	e->path_off = e->cwd_off = CG_PATH_MAX;
	e->loader_env_len = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	long n = bpf_probe_read_user_str(e->filename, sizeof(e->filename), a->filename);
	if (n < 1)
		n = 1;
	e->filename_len = n - 1;

	/* argv from the caller's memory: pointer by pointer, bounded. */
	for (i = 0; i < 64; i++) {
		const char *arg = NULL;

		if (bpf_probe_read_user(&arg, sizeof(arg), &a->argv[i]) || !arg)
			break;
		if (off > CG_ARGV_MAX - CG_NAME_MAX * 4) {
			e->flags |= CG_FLAG_ARGV_TRUNCATED;
			break;
		}
		n = bpf_probe_read_user_str(e->argv + (off & (CG_ARGV_MAX - 1)), CG_NAME_MAX * 4, arg);
		if (n < 0)
			break;
		off += n;
	}
	if (i == 64)
		e->flags |= CG_FLAG_ARGV_TRUNCATED;
	e->argv_len = off;
	e->argc_seen = i;
	if (bpf_ringbuf_output(&events, e, CG_EXEC_HEAD_SIZE + (off & (CG_ARGV_MAX - 1)), wakeup_flags(false)))
		count(CG_STAT_LOST);
out:
	bpf_map_delete_elem(&pending_execs, &id);
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int handle_exit_execve(struct syscall_trace_exit *ctx)
{
	return exit_exec(BPF_CORE_READ(ctx, ret));
}

SEC("tp/syscalls/sys_exit_execveat")
int handle_exit_execveat(struct syscall_trace_exit *ctx)
{
	return exit_exec(BPF_CORE_READ(ctx, ret));
}

/* File calls of tracked tasks (file rules, --files). */
#include "claude_guard_files.bpf.h"

/* Lines typed into an interactive bash of the tree (-B turns them off). */
#include "claude_guard_bash.bpf.h"

/* Signals of the tree to the guard's own processes. */
#include "claude_guard_tamper.bpf.h"

/**
 * A held task resumed by anyone but claude-guard (kill -CONT from the agent)
 * is killed at its next system call, and so is a child the tracked map had no
 * room for (handle_fork). Loads of held_count and doomed_count are all other
 * tasks pay while neither exists. With file rules, the entry of a file
 * syscall is remembered here too (tracked tasks only), and ptrace or
 * process_vm_writev of another process by a tracked task is seen here, and
 * whether a signal it sends names a process group (enter_signal).
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long id)
{
	__u32 tgid;

	if (guard_killed && killed_with_guard())
		return 0;
	if (id == NR_ptrace || id == NR_process_vm_writev)
		enter_ptrace(regs, id);
	enter_signal(regs, id);
	if (files_on)
		enter_syscall(regs, id);
	if (doomed_count && bpf_task_storage_get(&doomed, bpf_get_current_task_btf(), 0, 0)) {
		/* A child that could not be tracked (handle_fork): it does nothing unguarded. */
		bpf_send_signal(SIGKILL);
		return 0;
	}
	if (!held_count)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!bpf_map_lookup_elem(&held, &tgid))
		return 0;
	bpf_send_signal(SIGKILL);
	count(CG_STAT_RESUMED_KILL);
	return 0;
}
