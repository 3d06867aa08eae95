/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The file-call programs of claude_guard.bpf.c (file rules, --files): included by it once, after the maps
 * and helpers they share (tracked, held, events, resolve_path, file_key), so the object stays one.
 */
#ifndef CLAUDE_GUARD_FILES_BPF_H
#define CLAUDE_GUARD_FILES_BPF_H

/* ---- File calls of tracked tasks (file rules, --files) ---------------------------------------------- */

#define AT_FDCWD -100
#define AT_REMOVEDIR 0x200
#define O_ACCMODE 3
#define O_WRONLY 1
#define O_RDWR 2
#define O_TRUNC 01000
#define O_PATH 010000000
#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define FMODE_CREATED 0x100000
#define EPERM 1
#define EACCES 13
#define EXDEV 18

/* Set by user space before load. */
const volatile bool files_on = false;  /* attach nothing else below when false */
const volatile bool files_all = false; /* --files: report every call, not only violations and refusals */

/* Written by user space after load, from the compiled policy. */
__u64 tree_strict = 0;  /* tree bits whose root itself is not covered */
__u64 tree_named = 0;   /* tree bits with a name filter */
__u32 frule_access = 0; /* union of the rules' access bits */
__u32 frule_procs = 0;  /* some rule names processes */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct cg_ident);
	__type(value, __u64); /* tree bits rooted at this inode */
} ftrees SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct cg_name_key);
	__type(value, __u64); /* tree bits rooted at this name */
} fnames SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_FTREES_MAX);
	__type(key, __u32);
	__type(value, struct cg_ftree);
} ftree_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_FRULES_MAX);
	__type(key, __u32);
	__type(value, struct cg_frule);
} frules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct cg_ident);
	__type(value, __u64); /* process-set bits this program belongs to */
} fprocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_file_event);
} fscratch SEC(".maps");

/* A file call's arguments saved at entry, judged at exit. */
struct file_args {
	const char *name;
	const char *name2;
	int dfd;
	int dfd2;
	__u32 op;
	__u32 flags;
	__u32 mode;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct file_args);
} pending_files SEC(".maps");

static __always_inline void ident_of(struct dentry *d, struct cg_ident *k)
{
	struct inode *inode = BPF_CORE_READ(d, d_inode);

	k->ino = BPF_CORE_READ(inode, i_ino);
	k->dev = BPF_CORE_READ(inode, i_sb, s_dev);
}

/* State of an identity walk: the tree bits found at the path itself and at its ancestors. */
struct fwalk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	__u64 self;
	__u64 anc;
	__u32 level;
	__u32 skip;
};

/**
 * One step of an identity walk: look the dentry's (dev, inode) up in `ftrees`, then go to its parent,
 * crossing mount points as d_path does. A tree matches by the identity of its root, so every spelling of a
 * path (`..`, `//`, symlinks, bind mounts of the same directory) meets the same inode. A mount point's
 * hidden directory is skipped: user space registered the mounted root.
 */
static long fwalk_step(__u64 index, void *ctx)
{
	struct fwalk *w = ctx;
	struct dentry *d = w->dentry;

	if (!w->skip) {
		struct cg_ident k;
		__u64 *bits;

		ident_of(d, &k);
		bits = bpf_map_lookup_elem(&ftrees, &k);
		if (bits) {
			if (w->level == 0)
				w->self |= *bits;
			else
				w->anc |= *bits;
		}
		w->level++;
	}
	w->skip = 0;
	/* Locals, not w->...: a CO-RE read through w would relocate against struct fwalk. */
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;

	if (d == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt)
			return 1;
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = (void *)up + bpf_core_field_offset(struct mount, mnt);
		w->skip = 1;
		return 0;
	}
	struct dentry *parent = BPF_CORE_READ(d, d_parent);

	if (parent == d)
		return 1;
	w->dentry = parent;
	return 0;
}

/* Tree bits at a path (self) and above it (anc); level0 false: the path itself counts as an ancestor. */
static __always_inline void fwalk(struct dentry *d, struct vfsmount *vfsmnt, bool level0, __u64 *self, __u64 *anc)
{
	struct fwalk w = {
		.dentry = d,
		.vfsmnt = vfsmnt,
		.mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt),
		.level = level0 ? 0 : 1,
	};

	bpf_loop(CG_PATH_DEPTH + 16, fwalk_step, &w, 0);
	*self = w.self;
	*anc = w.anc;
}

/* Whether the last component `name` (len bytes) passes tree t's name filter. */
static __always_inline bool name_ok(__u32 t, const char *name, __u32 len)
{
	struct cg_ftree *f = bpf_map_lookup_elem(&ftree_info, &t);
	__u32 i;

	if (!f)
		return false;
	if (f->name_kind == 0)
		return true;
	if (f->name_kind == 1 && len != f->plen)
		return false;
	if (len < (__u32)f->plen + f->slen)
		return false;
	for (i = 0; i < CG_FNAME_PAT; i++) {
		if (i >= f->plen)
			break;
		if (name[i & (CG_FSTR_MAX - 1)] != f->prefix[i])
			return false;
	}
	for (i = 0; i < CG_FNAME_PAT; i++) {
		if (i >= f->slen)
			break;
		if (name[(len - f->slen + i) & (CG_FSTR_MAX - 1)] != f->suffix[i])
			return false;
	}
	return true;
}

/* State of the name-filter pass over the covering trees (a bpf_loop callback). */
struct cover {
	const char *name;
	__u32 len;
	__u64 cov;
};

static long cover_step(__u64 t, void *ctx)
{
	struct cover *c = ctx;

	if (t >= CG_FTREES_MAX)
		return 1;
	if ((c->cov & tree_named & (1ULL << t)) && !name_ok(t, c->name, c->len))
		c->cov &= ~(1ULL << t);
	return 0;
}

/* Trees covering the path: any tree above it, the path itself when its tree is not strict, name filters. */
static __always_inline __u64 covered_by(__u64 self, __u64 anc, const char *name, __u32 len)
{
	struct cover c = { .name = name, .len = len, .cov = anc | (self & ~tree_strict) };

	if (c.cov & tree_named)
		bpf_loop(CG_FTREES_MAX, cover_step, &c, 0);
	return c.cov;
}

/* State of one pass over the rules (a bpf_loop callback). */
struct judging {
	__u64 cov;
	__u64 procs;
	__u32 access;  /* access bits of the call not yet decided by an earlier rule */
	__u32 best;
	__u32 rule;
};

/**
 * One rule: it decides the access bits of the call that no earlier rule decided (first match per access),
 * and the call gets the strongest of those decisions.
 */
static long judge_step(__u64 i, void *ctx)
{
	struct judging *j = ctx;
	__u32 k = i;
	struct cg_frule *r = bpf_map_lookup_elem(&frules, &k);
	__u32 hit;

	if (!r || !r->access || !j->access)
		return 1;
	hit = r->access & j->access;
	if (!hit)
		return 0;
	if ((r->flags & CG_FRULE_UNDER) && !(j->cov & r->under))
		return 0;
	if ((r->flags & CG_FRULE_OUTSIDE) && (j->cov & r->outside))
		return 0;
	if ((r->flags & CG_FRULE_PROCESS) && !(j->procs & r->procs))
		return 0;
	j->access &= ~hit;
	if (r->action > j->best) {
		j->best = r->action;
		j->rule = k + 1;
	}
	return 0;
}

/* The strongest action of the first matching rule of each access bit of the call; 1 + its index in *rule. */
static __always_inline __u32 judge(__u32 access, __u64 cov, __u32 *rule)
{
	struct judging j = { .cov = cov, .access = access };

	if (frule_procs) {
		/* The program by the file its exec named (a script), else (seeded before attach) its executable. */
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		struct cg_ident k = {}, *x = bpf_map_lookup_elem(&proc_ident, &tgid);
		__u64 *p;

		if (x) {
			k = *x;
		} else {
			struct task_struct *task = (struct task_struct *)bpf_get_current_task();
			struct file *exe = BPF_CORE_READ(task, mm, exe_file);

			if (exe)
				ident_of(BPF_CORE_READ(exe, f_path.dentry), &k);
		}
		p = bpf_map_lookup_elem(&fprocs, &k);
		if (p)
			j.procs = *p;
	}
	bpf_loop(CG_FRULES_MAX, judge_step, &j, 0);
	*rule = j.rule;
	return j.best;
}

/* The file behind a descriptor of the current task. */
static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= max)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* Remember a tracked task's file call. */
static __always_inline int enter_file(__u32 op, int dfd, const char *name, int dfd2, const char *name2,
				      __u32 flags, __u32 mode)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct file_args *a;

	if (!bpf_map_lookup_elem(&tracked, &tgid))
		return 0;
	a = bpf_task_storage_get(&pending_files, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0;
	a->name = name;
	a->name2 = name2;
	a->dfd = dfd;
	a->dfd2 = dfd2;
	a->flags = flags;
	a->mode = mode;
	a->op = op; /* last: 0 means nothing pending */
	return 0;
}

/* FNV-1a 64 of a name, and whether it has a '/' (user space hashes tree roots' names the same way). */
struct hashing {
	const char *s;
	__u32 len;
	__u32 slash;
	__u64 h;
};

static long hash_step(__u64 i, void *ctx)
{
	struct hashing *x = ctx;
	unsigned char c;

	if (i >= x->len)
		return 1;
	c = x->s[i & (CG_FSTR_MAX - 1)];
	if (c == '/')
		x->slash = 1;
	x->h ^= c;
	x->h *= 0x100000001b3ULL;
	return 0;
}

/* The accesses a path call makes. */
static __always_inline __u32 op_access(__u32 op)
{
	switch (op) {
	case CG_OP_UNLINK:
	case CG_OP_RMDIR:
		return CG_ACC_DELETE;
	case CG_OP_RENAME:
		return CG_ACC_RENAME;
	case CG_OP_TRUNCATE:
		return CG_ACC_TRUNCATE;
	case CG_OP_LINK:
		return CG_ACC_WRITE; /* a second name through which the file can be written */
	case CG_OP_SYMLINK:
		return CG_ACC_CREATE;
	case CG_OP_CHMOD:
		return CG_ACC_CHMOD;
	}
	return 0;
}

/**
 * A tracked task's file call returns: judge it against the compiled rules and act before the task is back
 * in user space.
 *
 * An open is judged by what it opened (the new descriptor's dentry, walked by inode identity): a read or
 * write of a protected file is killed before one byte moves. A path call (unlink, rename ...) has done its
 * work by now: a plain name relative to a directory descriptor or the cwd (what rm -rf and shutil.rmtree
 * use) is judged here and the task killed after its first such call; any other spelling holds the task
 * (SIGSTOP) for user space, which resolves the path as the task sees it. Calls the kernel refused
 * (Landlock's EACCES/EXDEV) are reported so the violation is logged.
 */
static __always_inline int exit_file(long ret)
{
	__u32 tgid, zero = 0, rule = 0, action = CG_FACT_NONE, flags = 0, access = 0;
	struct file_args *ap;
	bool refused = ret == -EACCES || ret == -EPERM || ret == -EXDEV;
	struct task_struct *task;
	struct cg_file_event *e;
	struct cg_tracked *t;
	struct file_args a;

	if (!files_on)
		return 0;
	ap = bpf_task_storage_get(&pending_files, bpf_get_current_task_btf(), 0, 0);
	if (!ap || !ap->op)
		return 0;
	a = *ap;
	ap->op = 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (ret < 0 && !refused && !files_all)
		return 0;
	t = bpf_map_lookup_elem(&tracked, &tgid);
	e = bpf_map_lookup_elem(&fscratch, &zero);
	if (!t || !e)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	e->hdr.type = CG_EVENT_FILE;
	e->hdr.pid = tgid;
	e->hdr.ktime_ns = bpf_ktime_get_ns();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->root = t->root;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->op = a.op;
	e->ret = ret;
	e->open_flags = a.flags;
	e->mode = a.mode;
	e->name_len = e->name2_len = 0;
	e->path_off = CG_PATH_MAX;
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	if (a.op == CG_OP_OPEN && ret >= 0) {
		__u32 acc = a.flags & O_ACCMODE;
		struct file *f = fd_file(task, ret);
		struct dentry *d;
		struct vfsmount *m;

		if ((a.flags & O_PATH) || !f)
			return 0;
		access = acc == O_WRONLY ? CG_ACC_WRITE : acc == O_RDWR ? CG_ACC_READ | CG_ACC_WRITE : CG_ACC_READ;
		if (access & CG_ACC_WRITE)
			proc_mem_open(f, t, tgid, false); /* another process's /proc/PID/mem: a write into it */
		d = BPF_CORE_READ(f, f_path.dentry);
		m = BPF_CORE_READ(f, f_path.mnt);
		__u32 ifmt = BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT;

		if (ifmt == S_IFDIR) {
			/* Listing a directory reads no file's bytes. */
			flags |= CG_FF_DIR;
			access = 0;
		} else if (BPF_CORE_READ(f, f_mode) & FMODE_CREATED) {
			flags |= CG_FF_CREATED;
			access |= CG_ACC_CREATE;
		} else if ((a.flags & O_TRUNC) && (access & CG_ACC_WRITE) && ifmt == S_IFREG) {
			/* Only a regular file loses bytes to O_TRUNC (`> /dev/null` truncates nothing). */
			access |= CG_ACC_TRUNCATE;
		}
		if ((access & (CG_ACC_WRITE | CG_ACC_TRUNCATE)) && ifmt == S_IFREG) {
			/**
			 * A file opened for writing may change without its ctime changing (file systems that
			 * keep timestamps to the second): a verdict learned for it is forgotten, so its next
			 * exec is judged again.
			 */
			struct cg_file_key k = {};

			file_key(BPF_CORE_READ(f, f_inode), &k);
			bpf_map_delete_elem(&verdicts, &k);
		}
		if (access & frule_access) {
			struct qstr q = BPF_CORE_READ(d, d_name);
			__u32 len = q.len < CG_NAME_MAX ? q.len : CG_NAME_MAX - 1;
			__u64 self, anc;

			bpf_probe_read_kernel(e->name, len & (CG_NAME_MAX - 1), q.name);
			fwalk(d, m, true, &self, &anc);
			action = judge(access, covered_by(self, anc, e->name, len), &rule);
		}
		if (!files_all && action < CG_FACT_ALERT)
			return 0;
		e->path_off = resolve_path(d, m, e->path, &flags, CG_FF_PATH_TRUNCATED);
	} else {
		/* The path as the task gave it, and the directory it is relative to. */
		struct dentry *bd;
		struct vfsmount *bm;
		long n = bpf_probe_read_user_str(e->name, sizeof(e->name), a.name);

		if (n < 1)
			n = 1;
		if (n == sizeof(e->name))
			flags |= CG_FF_NAME_TRUNCATED;
		e->name_len = n - 1;
		if (a.name2) {
			n = bpf_probe_read_user_str(e->name2, sizeof(e->name2), a.name2);
			e->name2_len = n > 0 ? n - 1 : 0;
		}
		if (a.op == CG_OP_OPEN) {
			/* A refused open: what it asked for (a truncation unless the file was new: not knowable). */
			__u32 acc = a.flags & O_ACCMODE;

			access = acc == O_WRONLY ? CG_ACC_WRITE : acc == O_RDWR ? CG_ACC_READ | CG_ACC_WRITE : CG_ACC_READ;
			if ((a.flags & O_TRUNC) && (access & CG_ACC_WRITE))
				access |= CG_ACC_TRUNCATE;
		} else {
			access = op_access(a.op);
		}
		if (e->name[0] == '/') {
			bd = BPF_CORE_READ(task, fs, root.dentry);
			bm = BPF_CORE_READ(task, fs, root.mnt);
		} else if (a.dfd == AT_FDCWD) {
			bd = BPF_CORE_READ(task, fs, pwd.dentry);
			bm = BPF_CORE_READ(task, fs, pwd.mnt);
		} else {
			struct file *df = fd_file(task, a.dfd);

			if (!df)
				return 0;
			bd = BPF_CORE_READ(df, f_path.dentry);
			bm = BPF_CORE_READ(df, f_path.mnt);
		}
		flags |= CG_FF_RELATIVE;
		if (ret == 0 && (access & frule_access)) {
			__u32 len = e->name_len;
			struct hashing hx = { .s = e->name, .len = len, .h = 0xcbf29ce484222325ULL };
			bool plain;

			bpf_loop(CG_NAME_MAX, hash_step, &hx, 0);
			plain = e->name[0] != '/' && !a.name2 && !hx.slash;
			if (len == 0 || len >= CG_NAME_MAX || (e->name[0] == '.' && (len == 1 || (len == 2 && e->name[1] == '.'))))
				plain = false;
			if (plain && a.op != CG_OP_OPEN) {
				/* A name in a known directory: the directory and its ancestors are the name's ancestors. */
				struct cg_name_key nk = { .hash = hx.h };
				struct cg_ident bk;
				__u64 self = 0, anc, *bits;

				ident_of(bd, &bk);
				nk.dev = bk.dev;
				nk.ino = bk.ino;
				bits = bpf_map_lookup_elem(&fnames, &nk);
				if (bits)
					self = *bits;
				fwalk(bd, bm, false, &anc, &anc);
				action = judge(access, covered_by(self, anc, e->name, len), &rule);
			} else if (!(access & t->landlocked)) {
				action = CG_FACT_ASK;
			}
		}
		if (!files_all && !refused && action < CG_FACT_ALERT)
			return 0;
		e->path_off = resolve_path(bd, bm, e->path, &flags, CG_FF_PATH_TRUNCATED);
	}
	e->access = access;
	e->rule = rule;
	e->action = action;

	if (orphaned && action == CG_FACT_ASK)
		action = unreported_verdict == CG_VERDICT_KILL ? CG_FACT_KILL : CG_FACT_NONE;
	/* A daemon's audited tree: reported, never signalled. */
	if (enforce && ret >= 0 && !watch_audits(e->root)) {
		if (action == CG_FACT_KILL || action == CG_FACT_DENY) {
			bpf_send_signal(SIGKILL);
			flags |= CG_FF_KILLED;
		} else if (action == CG_FACT_ASK) {
			__u32 v = hold_task(tgid, e->hdr.ktime_ns);

			if (v == CG_VERDICT_HOLD)
				flags |= CG_FF_HELD;
			else if (v == CG_VERDICT_KILL)
				flags |= CG_FF_KILLED;
		}
	}
	e->flags = flags;
	if (bpf_ringbuf_output(&events, e, sizeof(*e), wakeup_flags(flags & (CG_FF_HELD | CG_FF_KILLED))))
		count(CG_STAT_LOST);
	return 0;
}

/* Which syscalls are file calls, their arguments, and the one exit program. */
#include "claude_guard_syscalls.bpf.h"

#endif /* CLAUDE_GUARD_FILES_BPF_H */
