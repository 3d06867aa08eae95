/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What can rewrite an image after the guard judged its argv (issue 12, class 3), for claude_guard.bpf.c:
 * a preload or audit library named in the new image's environment (its constructor runs before main), a
 * tracer at the exec stop, and ptrace/process_vm_writev (or a /proc/PID/mem open for writing) of another process
 * by a tracked task. Included once,
 * after the maps and helpers it shares (tracked, held, events, count, wakeup_flags).
 */
#ifndef CLAUDE_GUARD_REWRITE_BPF_H
#define CLAUDE_GUARD_REWRITE_BPF_H

/* ---- The loader's environment at exec ------------------------------------------------------------ */

/* State of the environment scan, shared with the bpf_loop callback. */
struct envscan {
	unsigned long p;   /* next byte to read */
	unsigned long end; /* mm->env_end */
	char *buf;         /* e->loader_env */
	__u32 len;         /* bytes kept in buf */
	__u32 state;       /* 0: at a string's start, 1: inside a string not kept, 2: inside a string kept */
	__u32 truncated;
};

/* Whether s starts with LD_PRELOAD= or LD_AUDIT= (the names ld.so reads; glibc and musl alike). */
static __always_inline bool loader_name(const char *s)
{
	if (s[0] != 'L' || s[1] != 'D' || s[2] != '_')
		return false;
	if (s[3] == 'P' && s[4] == 'R' && s[5] == 'E' && s[6] == 'L' && s[7] == 'O' && s[8] == 'A' && s[9] == 'D' &&
	    s[10] == '=')
		return true;
	return s[3] == 'A' && s[4] == 'U' && s[5] == 'D' && s[6] == 'I' && s[7] == 'T' && s[8] == '=';
}

/**
 * One step of the environment scan: read (at most CG_ENV_STEP bytes of) one string where the last kept byte
 * ends, keep it if it is an LD_PRELOAD=/LD_AUDIT= entry (or the rest of one), else let the next read overwrite
 * it. The write offset is clamped to CG_LOADER_ENV_MAX and buf is CG_ENV_STEP longer, so every read is in
 * bounds without the verifier tracking `len`; a string longer than a step is read on in steps.
 */
static long env_step(__u64 index, void *ctx)
{
	struct envscan *s = ctx;
	__u32 off = s->len;
	long n;

	if (s->p >= s->end)
		return 1;
	if (off > CG_LOADER_ENV_MAX)
		off = CG_LOADER_ENV_MAX;
	n = bpf_probe_read_user_str(s->buf + off, CG_ENV_STEP, (void *)s->p);
	if (n <= 0)
		return 1;
	bool more = n == CG_ENV_STEP; /* the string goes on past this step */
	__u32 used = more ? n - 1 : n;

	if (s->state == 0 && loader_name(s->buf + off))
		s->state = 2;
	if (s->state == 2) {
		if (s->len + used > CG_LOADER_ENV_MAX) {
			/* No room for all of it: keep what fits, NUL-ended, and say so. */
			s->truncated = 1;
			s->len = CG_LOADER_ENV_MAX;
			s->buf[CG_LOADER_ENV_MAX - 1] = 0;
		} else {
			s->len += used;
		}
	}
	if (!more)
		s->state = 0;
	else if (s->state == 0)
		s->state = 1;
	s->p += used;
	return 0;
}

/* The new image's LD_PRELOAD=/LD_AUDIT= strings into e->loader_env; returns CG_FLAG_LOADER_ENV* flags. */
static __always_inline __u32 scan_loader_env(struct task_struct *p, struct cg_exec_event *e)
{
	struct envscan s = {
		.p = BPF_CORE_READ(p, mm, env_start),
		.end = BPF_CORE_READ(p, mm, env_end),
		.buf = e->loader_env,
	};
	__u32 flags = 0;

	bpf_loop(CG_ENV_SCAN_MAX, env_step, &s, 0);
	if (s.p < s.end)
		s.truncated = 1; /* more strings than the scan reads: user space reads the rest while it holds */
	e->loader_env_len = s.len;
	if (s.len)
		flags |= CG_FLAG_LOADER_ENV;
	if (s.truncated)
		flags |= CG_FLAG_LOADER_ENV_TRUNCATED;
	return flags;
}

/* ---- ptrace and process_vm_writev by tracked tasks ----------------------------------------------- */

#define PTRACE_ATTACH 16
#define PTRACE_SEIZE 0x4206
#define TASK_STOPPED_BIT 4 /* __TASK_STOPPED: stopped by a signal (job control) */
#if defined(__TARGET_ARCH_x86)
#define NR_ptrace 101
#define NR_process_vm_writev 311
#elif defined(__TARGET_ARCH_arm64)
#define NR_ptrace 117
#define NR_process_vm_writev 271
#endif

/* Set by user space before load: what a tracked task attaching to (or writing) an untracked process gets. */
const volatile __u32 ptrace_verdict = CG_VERDICT_PASS;

/* Whether a daemon's tree audits (claude_guard_watch.bpf.h, included later). */
static __always_inline bool watch_audits(__u32 root);

/* The target by the pid the caller gave, in the caller's PID namespace (6.13+; older kernels: the pid as is). */
extern struct task_struct *bpf_task_from_vpid(s32 vpid) __ksym __weak;
/* A task by its pid in the initial PID namespace (the pid a /proc inode holds). */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
/* A signal to another task (6.13+); older kernels: the target is killed at its next system call (doomed). */
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type, u64 value) __ksym __weak;

#define PROC_SUPER_MAGIC 0x9fa0

/**
 * Whether the task's process has exec'd since it was forked, so its argv was judged already: exec bumps
 * self_exec_id, fork copies it and records the parent's in parent_exec_id (a thread or CLONE_PARENT child
 * copies the parent's parent_exec_id instead: if the parent had exec'd, such a child counts as exec'd, the
 * strict side).
 */
static __always_inline bool execed_since_fork(struct task_struct *task)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	return BPF_CORE_READ(leader, self_exec_id) != BPF_CORE_READ(leader, parent_exec_id);
}

/**
 * A tracked task (tgid, its tracked entry t) reaching into the process of `task` (acquired by the caller, or
 * NULL: no such process): fill the record, judge and act, submit.
 *
 * Judged by `settings.ptrace` (ptrace_verdict): a process outside every guarded tree, and a tracked process that
 * has exec'd since its fork — its argv was judged at that exec, and a write into it now rewrites what was judged
 * (a racing rewrite of a held `rm -vv V` into `rm -rf V`). A tracer following a child from before its exec
 * (strace -f, gdb ./prog) is no violation: that exec is judged as traced (settings.traced_exec). When the write
 * lands whatever the writer's fate (`landed`: process_vm_writev, io_uring) into a tracked process and the verdict
 * kills, the target dies too (at process_vm_writev's entry it has SIGKILL pending before a byte is written).
 */
static __always_inline void judge_reach(struct cg_ptrace_event *e, struct task_struct *task, struct cg_tracked *t,
					__u32 tgid, bool landed)
{
	struct cg_tracked adopt = { .root = t->root, .landlocked = 0 }; /* Landlock binds the tree's own processes */

	if (task) {
		e->target_tgid = BPF_CORE_READ(task, tgid);
		if (BPF_CORE_READ(task, __state) & TASK_STOPPED_BIT)
			e->flags |= CG_PTF_TARGET_STOPPED;
		BPF_CORE_READ_STR_INTO(&e->target_comm, task, comm);
	}
	if (!e->target_tgid) {
		e->flags |= CG_PTF_NO_TARGET;
	} else if (e->target_tgid == tgid) {
		return; /* its own memory */
	} else if (bpf_map_lookup_elem(&tracked, &e->target_tgid)) {
		e->flags |= CG_PTF_TRACKED;
		if (task && execed_since_fork(task))
			e->flags |= CG_PTF_EXECED;
	}
	if (!(e->flags & CG_PTF_NO_TARGET) && (!(e->flags & CG_PTF_TRACKED) || (e->flags & CG_PTF_EXECED))) {
		__u32 verdict = ptrace_verdict;

		/* A daemon's audited tree: reported, never signalled. */
		if (watch_audits(t->root))
			verdict = CG_VERDICT_PASS;
		if (orphaned && verdict == CG_VERDICT_HOLD)
			verdict = unreported_verdict;
		if (enforce && verdict == CG_VERDICT_KILL) {
			bpf_send_signal(SIGKILL);
			e->flags |= CG_PTF_KILLED;
			count(CG_STAT_KILLED);
			if (landed && (e->flags & CG_PTF_TRACKED) && task) {
				if (bpf_send_signal_task) {
					if (bpf_send_signal_task(task, SIGKILL, PIDTYPE_TGID, 0) == 0)
						e->flags |= CG_PTF_TARGET_KILLED;
				} else {
					__u32 *d = bpf_task_storage_get(&doomed, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

					if (d && !*d) {
						*d = 1;
						__sync_fetch_and_add(&doomed_count, 1);
						e->flags |= CG_PTF_TARGET_KILLED;
					}
				}
			}
		} else {
			if (e->op != CG_PT_VM_WRITE && e->op != CG_PT_PROC_MEM && !(e->flags & CG_PTF_TRACKED) &&
			    bpf_map_update_elem(&tracked, &e->target_tgid, &adopt, BPF_NOEXIST) == 0)
				e->flags |= CG_PTF_ADOPTED;
			if (enforce && verdict == CG_VERDICT_HOLD) {
				/* SIGSTOP before the record, as for a held exec. */
				struct cg_held h = { .since_ns = e->hdr.ktime_ns };

				bpf_send_signal(SIGSTOP);
				if (bpf_map_update_elem(&held, &tgid, &h, BPF_NOEXIST) == 0)
					__sync_fetch_and_add(&held_count, 1);
				e->flags |= CG_PTF_HELD;
				count(CG_STAT_HELD);
			}
		}
	}
	if (bpf_ringbuf_output(&events, e, sizeof(*e), wakeup_flags(e->flags & (CG_PTF_HELD | CG_PTF_KILLED))))
		count(CG_STAT_LOST);
}

/* The record's header and the caller's fields, for a tracked task (tgid, its entry t). */
static __always_inline void reach_record(struct cg_ptrace_event *e, struct cg_tracked *t, __u32 tgid, __u32 op,
					 int target)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();

	e->hdr.type = CG_EVENT_PTRACE;
	e->hdr.pid = tgid;
	e->hdr.ktime_ns = bpf_ktime_get_ns();
	e->root = t->root;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->op = op;
	e->target = target;
	e->ppid = BPF_CORE_READ(cur, real_parent, tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/**
 * ptrace(PTRACE_ATTACH|PTRACE_SEIZE) or process_vm_writev by a tracked task, at the call's entry.
 *
 * A tracked tracer makes an untracked tracee tracked (under its own root): what the tracer makes it do is the
 * tree's doing. Unless the policy kills the tracer for it: a signal sent here is delivered when the call
 * returns, after the kernel did the attach (or the write), so a killed tracer never runs another instruction
 * and never reads or writes a byte of the tracee through it; the kernel detaches the tracee as the tracer
 * dies. A process_vm_writev has written by then: it is reported, the writer killed, an outside target is not
 * adopted (a tracked one is killed: judge_reach). PTRACE_TRACEME needs nothing: its tracer is the parent, and
 * its child is in the tree already.
 */
static __always_inline void enter_ptrace(struct pt_regs *regs, long id)
{
	struct cg_ptrace_event e = {};
	struct task_struct *task = NULL;
	struct cg_tracked *t;
	__u32 tgid, op;
	int target;

	if (id == NR_ptrace) {
		long req = PT_REGS_PARM1_CORE_SYSCALL(regs);

		if (req == PTRACE_ATTACH)
			op = CG_PT_ATTACH;
		else if (req == PTRACE_SEIZE)
			op = CG_PT_SEIZE;
		else
			return;
		target = PT_REGS_PARM2_CORE_SYSCALL(regs);
	} else if (id == NR_process_vm_writev) {
		op = CG_PT_VM_WRITE;
		target = PT_REGS_PARM1_CORE_SYSCALL(regs);
	} else {
		return;
	}
	tgid = bpf_get_current_pid_tgid() >> 32;
	t = bpf_map_lookup_elem(&tracked, &tgid);
	if (!t)
		return;
	reach_record(&e, t, tgid, op, target);
	if (bpf_task_from_vpid && bpf_task_release) {
		task = bpf_task_from_vpid(target);
		judge_reach(&e, task, t, tgid, op == CG_PT_VM_WRITE);
		if (task)
			bpf_task_release(task);
	} else {
		e.target_tgid = target > 0 ? target : 0;
		judge_reach(&e, NULL, t, tgid, op == CG_PT_VM_WRITE);
	}
}

/**
 * A tracked task's open of a file for writing returned (exit_file, with file rules), or an io_uring request of it
 * on such a file completed (`landed`): if the file is another process's /proc/PID/mem (or
 * /proc/PID/task/TID/mem), it is judged as a write into that process (judge_reach). A syscall open is judged
 * before one byte is written: the kill is delivered as the open returns.
 */
static __always_inline void proc_mem_open(struct file *f, struct cg_tracked *t, __u32 tgid, bool landed)
{
	struct cg_ptrace_event e = {};
	struct task_struct *task;
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct qstr q = BPF_CORE_READ(f, f_path.dentry, d_name);
	char name[4] = {};
	int nr;

	if (BPF_CORE_READ(inode, i_sb, s_magic) != PROC_SUPER_MAGIC || q.len != 3)
		return;
	bpf_probe_read_kernel(name, 3, q.name);
	if (name[0] != 'm' || name[1] != 'e' || name[2] != 'm')
		return;
	/* The proc inode around the VFS inode holds the process's struct pid; its first number is the global pid. */
	nr = BPF_CORE_READ((struct proc_inode *)((void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode)),
			   pid, numbers[0].nr);
	if (nr <= 0)
		return;
	reach_record(&e, t, tgid, CG_PT_PROC_MEM, nr);
	if (bpf_task_from_pid && bpf_task_release) {
		task = bpf_task_from_pid(nr);
		judge_reach(&e, task, t, tgid, landed);
		if (task)
			bpf_task_release(task);
	} else {
		e.target_tgid = nr;
		judge_reach(&e, NULL, t, tgid, landed);
	}
}

#endif /* CLAUDE_GUARD_REWRITE_BPF_H */
