/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Daemon mode: the watch list. An untracked task whose exec matches a guard of the daemon's config becomes a
 * new guarded root; fork/exec tracking then covers its descendants as for `-p`. Each guard is one bit: a map
 * value is the set of guards a key satisfies, and `any[kind]` of `watch_conf` the guards that give no criterion of that
 * kind, so a task is a candidate of the guards that every kind admits (the criteria of a guard are ANDed).
 * Only the daemon loads this with watch_on; `run` and `-p` pay nothing (the verifier drops the code).
 */
#ifndef CLAUDE_GUARD_WATCH_BPF_H
#define CLAUDE_GUARD_WATCH_BPF_H

const volatile bool watch_on = false;

/* The watch list's guards (one map entry, replaced whole by user space on start and reload). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_watch_conf);
} watch_conf SEC(".maps");

struct cg_watch_comm {
	char comm[CG_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct cg_watch_comm);
	__type(value, __u64); /* guard bits */
} watch_comm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct cg_ident); /* the executed file, or the script an interpreter runs */
	__type(value, __u64);
} watch_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* uid */
	__type(value, __u64);
} watch_uid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64); /* cgroup v2 id (the directory's inode number) */
	__type(value, __u64);
} watch_cgroup SEC(".maps");

/* Roots whose guard audits: the kernel never signals their trees (their execs pass). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* root tgid */
	__type(value, __u32);
} audit_roots SEC(".maps");

/* The guards each new root matched in the kernel, for user space to pick one (it deletes the entry). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* root tgid */
	__type(value, __u64);
} watch_adopted SEC(".maps");

static __always_inline __u64 watch_bits(void *map, const void *key)
{
	__u64 *v = bpf_map_lookup_elem(map, key);

	return v ? *v : 0;
}

/* Guards whose cgroup is the task's or one above it. */
static __always_inline __u64 watch_cgroup_bits(void)
{
	__u64 bits = 0, id = bpf_get_current_cgroup_id();

	bits |= watch_bits(&watch_cgroup, &id);
	for (int level = 0; level < CG_WATCH_CGROUP_DEPTH; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;
		bits |= watch_bits(&watch_cgroup, &id);
	}
	return bits;
}

/**
 * The guards an untracked task's exec matches (0: none). At sched_process_exec comm is the new program's
 * name already; the executed file (dev, ino) is the interpreter of a script, so the script (xdev, xino:
 * bprm->executable) counts too.
 */
static __always_inline __u64 watch_match(struct cg_watch_conf *c, __u64 dev, __u64 ino, __u64 xdev, __u64 xino)
{
	struct cg_watch_comm comm = {};
	struct cg_ident id;
	__u32 uid;
	__u64 bits;

	bpf_get_current_comm(comm.comm, sizeof(comm.comm));
	bits = c->guards & (c->any[CG_WATCH_COMM] | watch_bits(&watch_comm, &comm));
	if (!bits)
		return 0;
	if (bits & ~c->any[CG_WATCH_EXE]) {
		__u64 exe;

		id.dev = dev;
		id.ino = ino;
		exe = watch_bits(&watch_exe, &id);
		id.dev = xdev;
		id.ino = xino;
		exe |= watch_bits(&watch_exe, &id);
		bits &= c->any[CG_WATCH_EXE] | exe;
	}
	if (bits & ~c->any[CG_WATCH_UID]) {
		uid = (__u32)bpf_get_current_uid_gid();
		bits &= c->any[CG_WATCH_UID] | watch_bits(&watch_uid, &uid);
	}
	if (bits & ~c->any[CG_WATCH_CGROUP])
		bits &= c->any[CG_WATCH_CGROUP] | watch_cgroup_bits();
	return bits;
}

/**
 * Makes the current (untracked) task a new root when its exec matches the watch list: 0 when it does not, 1
 * when it is tracked now, 2 when it must also be held. A global function, verified once on its own: inlined,
 * it would double the states the verifier walks through the rest of handle_exec.
 *
 * Once the guard is lost (orphaned) nothing new is adopted: the trees guarded already stay fail-closed, but a
 * daemon that is gone must not hold or kill every matching program of the machine. It must be held (2) when an
 * enforcing guard matched and user space has the last word (an argv pattern to confirm, or an audit guard that
 * matched too and may come first): the candidate is stopped before it runs an instruction, so a candidate that
 * turns out not to match (or to be audited) does nothing meanwhile. Without an enforcing guard it is not
 * stopped: until user space forgets it (one poll, at most ~50 ms) it runs, and its forks are tracked and its
 * execs reported, but the kernel signals nothing in an audited tree.
 */
__noinline int watch_adopt(__u32 tgid, __u64 dev, __u64 ino, __u64 xdev, __u64 xino)
{
	struct cg_tracked t = { .root = tgid };
	struct cg_watch_conf *c;
	__u32 one = 1, zero = 0;
	__u64 bits;

	if (orphaned)
		return 0;
	c = bpf_map_lookup_elem(&watch_conf, &zero);
	if (!c || !c->guards)
		return 0;
	bits = watch_match(c, dev, ino, xdev, xino);
	if (!bits)
		return 0;
	if (bpf_map_update_elem(&tracked, &tgid, &t, BPF_NOEXIST))
		return 0;
	if ((bits & c->audit) == bits)
		bpf_map_update_elem(&audit_roots, &tgid, &one, BPF_ANY);
	else
		bpf_map_delete_elem(&audit_roots, &tgid);
	bpf_map_update_elem(&watch_adopted, &tgid, &bits, BPF_ANY);
	return (bits & ~c->audit) && (bits & (c->confirm | c->audit)) ? 2 : 1;
}

/* Whether the tree of root audits (the kernel signals nothing in it). */
static __always_inline bool watch_audits(__u32 root)
{
	return watch_on && bpf_map_lookup_elem(&audit_roots, &root);
}

#endif /* CLAUDE_GUARD_WATCH_BPF_H */
