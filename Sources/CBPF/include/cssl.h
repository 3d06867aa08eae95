/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The C surface of the HTTPS plaintext capture (bpf/claude_guard_ssl.bpf.c):
 * load the second object on the main object's `tracked` map, attach its
 * uprobes to a file at offsets found in the file's ELF symbols, read its ring
 * buffer. Every function returns 0 (or a count) or a negative errno.
 */
#ifndef CSSL_H
#define CSSL_H

#include <stdint.h>
#include "cbpf.h"

typedef struct cg_ssl cg_ssl;

/* Byte offset of struct cg_ssl_event's data (Swift does not import a 16 KiB array). */
static inline size_t cg_ssl_offset_data(void) { return offsetof(struct cg_ssl_event, data); }
static inline size_t cg_ssl_offset_comm(void) { return offsetof(struct cg_ssl_event, comm); }

/* The main object's `tracked` map (fd owned by the main object). */
int cg_bpf_tracked_fd(cg_bpf *bpf);

/* Open and load the capture programs, sharing the `tracked` map whose fd is given; the mmap tracepoint is
 * attached, the uprobes are not (cg_ssl_attach_file). */
int cg_ssl_load(int tracked_fd, const char *btf_path, cg_ssl **out);
/* Detach and free everything (ring buffer first, then the links, then the object). */
void cg_ssl_destroy(cg_ssl *ssl);

/*
 * Attach the entry and return probes of each enum cg_ssl_func whose file
 * offset in path is non-zero. Returns how many functions were attached; on an
 * error nothing of this call stays attached.
 */
int cg_ssl_attach_file(cg_ssl *ssl, const char *path, const uint64_t offsets[CG_SSL_FN_MAX]);
/* Whether the mmap tracepoint reports the files tracked processes map (false: this kernel has no syscall
 * tracepoints, and libraries are found at exec only). */
bool cg_ssl_sees_mappings(cg_ssl *ssl);
/* Let the kernel report this file again (its first report could not be followed: the process was gone). */
int cg_ssl_forget_file(cg_ssl *ssl, uint64_t dev, uint64_t ino);

int cg_ssl_open_ringbuf(cg_ssl *ssl, cg_event_fn fn, void *ctx);
/* Wait up to timeout_ms for records and handle them; returns how many or -errno (-EINTR is fine). */
int cg_ssl_poll(cg_ssl *ssl, int timeout_ms);
/* Handle the records there are now, without waiting. */
int cg_ssl_consume(cg_ssl *ssl);
/* An epoll fd that is readable when records wait (to wait on both ring buffers at once). */
int cg_ssl_epoll_fd(cg_ssl *ssl);
/* Sum of the per-CPU counters (enum cg_ssl_stat). */
int cg_ssl_stats(cg_ssl *ssl, uint64_t out[CG_SSL_STAT_MAX]);

/*
 * File offsets (what a uprobe attaches at) of the named functions defined in
 * the ELF file at path, from .dynsym and then .symtab; 0 for a name not
 * defined there. Returns how many names were found, or -errno when the file
 * is not a readable ELF file.
 */
int cg_elf_func_offsets(const char *path, const char *const *names, int count, uint64_t *offsets);

#endif /* CSSL_H */
