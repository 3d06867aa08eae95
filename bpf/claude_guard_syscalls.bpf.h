/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The file syscalls by number, read from the raw sys_enter tracepoint (enter_syscall, called by
 * handle_sys_enter) and judged at the one sys_exit program: included by claude_guard_files.bpf.h, after the
 * enter_file/exit_file they call.
 */
#ifndef CLAUDE_GUARD_SYSCALLS_BPF_H
#define CLAUDE_GUARD_SYSCALLS_BPF_H

/* The file syscalls, by number: they differ per architecture, and arm64 has only the *at forms. */
#if defined(__TARGET_ARCH_x86)
#define NR_open 2
#define NR_creat 85
#define NR_unlink 87
#define NR_rmdir 84
#define NR_rename 82
#define NR_truncate 76
#define NR_openat 257
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_linkat 265
#define NR_symlinkat 266
#define NR_fchmodat 268
#define NR_renameat2 316
#elif defined(__TARGET_ARCH_arm64)
#define NR_unlinkat 35
#define NR_symlinkat 36
#define NR_linkat 37
#define NR_renameat 38
#define NR_truncate 45
#define NR_fchmodat 53
#define NR_openat 56
#define NR_renameat2 276
#else
#error "claude-guard: syscall numbers for this architecture are missing"
#endif
#define NR_openat2 437
#define NR_fchmodat2 452

#define P1 (long)PT_REGS_PARM1_CORE_SYSCALL(regs)
#define P2 (long)PT_REGS_PARM2_CORE_SYSCALL(regs)
#define P3 (long)PT_REGS_PARM3_CORE_SYSCALL(regs)
#define P4 (long)PT_REGS_PARM4_CORE_SYSCALL(regs)
#define P5 (long)PT_REGS_PARM5_CORE_SYSCALL(regs)

/* A file syscall of any task: remember it if the task is tracked (enter_file checks). */
static __always_inline void enter_syscall(struct pt_regs *regs, long id)
{
	switch (id) {
	case NR_openat:
		enter_file(CG_OP_OPEN, P1, (const char *)P2, 0, NULL, P3, P4);
		break;
	case NR_openat2: {
		__u64 how_flags = 0;

		/* struct open_how starts with its u64 flags. */
		bpf_probe_read_user(&how_flags, sizeof(how_flags), (void *)P3);
		enter_file(CG_OP_OPEN, P1, (const char *)P2, 0, NULL, (__u32)how_flags, 0);
		break;
	}
	case NR_unlinkat:
		enter_file(P3 & AT_REMOVEDIR ? CG_OP_RMDIR : CG_OP_UNLINK, P1, (const char *)P2, 0, NULL, P3, 0);
		break;
	case NR_renameat:
	case NR_renameat2:
		enter_file(CG_OP_RENAME, P1, (const char *)P2, P3, (const char *)P4, 0, 0);
		break;
	case NR_truncate:
		enter_file(CG_OP_TRUNCATE, AT_FDCWD, (const char *)P1, 0, NULL, 0, 0);
		break;
	case NR_linkat:
		enter_file(CG_OP_LINK, P1, (const char *)P2, P3, (const char *)P4, P5, 0);
		break;
	case NR_symlinkat:
		/* The new link is the path; the text it points to rides along as name2. */
		enter_file(CG_OP_SYMLINK, P2, (const char *)P3, 0, (const char *)P1, 0, 0);
		break;
	case NR_fchmodat:
	case NR_fchmodat2:
		enter_file(CG_OP_CHMOD, P1, (const char *)P2, 0, NULL, 0, P3);
		break;
#ifdef NR_open
	case NR_open:
		enter_file(CG_OP_OPEN, AT_FDCWD, (const char *)P1, 0, NULL, P2, P3);
		break;
	case NR_creat:
		enter_file(CG_OP_OPEN, AT_FDCWD, (const char *)P1, 0, NULL, 01101 /* O_CREAT|O_WRONLY|O_TRUNC */, P2);
		break;
	case NR_unlink:
		enter_file(CG_OP_UNLINK, AT_FDCWD, (const char *)P1, 0, NULL, 0, 0);
		break;
	case NR_rmdir:
		enter_file(CG_OP_RMDIR, AT_FDCWD, (const char *)P1, 0, NULL, 0, 0);
		break;
	case NR_rename:
		enter_file(CG_OP_RENAME, AT_FDCWD, (const char *)P1, AT_FDCWD, (const char *)P2, 0, 0);
		break;
#endif
	}
}

/**
 * Every syscall's exit: a file call remembered at entry is judged here. One raw tracepoint instead of one
 * per syscall: attached and detached once (each syscall tracepoint's detach waits for an RCU grace period),
 * and a task with nothing pending costs one task-storage lookup.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	return exit_file(ret);
}

#define IORING_OP_OPENAT 18
#define IORING_OP_OPENAT2 28
#define FMODE_WRITE 0x2

/**
 * An io_uring request of a tracked task completed (with file rules; loaded where the kernel has io_uring). Its
 * opens and writes make no syscall the programs above see, so another process's /proc/PID/mem is judged here:
 * an open of it for writing (a plain descriptor: the new one), or any request on it open for writing (a write
 * through a registered or direct descriptor). The request ran already, so the written process is killed too
 * (proc_mem_open, `landed`). Completions run in the ring owner's threads (its io workers included).
 */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(handle_uring_complete, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	struct io_kiocb *r = req;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct cg_tracked *t = bpf_map_lookup_elem(&tracked, &tgid);
	struct file *f;
	__u8 op;

	if (!t)
		return 0;
	op = BPF_CORE_READ(r, opcode);
	if (op == IORING_OP_OPENAT || op == IORING_OP_OPENAT2) {
		int fd = BPF_CORE_READ(cqe, res);

		f = fd >= 0 ? fd_file((struct task_struct *)bpf_get_current_task(), fd) : NULL;
	} else {
		f = BPF_CORE_READ(r, file);
	}
	if (f && (BPF_CORE_READ(f, f_mode) & FMODE_WRITE))
		proc_mem_open(f, t, tgid, true);
	return 0;
}

#endif /* CLAUDE_GUARD_SYSCALLS_BPF_H */
