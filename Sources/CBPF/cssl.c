// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* HTTPS plaintext capture: owns the SSL skeleton, its links and ring buffer; see include/cssl.h. */
#define _GNU_SOURCE
#include "cssl.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "claude_guard_ssl.skel.h"

struct cg_ssl {
	struct claude_guard_ssl_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link **links;
	size_t nlinks, cap;
};

static int keep_link(cg_ssl *ssl, struct bpf_link *link)
{
	if (ssl->nlinks == ssl->cap) {
		size_t cap = ssl->cap ? ssl->cap * 2 : 16;
		struct bpf_link **grown = realloc(ssl->links, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		ssl->links = grown;
		ssl->cap = cap;
	}
	ssl->links[ssl->nlinks++] = link;
	return 0;
}

/* Whether this kernel has the syscall tracepoint (CONFIG_FTRACE_SYSCALLS). */
static bool has_tracepoint(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/syscalls/%s", name);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/syscalls/%s", name);
	return access(path, F_OK) == 0;
}

int cg_ssl_load(int tracked_fd, const char *btf_path, cg_ssl **out)
{
	struct cg_ssl *ssl;
	struct bpf_link *link;
	int err;

	ssl = calloc(1, sizeof(*ssl));
	if (!ssl)
		return -ENOMEM;
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf_path);
	ssl->skel = claude_guard_ssl_bpf__open_opts(&opts);
	if (!ssl->skel) {
		err = -errno;
		free(ssl);
		return err ? err : -EINVAL;
	}
	/* One tracked set for both objects: fork and exit keep it in the main one. */
	err = bpf_map__reuse_fd(ssl->skel->maps.tracked, tracked_fd);
	/* Without syscall tracepoints, libraries are found at exec only. */
	bpf_program__set_autoload(ssl->skel->progs.mmap_exit, has_tracepoint("sys_exit_mmap"));
	if (!err)
		err = claude_guard_ssl_bpf__load(ssl->skel);
	if (!err && bpf_program__autoload(ssl->skel->progs.mmap_exit)) {
		link = bpf_program__attach(ssl->skel->progs.mmap_exit);
		err = link ? keep_link(ssl, link) : (errno ? -errno : -EINVAL);
		if (err && link)
			bpf_link__destroy(link);
	}
	if (err) {
		cg_ssl_destroy(ssl);
		return err < 0 ? err : -EINVAL;
	}
	*out = ssl;
	return 0;
}

bool cg_ssl_sees_mappings(cg_ssl *ssl)
{
	return bpf_program__autoload(ssl->skel->progs.mmap_exit);
}

int cg_ssl_forget_file(cg_ssl *ssl, uint64_t dev, uint64_t ino)
{
	struct cg_ident id = { .dev = dev, .ino = ino };

	return bpf_map_delete_elem(bpf_map__fd(ssl->skel->maps.seen_files), &id) ? -errno : 0;
}

void cg_ssl_destroy(cg_ssl *ssl)
{
	if (!ssl)
		return;
	ring_buffer__free(ssl->rb);
	for (size_t i = 0; i < ssl->nlinks; i++)
		bpf_link__destroy(ssl->links[i]);
	free(ssl->links);
	claude_guard_ssl_bpf__destroy(ssl->skel);
	free(ssl);
}

/* Attach one program at path:offset for every process (pid -1) and keep the link. */
static int attach_one(cg_ssl *ssl, struct bpf_program *prog, const char *path, uint64_t offset, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, -1, path, offset, &opts);
	int err;

	if (!link)
		return errno ? -errno : -EINVAL;
	err = keep_link(ssl, link);
	if (err)
		bpf_link__destroy(link);
	return err;
}

int cg_ssl_attach_file(cg_ssl *ssl, const char *path, const uint64_t offsets[CG_SSL_FN_MAX])
{
	struct bpf_program *entry[CG_SSL_FN_MAX] = {
		[CG_SSL_FN_READ] = ssl->skel->progs.ssl_read_entry,
		[CG_SSL_FN_WRITE] = ssl->skel->progs.ssl_write_entry,
		[CG_SSL_FN_READ_EX] = ssl->skel->progs.ssl_read_ex_entry,
		[CG_SSL_FN_WRITE_EX] = ssl->skel->progs.ssl_write_ex_entry,
	};
	struct bpf_program *exit[CG_SSL_FN_MAX] = {
		[CG_SSL_FN_READ] = ssl->skel->progs.ssl_read_return,
		[CG_SSL_FN_WRITE] = ssl->skel->progs.ssl_write_return,
		[CG_SSL_FN_READ_EX] = ssl->skel->progs.ssl_read_ex_return,
		[CG_SSL_FN_WRITE_EX] = ssl->skel->progs.ssl_write_ex_return,
	};
	size_t first = ssl->nlinks;
	int n = 0, err = 0;

	for (int f = 0; f < CG_SSL_FN_MAX && !err; f++) {
		if (!offsets[f])
			continue;
		/* Return probe first: an entry without its return would leave calls in flight. */
		err = attach_one(ssl, exit[f], path, offsets[f], true);
		if (!err)
			err = attach_one(ssl, entry[f], path, offsets[f], false);
		if (!err)
			n++;
	}
	if (err) {
		while (ssl->nlinks > first)
			bpf_link__destroy(ssl->links[--ssl->nlinks]);
		return err;
	}
	return n;
}

int cg_ssl_open_ringbuf(cg_ssl *ssl, cg_event_fn fn, void *ctx)
{
	ssl->rb = ring_buffer__new(bpf_map__fd(ssl->skel->maps.ssl_events), (ring_buffer_sample_fn)fn, ctx, NULL);
	return ssl->rb ? 0 : (errno ? -errno : -EINVAL);
}

int cg_ssl_poll(cg_ssl *ssl, int timeout_ms)
{
	int n = ring_buffer__poll(ssl->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

int cg_ssl_consume(cg_ssl *ssl)
{
	return ring_buffer__consume(ssl->rb);
}

int cg_ssl_epoll_fd(cg_ssl *ssl)
{
	return ring_buffer__epoll_fd(ssl->rb);
}

int cg_ssl_stats(cg_ssl *ssl, uint64_t out[CG_SSL_STAT_MAX])
{
	return cg_percpu_sum(bpf_map__fd(ssl->skel->maps.ssl_stats), out, CG_SSL_STAT_MAX);
}

/* The file offset of a virtual address: through the loadable segment that maps it. */
static uint64_t vaddr_to_offset(Elf *elf, uint64_t vaddr)
{
	size_t n;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_memsz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

/* Look the names up in one symbol table; fills the offsets still 0. */
static void scan_symbols(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const char *const *names, int count,
			 uint64_t *offsets)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t nsyms = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	GElf_Sym sym;

	if (!data)
		return;
	for (size_t i = 0; i < nsyms; i++) {
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name)
			continue;
		for (int k = 0; k < count; k++) {
			if (!offsets[k] && strcmp(name, names[k]) == 0)
				offsets[k] = vaddr_to_offset(elf, sym.st_value);
		}
	}
}

int cg_elf_func_offsets(const char *path, const char *const *names, int count, uint64_t *offsets)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int fd, found = 0;

	for (int k = 0; k < count; k++)
		offsets[k] = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -ENOEXEC;
	}
	/* The dynamic symbols first (small, and what a stripped binary keeps), then the full table. */
	for (int pass = 0; pass < 2; pass++) {
		Elf64_Word want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;

		scn = NULL;
		while ((scn = elf_nextscn(elf, scn)) != NULL) {
			if (gelf_getshdr(scn, &sh) && sh.sh_type == want)
				scan_symbols(elf, scn, &sh, names, count, offsets);
		}
		found = 0;
		for (int k = 0; k < count; k++)
			found += offsets[k] != 0;
		if (found == count)
			break;
	}
	elf_end(elf);
	close(fd);
	return found;
}
