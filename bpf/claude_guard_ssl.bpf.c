// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * claude-guard HTTPS plaintext capture: uprobes on OpenSSL's SSL_read/SSL_write
 * (and the _ex variants) copy what a tracked process reads and writes through
 * TLS; the mmap tracepoint says when a tracked process mapped a new
 * executable file (a library). A second object beside claude_guard.bpf.c: it
 * shares that object's `tracked` map (user space reuses its fd before load)
 * and has its own ring buffer. The programs are attached per file (a libssl,
 * an executable that links OpenSSL statically), so they fire for every
 * process that runs that code and filter by tgid first.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "claude_guard.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The main object's map (key: tgid), given by fd before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct cg_tracked);
} tracked SEC(".maps");

/* Arguments of a call in flight, saved at entry for the return probe. */
struct ssl_call {
	__u64 ssl;
	__u64 buf;
	__u64 count_ptr; /* _ex: where the function stores the bytes it moved */
	__u64 start_ns;
	__u32 func;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} ssl_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cg_ssl_event);
} ssl_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CG_SSL_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ssl_stats SEC(".maps");

/* The process's name (its main thread's comm): a runtime may name the thread doing TLS otherwise. */
static __always_inline void process_comm(char *comm)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	if (!leader || bpf_core_read_str(comm, CG_COMM_LEN, &leader->comm) < 0)
		bpf_get_current_comm(comm, CG_COMM_LEN);
}

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&ssl_stats, &stat);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Entry: remember the arguments of a tracked process's call. */
static __always_inline int call_entry(__u32 func, void *ssl, void *buf, void *count_ptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct ssl_call c = {};

	if (!bpf_map_lookup_elem(&tracked, &tgid))
		return 0;
	c.ssl = (__u64)ssl;
	c.buf = (__u64)buf;
	c.count_ptr = (__u64)count_ptr;
	c.start_ns = bpf_ktime_get_ns();
	c.func = func;
	/* Overwrite: if one probed function calls another, the inner call
	 * reports the bytes and the outer one finds no entry of its own. */
	bpf_map_update_elem(&ssl_calls, &id, &c, BPF_ANY);
	return 0;
}

/**
 * Return: copy the bytes the call moved (at most CG_SSL_DATA_MAX) and submit.
 *
 * SSL_read and SSL_write return the byte count (<= 0: nothing moved); the _ex
 * variants return 1 and store the count through their last argument. The copy
 * is taken at return for both directions: only then is a read's buffer
 * filled, and a write's buffer is unchanged by the call.
 */
static __always_inline int call_return(__u32 func, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0;
	struct cg_tracked *t;
	struct ssl_call *c;
	struct cg_ssl_event *e;
	__u64 len = 0;
	__u32 n;

	c = bpf_map_lookup_elem(&ssl_calls, &id);
	if (!c)
		return 0;
	if (c->func != func) /* an inner call of another probed function; its own return reported */
		return 0;
	if (func == CG_SSL_FN_READ_EX || func == CG_SSL_FN_WRITE_EX) {
		if (ret == 1 && c->count_ptr)
			bpf_probe_read_user(&len, sizeof(len), (void *)c->count_ptr);
	} else if (ret > 0) {
		len = ret;
	}
	t = bpf_map_lookup_elem(&tracked, &tgid);
	e = bpf_map_lookup_elem(&ssl_scratch, &zero);
	if (!len || !t || !e) {
		bpf_map_delete_elem(&ssl_calls, &id);
		return 0;
	}
	e->hdr.type = CG_EVENT_SSL_DATA;
	e->hdr.pid = tgid;
	e->hdr.ktime_ns = bpf_ktime_get_ns();
	e->tid = (__u32)id;
	e->root = t->root;
	e->func = func;
	e->flags = (func == CG_SSL_FN_WRITE || func == CG_SSL_FN_WRITE_EX) ? CG_SSL_WRITE : 0;
	e->ssl = c->ssl;
	e->len = len;
	e->latency_ns = e->hdr.ktime_ns - c->start_ns;
	process_comm(e->comm);
	n = len > CG_SSL_DATA_MAX ? CG_SSL_DATA_MAX : (__u32)len;
	if (len > CG_SSL_DATA_MAX) {
		e->flags |= CG_SSL_TRUNCATED;
		count(CG_SSL_STAT_TRUNCATED);
	}
	if (bpf_probe_read_user(e->data, n, (void *)c->buf)) {
		e->flags |= CG_SSL_COPY_FAILED;
		n = 0;
	}
	e->data_len = n;
	bpf_map_delete_elem(&ssl_calls, &id);
	count(CG_SSL_STAT_CALLS);
	/* Default wakeup: the reader is woken when it has caught up, so a
	 * burst of records costs one wakeup, and none waits for a timeout. */
	if (bpf_ringbuf_output(&ssl_events, e, CG_SSL_HEAD_SIZE + n, 0))
		count(CG_SSL_STAT_LOST);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_entry, void *ssl, void *buf, int num)
{
	return call_entry(CG_SSL_FN_READ, ssl, buf, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_read_return, int ret)
{
	return call_return(CG_SSL_FN_READ, ret);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_entry, void *ssl, const void *buf, int num)
{
	return call_entry(CG_SSL_FN_WRITE, ssl, (void *)buf, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_return, int ret)
{
	return call_return(CG_SSL_FN_WRITE, ret);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_entry, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	return call_entry(CG_SSL_FN_READ_EX, ssl, buf, readbytes);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_read_ex_return, int ret)
{
	return call_return(CG_SSL_FN_READ_EX, ret);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_entry, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	return call_entry(CG_SSL_FN_WRITE_EX, ssl, (void *)buf, written);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_ex_return, int ret)
{
	return call_return(CG_SSL_FN_WRITE_EX, ret);
}

/* Executable files a tracked process has mapped, each reported once (key: device, inode). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cg_ident);
	__type(value, __u8);
} seen_files SEC(".maps");

#define VM_EXEC 0x4

struct mapped {
	struct cg_ident id;
	bool fresh;
};

/* The mapping just made: executable, of a file, and a file not reported yet? */
static long check_vma(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	struct mapped *m = ctx;
	struct inode *inode;
	struct file *f;
	__u8 one = 1;

	if (!(BPF_CORE_READ(vma, vm_flags) & VM_EXEC))
		return 0;
	f = BPF_CORE_READ(vma, vm_file);
	if (!f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	m->id.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	m->id.ino = BPF_CORE_READ(inode, i_ino);
	m->fresh = bpf_map_update_elem(&seen_files, &m->id, &one, BPF_NOEXIST) == 0;
	return 0;
}

/**
 * A tracked process mapped a file executable (the loader mapping a library's
 * code at start or at dlopen): report a file never reported before, at once,
 * so user space reads the process's maps and attaches to a new libssl before
 * it is used. A per-syscall tracepoint fires for mmap calls only, and costs an
 * untracked process one hash lookup; a uprobe on the loader would trap in
 * every process of the machine at every start.
 */
SEC("tp/syscalls/sys_exit_mmap")
int mmap_exit(struct syscall_trace_exit *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	struct cg_tracked *t = bpf_map_lookup_elem(&tracked, &tgid);
	struct mapped m = {};
	struct cg_ssl_event *e;
	long ret = ctx->ret;

	if (!t || (ret < 0 && ret > -4096))
		return 0;
	bpf_find_vma(bpf_get_current_task_btf(), (__u64)ret, check_vma, &m, 0);
	if (!m.fresh)
		return 0;
	e = bpf_map_lookup_elem(&ssl_scratch, &zero);
	if (!e)
		return 0;
	e->hdr.type = CG_EVENT_SSL_MAPPED;
	e->hdr.pid = tgid;
	e->hdr.ktime_ns = bpf_ktime_get_ns();
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->root = t->root;
	e->func = 0;
	e->flags = 0;
	e->ssl = m.id.ino;
	e->len = m.id.dev;
	e->data_len = 0;
	e->latency_ns = 0;
	process_comm(e->comm);
	/* Wake the reader at once: the process is about to use what it mapped. */
	if (bpf_ringbuf_output(&ssl_events, e, CG_SSL_HEAD_SIZE, BPF_RB_FORCE_WAKEUP))
		count(CG_SSL_STAT_LOST);
	return 0;
}
