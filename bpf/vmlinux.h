/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Trimmed, hand-kept vmlinux.h: only the kernel types claude_guard.bpf.c
 * touches, and only their fields it reads. preserve_access_index makes every
 * access a CO-RE relocation, so field offsets come from the running kernel's
 * BTF (/sys/kernel/btf/vmlinux), never from this file.
 */
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

typedef unsigned char __u8;
typedef short unsigned int __u16;
typedef unsigned int __u32;
typedef long long unsigned int __u64;
typedef signed char __s8;
typedef int __s32;
typedef long long int __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef _Bool bool;
typedef int pid_t;
typedef __u32 __wsum;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 dev_t;
enum { false = 0, true = 1 };

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};
enum { BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2 };
enum { BPF_F_NO_PREALLOC = 1 };
enum { BPF_LOCAL_STORAGE_GET_F_CREATE = 1 };
enum { BPF_RB_AVAIL_DATA = 0, BPF_RB_RING_SIZE = 1 };
enum { BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2 };

typedef struct { int counter; } atomic_t;

struct qstr {
	union {
		struct {
			u32 hash;
			u32 len;
		};
		u64 hash_len;
	};
	const unsigned char *name;
};
struct hlist_bl_node { struct hlist_bl_node *next, **pprev; };
struct super_block { dev_t s_dev; unsigned long s_magic; };
struct timespec64 { s64 tv_sec; long tv_nsec; };
struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	struct super_block *i_sb;
	s64 i_ctime_sec; /* 6.11+ */
	u32 i_ctime_nsec;
};
struct inode___v66 { struct timespec64 __i_ctime; };  /* 6.6 - 6.10 */
struct inode___v65 { struct timespec64 i_ctime; };    /* before 6.6 */
struct dentry {
	struct hlist_bl_node d_hash;
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
};
struct vfsmount { struct dentry *mnt_root; };
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
};
struct path { struct vfsmount *mnt; struct dentry *dentry; };
struct file { struct path f_path; struct inode *f_inode; unsigned int f_mode; unsigned int f_flags; };
struct fdtable { struct file **fd; unsigned int max_fds; };
struct files_struct { struct fdtable *fdt; };
struct fs_struct { struct path root; struct path pwd; };
struct mm_struct { unsigned long arg_start; unsigned long arg_end; unsigned long env_start; unsigned long env_end; struct file *exe_file; };
struct tty_struct { int index; char name[64]; };
struct signal_struct { atomic_t live; struct tty_struct *tty; };
struct task_struct {
	unsigned int __state;
	unsigned int ptrace;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct mm_struct *mm;
	struct fs_struct *fs;
	struct files_struct *files;
	struct signal_struct *signal;
	int exit_code;
	u64 start_time;
	u64 parent_exec_id;
	u64 self_exec_id;
	char comm[16];
};
enum pid_type { PIDTYPE_PID = 0, PIDTYPE_TGID = 1 };
struct kernel_siginfo; /* signal_generate's (claude_guard_tamper.bpf.h reads si_code by its UAPI offset) */
struct upid { int nr; };
struct pid { struct upid numbers[1]; };
struct proc_inode { struct pid *pid; struct inode vfs_inode; };
struct io_ring_ctx;
struct io_kiocb { struct file *file; u8 opcode; };
struct io_uring_cqe { u64 user_data; s32 res; u32 flags; };
struct vm_area_struct { unsigned long vm_flags; struct file *vm_file; };
struct linux_binprm { struct file *file; struct file *executable; const char *filename; };
struct trace_entry { unsigned short type; unsigned char flags; unsigned char preempt_count; int pid; };
struct syscall_trace_enter { struct trace_entry ent; int nr; unsigned long args[]; };
struct syscall_trace_exit { struct trace_entry ent; int nr; long ret; };
/* User registers, as a uprobe (claude_guard_ssl.bpf.c) and a syscall tracepoint (the file calls) see them:
 * the fields bpf_tracing.h's PT_REGS_PARM*, PT_REGS_PARM*_CORE_SYSCALL and PT_REGS_RC read. arm64 reads
 * user_pt_regs (and orig_x0 through its own pt_regs___arm64 flavour). */
struct pt_regs { unsigned long di, si, dx, cx, ax, r8, r10; };     /* x86 */
struct user_pt_regs { unsigned long long regs[31]; };             /* arm64 */

#pragma clang attribute pop

#endif /* __VMLINUX_H__ */
