/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A guarded tree signalling its own guard (issue 12, class 7): the guard, its watchdog and its job-control
 * tracer (guard_tgids) must not be stopped, ended or made to end the run by the tree they judge. Included by
 * claude_guard.bpf.c after the maps and helpers it shares (tracked, events, count, reach_record, wakeup_flags).
 *
 * Seen where the kernel generates the signal (tp_btf/signal_generate), not by resolving each call's target
 * ourselves: kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo and pidfd_send_signal all end there with the
 * target task already resolved (pid namespaces, process groups, kill(-1), pidfds and /proc/PID directory fds
 * alike), in the sender's context. sys_enter only says which of those calls was a process-group one (enter_signal).
 */
#ifndef CLAUDE_GUARD_TAMPER_BPF_H
#define CLAUDE_GUARD_TAMPER_BPF_H

/* The signal-sending calls, by number (sys_enter). */
#if defined(__TARGET_ARCH_x86)
#define NR_kill 62
#define NR_rt_sigqueueinfo 129
#define NR_tkill 200
#define NR_tgkill 234
#define NR_rt_tgsigqueueinfo 297
#elif defined(__TARGET_ARCH_arm64)
#define NR_kill 129
#define NR_tkill 130
#define NR_tgkill 131
#define NR_rt_sigqueueinfo 138
#define NR_rt_tgsigqueueinfo 240
#endif
#define NR_pidfd_send_signal 424

#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22

/* Set by user space before load: judge the tree's signals to the guard at all (settings.tamper is not allow),
 * and what the sender gets (CG_VERDICT_KILL or CG_VERDICT_PASS: alert). */
const volatile bool tamper_on = false;
const volatile __u32 tamper_verdict = CG_VERDICT_PASS;

/* The guard's own processes (0: none): the guard, its watchdog, its job-control tracer. Written by user space
 * before the tree starts (cg_bpf_set_guard_procs). */
__u32 guard_tgids[CG_GUARD_PROCS] = {};

/* Set once a tracked task SIGKILLed one of the guard's processes (kill verdict): every tracked task dies at its next
 * system call (killed_with_guard). One such kill cannot be undone, and two (the watchdog, then the guard, from two
 * processes) would leave nobody holding the programs: the tree does not get to send the second. */
__u32 guard_killed = 0;

/* The signal-sending call a tracked thread is in: its signal when it names a process group (kill with a pid of
 * 0 or below), 0 when it names one process. Written at each such call's entry, read as it generates signals. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* pid_tgid */
	__type(value, __u32);
} signal_calls SEC(".maps");

/* Processes of the tree that signalled the guard, and the last such signal: the guard's own handler of
 * SIGTERM/SIGINT/SIGHUP/SIGUSR1... looks the sender (si_pid) up here and ignores it (spawn.c). An entry is written
 * before the signal is generated, so the handler always finds it; it outlives the sender, which may be dead by
 * then. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);   /* the sender's tgid */
	__type(value, __u32); /* the signal */
} tamperers SEC(".maps");

/* Threads of the tree that sent a stop signal to the guard and are to die as that call returns (sys_exit). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64); /* pid_tgid */
	__type(value, __u32);
} kill_at_return SEC(".maps");

/* sys_enter of a signal-sending call by a tracked task: remember whether it names a process group. */
static __always_inline void enter_signal(struct pt_regs *regs, long id)
{
	__u64 pid_tgid;
	__u32 tgid, group = 0;

	if (!tamper_on || !guard_tgids[0])
		return;
	if (id != NR_kill && id != NR_tkill && id != NR_tgkill && id != NR_rt_sigqueueinfo &&
	    id != NR_rt_tgsigqueueinfo && id != NR_pidfd_send_signal)
		return;
	pid_tgid = bpf_get_current_pid_tgid();
	tgid = pid_tgid >> 32;
	if (!bpf_map_lookup_elem(&tracked, &tgid))
		return;
	if (id == NR_kill && (int)PT_REGS_PARM1_CORE_SYSCALL(regs) <= 0)
		group = (__u32)PT_REGS_PARM2_CORE_SYSCALL(regs);
	bpf_map_update_elem(&signal_calls, &pid_tgid, &group, BPF_ANY);
}

static __always_inline bool stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/**
 * A signal is generated for `task`. When a tracked task sends it (a user signal: si_code 0 or below; SIGCHLD
 * to the guard as its child ends and tty job control are the kernel's) to one of the guard's processes, it is
 * judged by `settings.tamper`:
 *
 * - A stop signal (STOP, TSTP, TTIN, TTOU) would leave held execs held and the run hanging: the stopped process
 *   gets SIGCONT as soon as the signal is queued (the siglock is held here: the helper defers it to an irq_work
 *   that runs as the lock is released, still inside the sender's call), which flushes a pending stop or ends a
 *   stop already taken. The sender, with a kill verdict, is killed as its call returns (exit_signal): the
 *   helper's one deferred signal per CPU here is the guard's SIGCONT.
 * - SIGKILL cannot be undone: the sender is killed, the record says so, the watchdog (in its own process
 *   group, so one kill(0) or kill(-pgid) cannot take both) fails closed as for any lost guard, and with a kill
 *   verdict the whole tree dies at its next system calls (guard_killed).
 * - Any other signal: the sender is remembered in `tamperers`, so the guard ignores it (the watchdog and the
 *   tracer ignore what could end them), and is killed before its call returns.
 *
 * A process-group signal (kill(0), kill(-pgid), kill(-1): the tree shares the guard's group, `trap 'kill 0' EXIT`
 * is an idiom) reaches the guard as a side effect: it is ignored as above and judged only when it would stop or
 * kill a process of the guard.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(handle_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task, int group,
	     int result)
{
	struct cg_ptrace_event e = {};
	struct cg_tracked *t;
	__u64 pid_tgid;
	__u32 target, tgid, *call;
	int code = 0;
	bool hit = false;

	if (!tamper_on || !guard_tgids[0] || sig <= 0)
		return 0;
	target = BPF_CORE_READ(task, tgid);
#pragma unroll
	for (int i = 0; i < CG_GUARD_PROCS; i++)
		if (guard_tgids[i] && guard_tgids[i] == target)
			hit = true;
	if (!hit)
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	tgid = pid_tgid >> 32;
	if (tgid == target)
		return 0;
	t = bpf_map_lookup_elem(&tracked, &tgid);
	if (!t)
		return 0;
	/* SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) are the kernel's own; si_code sits after si_signo and si_errno
	 * (the UAPI siginfo layout). */
	if ((unsigned long)info <= 1)
		return 0;
	bpf_probe_read_kernel(&code, sizeof(code), (void *)info + 2 * sizeof(int));
	if (code > 0)
		return 0;
	bpf_map_update_elem(&tamperers, &tgid, (__u32 *)&sig, BPF_ANY);
	call = bpf_map_lookup_elem(&signal_calls, &pid_tgid);
	if (call && *call == (__u32)sig) {
		e.flags |= CG_PTF_GROUP;
		if (!stop_signal(sig) && sig != SIGKILL)
			return 0;
	}
	reach_record(&e, t, tgid, CG_PT_SIGNAL, target);
	e.target_tgid = target;
	e.sig = sig;
	BPF_CORE_READ_STR_INTO(&e.target_comm, task, comm);
	if (stop_signal(sig) && bpf_send_signal_task && bpf_send_signal_task(task, SIGCONT, PIDTYPE_TGID, 0) == 0)
		e.flags |= CG_PTF_CONTINUE;
	if (enforce && tamper_verdict == CG_VERDICT_KILL) {
		if (stop_signal(sig)) {
			bpf_map_update_elem(&kill_at_return, &pid_tgid, (__u32 *)&sig, BPF_ANY);
		} else {
			bpf_send_signal(SIGKILL);
		}
		if (sig == SIGKILL)
			guard_killed = 1;
		e.flags |= CG_PTF_KILLED;
		count(CG_STAT_KILLED);
	}
	if (bpf_ringbuf_output(&events, &e, sizeof(e), wakeup_flags(true)))
		count(CG_STAT_LOST);
	return 0;
}

/* sys_enter while guard_killed: a tracked task dies as this call returns (the call itself runs, judged as any
 * other while a guard or its watchdog lives), so it makes no other. */
static __always_inline bool killed_with_guard(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!bpf_map_lookup_elem(&tracked, &tgid))
		return false;
	bpf_send_signal(SIGKILL);
	return true;
}

/**
 * The return of a signal-sending call (one tracepoint per call: nothing else pays): a thread that sent the guard
 * a stop signal with a kill verdict dies here, before the call returns to it, so it never makes another call.
 */
static __always_inline int exit_signal(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (bpf_map_lookup_elem(&kill_at_return, &pid_tgid)) {
		bpf_send_signal(SIGKILL);
		bpf_map_delete_elem(&kill_at_return, &pid_tgid);
	}
	return 0;
}

SEC("tp/syscalls/sys_exit_kill")
int handle_exit_kill(void *ctx) { return exit_signal(); }
SEC("tp/syscalls/sys_exit_tkill")
int handle_exit_tkill(void *ctx) { return exit_signal(); }
SEC("tp/syscalls/sys_exit_tgkill")
int handle_exit_tgkill(void *ctx) { return exit_signal(); }
SEC("tp/syscalls/sys_exit_rt_sigqueueinfo")
int handle_exit_rt_sigqueueinfo(void *ctx) { return exit_signal(); }
SEC("tp/syscalls/sys_exit_rt_tgsigqueueinfo")
int handle_exit_rt_tgsigqueueinfo(void *ctx) { return exit_signal(); }
SEC("tp/syscalls/sys_exit_pidfd_send_signal")
int handle_exit_pidfd_send_signal(void *ctx) { return exit_signal(); }

#endif /* CLAUDE_GUARD_TAMPER_BPF_H */
