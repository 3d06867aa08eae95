// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Daemon mode: the watch list's maps (bpf/claude_guard_watch.bpf.h) and SIGHUP; see include/cbpf.h. */
#include "cbpf.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int map_fd(cg_bpf *bpf, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(cg_bpf_object(bpf), name);
	int fd = map ? bpf_map__fd(map) : -1;

	return fd < 0 ? -ENOENT : fd;
}

static const char *kind_map(uint32_t kind)
{
	switch (kind) {
	case CG_WATCH_COMM: return "watch_comm";
	case CG_WATCH_EXE: return "watch_exe";
	case CG_WATCH_UID: return "watch_uid";
	case CG_WATCH_CGROUP: return "watch_cgroup";
	default: return "";
	}
}

int cg_watch_put(cg_bpf *bpf, uint32_t kind, const void *key, uint64_t bits)
{
	int fd = map_fd(bpf, kind_map(kind));

	if (fd < 0)
		return fd;
	return bpf_map_update_elem(fd, key, &bits, BPF_ANY) ? -errno : 0;
}

int cg_watch_drop(cg_bpf *bpf, uint32_t kind, const void *key)
{
	int fd = map_fd(bpf, kind_map(kind));

	if (fd < 0)
		return fd;
	return bpf_map_delete_elem(fd, key) && errno != ENOENT ? -errno : 0;
}

int cg_watch_keys(cg_bpf *bpf, uint32_t kind, void *keys, int max)
{
	struct bpf_map *map = bpf_object__find_map_by_name(cg_bpf_object(bpf), kind_map(kind));
	int fd = map ? bpf_map__fd(map) : -1, n = 0;
	size_t size = map ? bpf_map__key_size(map) : 0;
	char *out = keys;
	void *prev = NULL;

	if (fd < 0)
		return -ENOENT;
	while (n < max && bpf_map_get_next_key(fd, prev, out + n * size) == 0) {
		prev = out + n * size;
		n++;
	}
	return n;
}

int cg_watch_set_conf(cg_bpf *bpf, const struct cg_watch_conf *conf)
{
	int fd = map_fd(bpf, "watch_conf");
	uint32_t zero = 0;

	if (fd < 0)
		return fd;
	return bpf_map_update_elem(fd, &zero, conf, BPF_ANY) ? -errno : 0;
}

int cg_watch_adopted(cg_bpf *bpf, uint32_t root, uint64_t *bits)
{
	int fd = map_fd(bpf, "watch_adopted");

	if (fd < 0)
		return fd;
	return bpf_map_lookup_and_delete_elem(fd, &root, bits) ? -errno : 0;
}

int cg_watch_set_audit_root(cg_bpf *bpf, uint32_t root, bool audit)
{
	int fd = map_fd(bpf, "audit_roots");
	uint32_t one = 1;

	if (fd < 0)
		return fd;
	if (audit)
		return bpf_map_update_elem(fd, &root, &one, BPF_ANY) ? -errno : 0;
	return bpf_map_delete_elem(fd, &root) && errno != ENOENT ? -errno : 0;
}

static volatile sig_atomic_t reload_requested;

static void on_reload(int sig)
{
	(void)sig;
	reload_requested = 1;
}

void cg_install_reload_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_reload;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}

int cg_reload_requested(void)
{
	int r = reload_requested;

	reload_requested = 0;
	return r;
}
