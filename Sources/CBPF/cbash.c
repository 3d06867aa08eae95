// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Interactive bash: the readline uretprobe's links and its executables map; see include/cbash.h. */
#define _GNU_SOURCE
#include "cbash.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct cg_bash {
	struct bpf_program *prog;
	int exes_fd;
	struct bpf_link **links;
	size_t nlinks, cap;
};

int cg_bash_open(cg_bpf *bpf, cg_bash **out)
{
	struct bpf_object *obj = cg_bpf_object(bpf);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "bash_readline_return");
	struct cg_bash *bash;

	if (!prog || !bpf_program__autoload(prog) || bpf_program__fd(prog) < 0)
		return -ENOENT;
	bash = calloc(1, sizeof(*bash));
	if (!bash)
		return -ENOMEM;
	bash->prog = prog;
	bash->exes_fd = bpf_object__find_map_fd_by_name(obj, "bash_exes");
	if (bash->exes_fd < 0) {
		free(bash);
		return -ENOENT;
	}
	*out = bash;
	return 0;
}

void cg_bash_destroy(cg_bash *bash)
{
	if (!bash)
		return;
	for (size_t i = 0; i < bash->nlinks; i++)
		bpf_link__destroy(bash->links[i]);
	free(bash->links);
	free(bash);
}

int cg_bash_add_exe(cg_bash *bash, uint64_t dev, uint64_t ino)
{
	/* The kernel's s_dev encoding (MKDEV: major << 20 | minor), not glibc's dev_t. */
	struct cg_ident id = { .dev = ((uint64_t)major(dev) << 20) | minor(dev), .ino = ino };
	uint8_t one = 1;

	return bpf_map_update_elem(bash->exes_fd, &id, &one, BPF_ANY) ? -errno : 0;
}

int cg_bash_attach(cg_bash *bash, const char *path, uint64_t offset)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = true);
	struct bpf_link *link;

	if (bash->nlinks == bash->cap) {
		size_t cap = bash->cap ? bash->cap * 2 : 4;
		struct bpf_link **grown = realloc(bash->links, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		bash->links = grown;
		bash->cap = cap;
	}
	link = bpf_program__attach_uprobe_opts(bash->prog, -1, path, offset, &opts);
	if (!link)
		return errno ? -errno : -EINVAL;
	bash->links[bash->nlinks++] = link;
	return 0;
}
