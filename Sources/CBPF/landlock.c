// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Landlock for the tree `run` launches: rulesets built by the guard, applied by the child before its exec. */
#define _GNU_SOURCE
#include "cbpf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
/* Rights a rule on a file (not a directory) may carry: execute, write, read, truncate, ioctl. */
#define LL_FILE_RIGHTS ((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 14) | (1ULL << 15))

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

int cg_landlock_abi(void)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	return abi < 0 ? -errno : (int)abi;
}

int cg_landlock_ruleset(uint64_t handled)
{
	uint64_t attr = handled; /* struct landlock_ruleset_attr starts with handled_access_fs */
	long fd = syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);

	return fd < 0 ? -errno : (int)fd;
}

int cg_landlock_allow(int ruleset, const char *path, uint64_t access)
{
	struct ll_path_beneath pb;
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LL_FILE_RIGHTS;
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (access && syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0))
		err = -errno;
	close(fd);
	return err;
}

/* In the child between fork and exec: each ruleset becomes one more layer of restriction. */
int cg_landlock_restrict(const int *rulesets, int n)
{
	for (int i = 0; i < n; i++) {
		if (syscall(__NR_landlock_restrict_self, rulesets[i], 0) == 0)
			continue;
		/* Without CAP_SYS_ADMIN the kernel asks for no_new_privs first. */
		if (errno != EPERM || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    syscall(__NR_landlock_restrict_self, rulesets[i], 0))
			return errno;
	}
	return 0;
}

