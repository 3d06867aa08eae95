/* The GNU extensions of glibc that GuardCore uses, which the Glibc module leaves out (they need _GNU_SOURCE). */
#ifndef CG_GLIBC_SHIM_H
#define CG_GLIBC_SHIM_H

/* glibc 2.32: the name of an errno value ("ENOENT"), or NULL for a number it does not know. */
extern const char *strerrorname_np(int errnum);

#endif
