/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Interactive bash (included by claude_guard.bpf.c): a uretprobe on readline
 * reports each line a bash of the tree read, and holds the shell before it
 * runs the line. In the main object, not a third one: the hold is the exec
 * hold (the `held` map, held_count, the resume guard in sys_enter, `orphaned`
 * and the fail-closed watchdog, all globals of this object), and the record
 * goes through `events`, so a line is read before the execs it causes.
 */

/* The bash executables (device, inode) user space found: readline in a shared
 * libreadline is called by other programs too (a Python REPL). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct cg_ident);
	__type(value, __u8);
} bash_exes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_bash_event);
} bash_scratch SEC(".maps");

/* Whether the current process runs one of the bash executables. */
static __always_inline bool runs_bash(struct task_struct *task)
{
	struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	struct cg_ident id = {};

	if (!inode)
		return false;
	id.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	id.ino = BPF_CORE_READ(inode, i_ino);
	return bpf_map_lookup_elem(&bash_exes, &id) != NULL;
}

/**
 * readline returned a line (NULL at end of input): report it, and in enforce
 * mode hold the shell first.
 *
 * The probe runs as readline returns into bash, before bash parses the line:
 * a SIGSTOP sent here stops the shell before it runs a single builtin of it.
 * Every line is held (typed lines are few, and the verdict needs the shell
 * parser and the policy in user space); SIGSTOP goes before the record is
 * submitted, as for execs, so an early SIGCONT cannot be lost.
 */
SEC("uretprobe")
int BPF_KRETPROBE(bash_readline_return, const char *line)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0, flags = 0, verdict = CG_VERDICT_HOLD;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct cg_tracked *t = bpf_map_lookup_elem(&tracked, &tgid);
	struct tty_struct *tty;
	struct cg_bash_event *e;
	char last = 0;
	__u32 len;
	long n;

	if (!t || !line || !runs_bash(task))
		return 0;
	e = bpf_map_lookup_elem(&bash_scratch, &zero);
	if (!e)
		return 0;
	e->hdr.type = CG_EVENT_BASH;
	e->hdr.pid = tgid;
	e->hdr.ktime_ns = bpf_ktime_get_ns();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->root = t->root;
	e->line_addr = (__u64)line;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	tty = BPF_CORE_READ(task, signal, tty);
	e->tty[0] = 0;
	e->tty_index = -1;
	if (tty) {
		bpf_probe_read_kernel_str(e->tty, sizeof(e->tty), &tty->name);
		e->tty_index = BPF_CORE_READ(tty, index);
	}
	e->cwd_off = resolve_path(BPF_CORE_READ(task, fs, pwd.dentry), BPF_CORE_READ(task, fs, pwd.mnt), e->cwd,
				  &flags, CG_BASH_CWD_TRUNCATED);

	/* A full buffer is a truncated line unless the byte after it ends the string. */
	n = bpf_probe_read_user_str(e->line, CG_BASH_LINE_MAX, line);
	if (n < 1)
		n = 1;
	if (n == CG_BASH_LINE_MAX &&
	    (bpf_probe_read_user(&last, 1, line + CG_BASH_LINE_MAX - 1) || last != 0))
		flags |= CG_BASH_TRUNCATED;
	len = (n - 1) & (CG_BASH_LINE_MAX - 1);
	e->line_len = len;

	if (orphaned)
		verdict = unreported_verdict;
	if (enforce && verdict == CG_VERDICT_HOLD) {
		/* A hold needs its record delivered; with no room, decide here. */
		__u64 ring = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
		__u64 used = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

		if (used + sizeof(*e) + 4096 > ring)
			verdict = unreported_verdict;
	}
	if (enforce && verdict == CG_VERDICT_KILL) {
		bpf_send_signal(SIGKILL);
		flags |= CG_BASH_KILLED;
	} else if (enforce && verdict == CG_VERDICT_HOLD) {
		struct cg_held h = { .since_ns = e->hdr.ktime_ns };

		bpf_send_signal(SIGSTOP);
		if (bpf_map_update_elem(&held, &tgid, &h, BPF_NOEXIST) == 0)
			__sync_fetch_and_add(&held_count, 1);
		flags |= CG_BASH_HELD;
	}
	e->flags = flags;
	if (bpf_ringbuf_output(&events, e, CG_BASH_HEAD_SIZE + len, wakeup_flags(true)))
		count(CG_STAT_LOST);
	return 0;
}
