/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The C surface of the interactive bash probe (bpf/claude_guard_bash.bpf.h, in
 * the main object): attach its uretprobe to readline in a file at an offset
 * found in the file's ELF symbols (cg_elf_func_offsets), name the bash
 * executables whose processes it reports. Every function returns 0 or a
 * negative errno.
 */
#ifndef CBASH_H
#define CBASH_H

#include <stdint.h>
#include "cbpf.h"

typedef struct cg_bash cg_bash;

/* Byte offsets of struct cg_bash_event's arrays (Swift does not import a 16 KiB array). */
static inline size_t cg_bash_offset_comm(void) { return offsetof(struct cg_bash_event, comm); }
static inline size_t cg_bash_offset_tty(void) { return offsetof(struct cg_bash_event, tty); }
static inline size_t cg_bash_offset_cwd(void) { return offsetof(struct cg_bash_event, cwd); }
static inline size_t cg_bash_offset_line(void) { return offsetof(struct cg_bash_event, line); }

/* The probe of a loaded object; -ENOENT when it was not loaded (-B). */
int cg_bash_open(cg_bpf *bpf, cg_bash **out);
/* Detach every readline probe and free (before the object is destroyed). */
void cg_bash_destroy(cg_bash *bash);
/* Report lines of processes running this executable (device, inode as stat gives them). */
int cg_bash_add_exe(cg_bash *bash, uint64_t dev, uint64_t ino);
/* Attach the readline return probe at path:offset for every process (the kernel filters). */
int cg_bash_attach(cg_bash *bash, const char *path, uint64_t offset);

#endif /* CBASH_H */
