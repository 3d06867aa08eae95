/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one header shared by the kernel programs (claude_guard.bpf.c) and user
 * space (Swift, through the CBPF target). Sizes, record layouts and flags live
 * here only; Swift reads these structs directly, there is no mirror of them.
 */
#ifndef CLAUDE_GUARD_H
#define CLAUDE_GUARD_H

#define CG_COMM_LEN 16
/* argv bytes copied from the new image; longer argv is flagged truncated. */
#define CG_ARGV_MAX 16384
/* Paths are built backwards from the end of a CG_PATH_MAX window; the field is
 * CG_PATH_MAX + CG_NAME_MAX long so a masked component copy can never spill. */
#define CG_PATH_MAX 1024
#define CG_NAME_MAX 256
#define CG_PATH_FIELD (CG_PATH_MAX + CG_NAME_MAX)
#define CG_PATH_DEPTH 48
#define CG_FILENAME_MAX 512

/* Record types on the ring buffer. */
enum cg_event_type {
	CG_EVENT_EXEC = 1,
	CG_EVENT_EXIT = 2,
	CG_EVENT_EXEC_FAILED = 3,
};

/* What the kernel does with a tracked exec before it runs one instruction. */
enum cg_verdict {
	CG_VERDICT_PASS = 0, /* report only */
	CG_VERDICT_HOLD = 1, /* SIGSTOP, user space decides */
	CG_VERDICT_KILL = 2, /* SIGKILL at exec */
};

/* Flags of an exec record. */
enum cg_exec_flags {
	CG_FLAG_ARGV_TRUNCATED = 1 << 0,
	CG_FLAG_PATH_TRUNCATED = 1 << 1,
	CG_FLAG_CWD_TRUNCATED = 1 << 2,
	CG_FLAG_DELETED = 1 << 3,  /* executed file is unlinked (memfd, deleted) */
	CG_FLAG_HELD = 1 << 4,     /* SIGSTOP sent before this record */
	CG_FLAG_KILLED = 1 << 5,   /* SIGKILL sent at exec */
	CG_FLAG_FILENAME_TRUNCATED = 1 << 6,
	CG_FLAG_EXECVEAT = 1 << 7, /* failed-exec record came from execveat */
};

/* Indexes of the per-CPU counters in the `stats` map. */
enum cg_stat {
	CG_STAT_LOST = 0,     /* records the ring buffer had no room for */
	CG_STAT_EXECS = 1,    /* tracked execs seen */
	CG_STAT_HELD = 2,     /* execs held */
	CG_STAT_KILLED = 3,   /* execs killed in the kernel */
	CG_STAT_RESUMED_KILL = 4, /* held tasks resumed by someone else, killed at their next syscall */
	CG_STAT_MAX = 5,
};

/* Value of the `tracked` map (key: tgid). */
struct cg_tracked {
	unsigned int root; /* tgid of the guarded root this task descends from */
	unsigned int pad;
};

/* Key of the `verdicts` map: identity of an executable file's contents.
 * ctime changes on every write or metadata change and cannot be set back
 * by user space, so a verdict learned for a file never outlives a rewrite. */
struct cg_file_key {
	unsigned long long dev;
	unsigned long long ino;
	long long ctime_sec;
	unsigned int ctime_nsec;
	unsigned int pad;
};

/* Value of the `held` map (key: tgid). */
struct cg_held {
	unsigned long long since_ns; /* bpf_ktime_get_ns() when held */
};

/* Common head of every record. */
struct cg_header {
	unsigned int type;
	unsigned int pid;
	unsigned long long ktime_ns;
};

/* An exec (or failed exec) record. Variable length: argv is last and only
 * argv_len bytes of it are sent. */
struct cg_exec_event {
	struct cg_header hdr;
	unsigned int ppid;
	unsigned int uid;
	unsigned int gid;
	unsigned int root;
	unsigned int flags;
	int ret;                      /* exec-failed: negative errno */
	unsigned long long cgroup_id;
	struct cg_file_key file;      /* executed file identity */
	unsigned int argv_len;        /* bytes of argv (NUL-separated) */
	unsigned int argc_seen;
	unsigned short filename_len;  /* bytes in filename, no NUL */
	unsigned short path_off;      /* path is path[path_off .. CG_PATH_MAX) */
	unsigned short cwd_off;       /* cwd is cwd[cwd_off .. CG_PATH_MAX) */
	unsigned short pad;
	char comm[CG_COMM_LEN];
	char filename[CG_FILENAME_MAX];
	char path[CG_PATH_FIELD];
	char cwd[CG_PATH_FIELD];
	char argv[CG_ARGV_MAX];
};

/* Exit of a whole tracked process (last thread). */
struct cg_exit_event {
	struct cg_header hdr;
	unsigned int ppid;
	unsigned int root;
	int exit_code;                /* wait status: (code << 8) | signal */
	unsigned int pad;
	unsigned long long start_ns;  /* task start, monotonic */
	char comm[CG_COMM_LEN];
};

#define CG_EXEC_HEAD_SIZE (sizeof(struct cg_exec_event) - CG_ARGV_MAX)

#ifndef __bpf__
_Static_assert(sizeof(struct cg_header) == 16, "cg_header layout");
_Static_assert(sizeof(struct cg_exec_event) % 8 == 0, "cg_exec_event padding");
_Static_assert(__builtin_offsetof(struct cg_exec_event, argv) == CG_EXEC_HEAD_SIZE, "argv last");
_Static_assert(sizeof(struct cg_exit_event) == 56, "cg_exit_event layout");
_Static_assert(sizeof(struct cg_file_key) == 32, "cg_file_key layout");
#endif

#endif /* CLAUDE_GUARD_H */
