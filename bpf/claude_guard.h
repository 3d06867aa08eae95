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
/* File rules compiled for the kernel: at most this many rules and trees (a tree is one bit of a u64). */
#define CG_FRULES_MAX 32
#define CG_FTREES_MAX 64
/* A name filter of a tree (`id_*`, `.env`): literal prefix and suffix around at most one `*`. */
#define CG_FNAME_PAT 32
/* A path argument of a file call as the program gave it (read at syscall exit). */
#define CG_FSTR_MAX 512
/* LD_PRELOAD= and LD_AUDIT= entries of a new image's environment, copied whole up to this many bytes. */
#define CG_LOADER_ENV_MAX 1024
/* One environment string read per step of the scan (a longer one is read on in steps). */
#define CG_ENV_STEP 256
/* Environment strings scanned at exec (beyond them the scan gives up and says so). */
#define CG_ENV_SCAN_MAX 4096

/* Record types on the ring buffer. */
enum cg_event_type {
	CG_EVENT_EXEC = 1,
	CG_EVENT_EXIT = 2,
	CG_EVENT_EXEC_FAILED = 3,
	CG_EVENT_FILE = 4,
	CG_EVENT_PTRACE = 5,
	CG_EVENT_BASH = 6,
};

/* File accesses, as a policy's `access:` names them (bits). */
enum cg_access {
	CG_ACC_READ = 1 << 0,
	CG_ACC_WRITE = 1 << 1,
	CG_ACC_CREATE = 1 << 2,
	CG_ACC_DELETE = 1 << 3,
	CG_ACC_RENAME = 1 << 4,
	CG_ACC_TRUNCATE = 1 << 5,
	CG_ACC_CHMOD = 1 << 6,
};

/* The file calls traced for tracked tasks. */
enum cg_file_op {
	CG_OP_OPEN = 1,     /* open, openat, openat2, creat */
	CG_OP_UNLINK = 2,   /* unlink, unlinkat */
	CG_OP_RMDIR = 3,    /* rmdir, unlinkat(AT_REMOVEDIR) */
	CG_OP_RENAME = 4,   /* rename, renameat, renameat2 */
	CG_OP_TRUNCATE = 5, /* truncate */
	CG_OP_LINK = 6,     /* linkat */
	CG_OP_SYMLINK = 7,  /* symlinkat */
	CG_OP_CHMOD = 8,    /* fchmodat */
};

/* What a file rule does (ordered: a stronger action is a larger number). */
enum cg_faction {
	CG_FACT_NONE = 0,  /* no rule matched */
	CG_FACT_ALLOW = 1,
	CG_FACT_ALERT = 2,
	CG_FACT_DENY = 3,
	CG_FACT_KILL = 4,
	CG_FACT_ASK = 5,   /* the kernel could not decide: held for user space */
};

/* A protected or allowed tree's filters (array `ftree_info`, index = tree bit). */
struct cg_ftree {
	unsigned char strict;    /* the root itself is not covered (a `dir/STAR` pattern) */
	unsigned char name_kind; /* 0: any name, 1: exact name, 2: prefix*suffix */
	unsigned char plen;
	unsigned char slen;
	char prefix[CG_FNAME_PAT];
	char suffix[CG_FNAME_PAT];
};

/* One compiled file rule (array `frules`, in policy order; access 0 ends the list). */
struct cg_frule {
	unsigned int access;          /* enum cg_access bits */
	unsigned int action;          /* enum cg_faction */
	unsigned long long under;     /* tree bits: some must cover the path */
	unsigned long long outside;   /* tree bits: none may cover the path */
	unsigned long long procs;     /* process-set bits: the caller's program must be in one */
	unsigned int flags;           /* enum cg_frule_flags */
	unsigned int pad;
};

enum cg_frule_flags {
	CG_FRULE_UNDER = 1 << 0,
	CG_FRULE_OUTSIDE = 1 << 1,
	CG_FRULE_PROCESS = 1 << 2,
};

/* Key of `ftrees` (tree roots) and `fprocs` (programs of process exceptions). */
struct cg_ident {
	unsigned long long dev;
	unsigned long long ino;
};

/* Key of `fnames`: a tree root named by its parent directory and the hash of its name. */
struct cg_name_key {
	unsigned long long dev;
	unsigned long long ino;
	unsigned long long hash; /* FNV-1a 64 of the name's bytes */
};

/* Flags of a file record. */
enum cg_file_flags {
	CG_FF_HELD = 1 << 0,           /* SIGSTOP sent after the call: user space decides */
	CG_FF_KILLED = 1 << 1,         /* SIGKILL sent at the call's exit */
	CG_FF_PATH_TRUNCATED = 1 << 2,
	CG_FF_NAME_TRUNCATED = 1 << 3,
	CG_FF_RELATIVE = 1 << 4,       /* path is the directory `name` is relative to */
	CG_FF_CREATED = 1 << 5,        /* open created the file */
	CG_FF_DIR = 1 << 6,            /* the opened file is a directory */
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
	CG_FLAG_TRACED = 1 << 8,   /* the task is being traced (ptrace) at its exec: a tracer can rewrite the new image */
	CG_FLAG_LOADER_ENV = 1 << 9, /* LD_PRELOAD or LD_AUDIT is set in the new image's environment (loader_env) */
	CG_FLAG_LOADER_ENV_TRUNCATED = 1 << 10, /* loader_env or the environment scan was cut short */
};

/* Daemon watch list (claude_guard_watch.bpf.h): guards are bits of a u64, so at most this many. */
#define CG_WATCH_GUARDS 64
/* Kinds of criteria a guard may give (index of `watch_any`). */
enum cg_watch_kind {
	CG_WATCH_COMM = 0,
	CG_WATCH_EXE = 1,
	CG_WATCH_UID = 2,
	CG_WATCH_CGROUP = 3,
	CG_WATCH_KINDS = 4,
};
/* cgroup levels looked at above a task's own (a guard's cgroup covers those below it). */
#define CG_WATCH_CGROUP_DEPTH 16

/* The watch list's guards, as bits (value of the one-entry `watch_conf` map). */
struct cg_watch_conf {
	unsigned long long guards;               /* guards in the list (0: empty, nothing is looked up) */
	unsigned long long any[CG_WATCH_KINDS];  /* guards that give no criterion of this kind */
	unsigned long long confirm;              /* guards user space confirms (an argv pattern) */
	unsigned long long audit;                /* guards in audit mode */
};

/* The guard's own processes the tree may not signal: the guard, its watchdog, its job-control tracer. */
#define CG_GUARD_PROCS 3

/* What a tracked task did to another process's memory (a ptrace record's op). */
enum cg_ptrace_op {
	CG_PT_ATTACH = 1,   /* ptrace(PTRACE_ATTACH) */
	CG_PT_SEIZE = 2,    /* ptrace(PTRACE_SEIZE) */
	CG_PT_VM_WRITE = 3, /* process_vm_writev */
	CG_PT_PROC_MEM = 4, /* /proc/PID/mem opened for writing (seen with file rules, at the open's return) */
	CG_PT_SIGNAL = 5,   /* a signal to one of the guard's own processes (claude_guard_tamper.bpf.h) */
};

/* Flags of a ptrace record. */
enum cg_ptrace_flags {
	CG_PTF_TRACKED = 1 << 0,   /* the target was tracked already (same or another guarded tree) */
	CG_PTF_ADOPTED = 1 << 1,   /* the untracked target is tracked now, under the tracer's root */
	CG_PTF_KILLED = 1 << 2,    /* SIGKILL sent to the tracer at the call's entry */
	CG_PTF_HELD = 1 << 3,      /* SIGSTOP sent to the tracer at the call's entry: user space decides */
	CG_PTF_NO_TARGET = 1 << 4, /* no such process (the call fails with ESRCH) */
	CG_PTF_TARGET_STOPPED = 1 << 5, /* the target was stopped (job control) before the call */
	CG_PTF_EXECED = 1 << 6,    /* the tracked target has exec'd since its fork: its argv was judged already */
	CG_PTF_TARGET_KILLED = 1 << 7, /* SIGKILL sent to the target too (its memory is written as the call returns) */
	CG_PTF_GROUP = 1 << 8,     /* CG_PT_SIGNAL: sent to a process group (or to every process) the guard is in */
	CG_PTF_CONTINUE = 1 << 9,  /* CG_PT_SIGNAL: a stop signal; the guard's processes get SIGCONT as the call returns */
};

/* Indexes of the per-CPU counters in the `stats` map. */
enum cg_stat {
	CG_STAT_LOST = 0,     /* records the ring buffer had no room for */
	CG_STAT_EXECS = 1,    /* tracked execs seen */
	CG_STAT_HELD = 2,     /* execs held */
	CG_STAT_KILLED = 3,   /* execs killed in the kernel */
	CG_STAT_RESUMED_KILL = 4, /* held tasks resumed by someone else, killed at their next syscall */
	CG_STAT_UNTRACKED = 5, /* forks of a tracked task the `tracked` map had no room for (child killed) */
	CG_STAT_UNHELD = 6,    /* holds the `held` map had no room for (decided in the kernel: on_timeout) */
	CG_STAT_MAX = 7,
};

/* Value of the `tracked` map (key: tgid). */
struct cg_tracked {
	unsigned int root;       /* tgid of the guarded root this task descends from */
	unsigned int landlocked; /* enum cg_access bits the kernel refuses in this tree (Landlock) */
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

/* Value of the `hold_words` map (key: the file's cg_file_key): when an exec of a file whose verdict is
 * CG_VERDICT_HOLD may pass in the kernel. Every rule able to stop or kill the program needs one of `word` as an
 * argv word (after argv[0]): an argv with none of them, exec'd by one of the names the rules were compiled for,
 * cannot be acted on, so it runs without a hold. Words and names are kept as 64-bit FNV-1a hashes (cg_fnv1a):
 * a collision only holds an exec that needed none. */
#define CG_HOLD_WORDS_MAX 16
#define CG_HOLD_NAMES_MAX 8
#define CG_FNV_BASIS 0xcbf29ce484222325ULL
#define CG_FNV_PRIME 0x100000001b3ULL
struct cg_hold_words {
	unsigned int words;                           /* used entries of word */
	unsigned int names;                           /* used entries of name */
	unsigned long long word[CG_HOLD_WORDS_MAX];   /* an argv word that may make a rule act */
	unsigned long long name[CG_HOLD_NAMES_MAX];   /* a basename the file may be exec'd by (its path's, its identities) */
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
	unsigned short loader_env_len; /* bytes of loader_env: NAME=value strings, each NUL-terminated */
	char comm[CG_COMM_LEN];
	char filename[CG_FILENAME_MAX];
	char path[CG_PATH_FIELD];
	char cwd[CG_PATH_FIELD];
	char loader_env[CG_LOADER_ENV_MAX + CG_ENV_STEP];
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

/* A file call of a tracked task, at its exit. */
struct cg_file_event {
	struct cg_header hdr;
	unsigned int ppid;
	unsigned int root;
	unsigned int uid;
	unsigned int op;              /* enum cg_file_op */
	unsigned int access;          /* enum cg_access bits of the call */
	int ret;                      /* fd, 0, or negative errno */
	unsigned int open_flags;
	unsigned int mode;
	unsigned int rule;            /* 1 + index of the rule the kernel applied, 0: none */
	unsigned int action;          /* enum cg_faction of that rule */
	unsigned int flags;           /* enum cg_file_flags */
	unsigned int pad0;
	unsigned short path_off;      /* path is path[path_off .. CG_PATH_MAX) */
	unsigned short name_len;      /* bytes of name (the call's path argument), no NUL */
	unsigned short name2_len;     /* bytes of name2 (rename/link target) */
	unsigned short pad;
	char comm[CG_COMM_LEN];
	char path[CG_PATH_FIELD];     /* the opened file, or the directory name is relative to */
	char name[CG_FSTR_MAX];
	char name2[CG_FSTR_MAX];
};

/* A ptrace(PTRACE_ATTACH|PTRACE_SEIZE) or process_vm_writev of a tracked task, at the call's entry, or its open of
 * another process's /proc/PID/mem for writing, at the open's return, or its signal to a process of the guard. */
struct cg_ptrace_event {
	struct cg_header hdr;         /* pid: the tracer's tgid */
	unsigned int ppid;
	unsigned int root;            /* the tracer's guarded root */
	unsigned int uid;
	unsigned int op;              /* enum cg_ptrace_op */
	int target;                   /* the pid as the tracer gave it (its own PID namespace) */
	unsigned int target_tgid;     /* the target's process, as the guard sees it (0: no such process) */
	unsigned int flags;           /* enum cg_ptrace_flags */
	unsigned int sig;             /* CG_PT_SIGNAL: the signal's number */
	char comm[CG_COMM_LEN];
	char target_comm[CG_COMM_LEN];
};

#define CG_EXEC_HEAD_SIZE (sizeof(struct cg_exec_event) - CG_ARGV_MAX)

#ifndef __bpf__
_Static_assert(sizeof(struct cg_header) == 16, "cg_header layout");
_Static_assert(sizeof(struct cg_exec_event) % 8 == 0, "cg_exec_event padding");
_Static_assert(__builtin_offsetof(struct cg_exec_event, argv) == CG_EXEC_HEAD_SIZE, "argv last");
_Static_assert(sizeof(struct cg_exit_event) == 56, "cg_exit_event layout");
_Static_assert(sizeof(struct cg_file_key) == 32, "cg_file_key layout");
_Static_assert(sizeof(struct cg_frule) == 40, "cg_frule layout");
_Static_assert(sizeof(struct cg_ftree) == 4 + 2 * CG_FNAME_PAT, "cg_ftree layout");
_Static_assert(sizeof(struct cg_file_event) % 8 == 0, "cg_file_event padding");
_Static_assert(sizeof(struct cg_ptrace_event) == 80, "cg_ptrace_event layout");
#endif

/* ==== Interactive bash: the uretprobe on readline (claude_guard_bash.bpf.h) ==== */

/* Bytes of a line copied (NUL included); a longer line is flagged truncated. */
#define CG_BASH_LINE_MAX 16384
#define CG_TTY_NAME 64

/* Flags of a bash line record. */
enum cg_bash_flags {
	CG_BASH_TRUNCATED = 1 << 0,     /* the line is longer than CG_BASH_LINE_MAX - 1 bytes: line is its head */
	CG_BASH_HELD = 1 << 1,          /* SIGSTOP sent before this record: user space decides */
	CG_BASH_KILLED = 1 << 2,        /* SIGKILL sent (the guard is lost and on_timeout kills, or the ring is full) */
	CG_BASH_CWD_TRUNCATED = 1 << 3,
};

/* One line an interactive bash of the tree read with readline, before it runs it. Variable length: line is
 * last and only line_len bytes of it are sent. */
struct cg_bash_event {
	struct cg_header hdr;         /* pid: tgid */
	unsigned int ppid;
	unsigned int uid;
	unsigned int root;
	unsigned int flags;           /* enum cg_bash_flags */
	int tty_index;                /* the controlling terminal's index (pts/N), -1: none */
	unsigned short cwd_off;       /* cwd is cwd[cwd_off .. CG_PATH_MAX) */
	unsigned short pad;
	unsigned int line_len;        /* bytes of line, no NUL */
	unsigned int pad2;
	unsigned long long line_addr; /* where the line is in the shell's memory (read whole while it is held) */
	char comm[CG_COMM_LEN];
	char tty[CG_TTY_NAME];        /* the controlling terminal's name (`pts3`, `tty1`), empty: none */
	char cwd[CG_PATH_FIELD];
	char line[CG_BASH_LINE_MAX];
};

#define CG_BASH_HEAD_SIZE (sizeof(struct cg_bash_event) - CG_BASH_LINE_MAX)

#ifndef __bpf__
_Static_assert(sizeof(struct cg_bash_event) % 8 == 0, "cg_bash_event padding");
_Static_assert(__builtin_offsetof(struct cg_bash_event, line) == CG_BASH_HEAD_SIZE, "line last");
#endif
/* ==== end of interactive bash ==== */

/* ==== HTTPS plaintext capture: claude_guard_ssl.bpf.c and Sources/CBPF/cssl.c ==== */

/* Plaintext bytes copied per SSL call; a call that moved more is flagged truncated. */
#define CG_SSL_DATA_MAX 16384

/* Record types on the SSL object's own ring buffer (apart from enum cg_event_type's). */
enum cg_ssl_event_type {
	CG_EVENT_SSL_DATA = 16,    /* plaintext of one SSL_read/SSL_write call */
	CG_EVENT_SSL_MAPPED = 17,  /* a tracked process mapped an executable file never reported before */
};

/* The probed OpenSSL functions (index of the uprobe and uretprobe pair). */
enum cg_ssl_func {
	CG_SSL_FN_READ = 0,     /* int SSL_read(SSL *, void *buf, int num) */
	CG_SSL_FN_WRITE = 1,    /* int SSL_write(SSL *, const void *buf, int num) */
	CG_SSL_FN_READ_EX = 2,  /* int SSL_read_ex(SSL *, void *buf, size_t num, size_t *readbytes) */
	CG_SSL_FN_WRITE_EX = 3, /* int SSL_write_ex(SSL *, const void *buf, size_t num, size_t *written) */
	CG_SSL_FN_MAX = 4,
};

/* Flags of an SSL data record. */
enum cg_ssl_flags {
	CG_SSL_WRITE = 1 << 0,       /* bytes the process sent (else bytes it received) */
	CG_SSL_TRUNCATED = 1 << 1,   /* the call moved more than CG_SSL_DATA_MAX bytes: data is the head */
	CG_SSL_COPY_FAILED = 1 << 2, /* the bytes could not be read from the process (none in data) */
};

/* Indexes of the per-CPU counters in the SSL object's `ssl_stats` map. */
enum cg_ssl_stat {
	CG_SSL_STAT_LOST = 0,      /* records the ring buffer had no room for */
	CG_SSL_STAT_CALLS = 1,     /* calls of tracked processes that moved bytes */
	CG_SSL_STAT_TRUNCATED = 2, /* of those, calls longer than CG_SSL_DATA_MAX */
	CG_SSL_STAT_MAX = 3,
};

/* One SSL_read/SSL_write call of a tracked process, at its return. Variable
 * length: data is last and only data_len bytes of it are sent. A mapped-file
 * record is the head alone, with the file's inode in ssl and device in len. */
struct cg_ssl_event {
	struct cg_header hdr;           /* pid: tgid */
	unsigned int tid;
	unsigned int root;              /* the tracked root of the process */
	unsigned int func;              /* enum cg_ssl_func */
	unsigned int flags;             /* enum cg_ssl_flags */
	unsigned long long ssl;         /* the SSL object: one TLS connection of the process, both directions */
	unsigned long long len;         /* bytes the call moved */
	unsigned int data_len;          /* bytes copied into data (<= CG_SSL_DATA_MAX) */
	unsigned int pad;
	unsigned long long latency_ns;  /* call entry to return */
	char comm[CG_COMM_LEN];
	char data[CG_SSL_DATA_MAX];
};

#define CG_SSL_HEAD_SIZE (sizeof(struct cg_ssl_event) - CG_SSL_DATA_MAX)

#ifndef __bpf__
_Static_assert(sizeof(struct cg_ssl_event) % 8 == 0, "cg_ssl_event padding");
_Static_assert(__builtin_offsetof(struct cg_ssl_event, data) == CG_SSL_HEAD_SIZE, "data last");
_Static_assert(CG_SSL_HEAD_SIZE == 80, "cg_ssl_event layout");
#endif
/* ==== end of HTTPS plaintext capture ==== */

#endif /* CLAUDE_GUARD_H */
