// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Included by claude_guard.bpf.c: an exec the verdicts map holds passes when no rule could act on its argv. */

/* What user space compiled for a file (Policy.holdWords): absent, every exec of a held file is held. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct cg_file_key);
	__type(value, struct cg_hold_words);
} hold_words SEC(".maps");

/* State of one scan of argv or of the exec'd name, shared with the bpf_loop callbacks. */
struct words_scan {
	const char *buf;
	const struct cg_hold_words *w;
	__u64 h;
	__u32 word; /* words ended so far */
	__u32 hit;
};

/* Whether `h` is among the first n of set (of max entries). */
static __always_inline bool words_has(const __u64 *set, __u32 n, const __u32 max, __u64 h)
{
	for (__u32 i = 0; i < max; i++) {
		if (i >= n)
			break;
		if (set[i] == h)
			return true;
	}
	return false;
}

/* One byte of argv: hash it, or at a word's NUL look the word up (argv[0] is the program's name, not a word). */
static long words_argv_step(__u64 index, void *ctx)
{
	struct words_scan *s = ctx;
	__u8 c = s->buf[index & (CG_ARGV_MAX - 1)];

	if (c) {
		s->h = (s->h ^ c) * CG_FNV_PRIME;
		return 0;
	}
	if (s->word++ > 0 && words_has(s->w->word, s->w->words, CG_HOLD_WORDS_MAX, s->h)) {
		s->hit = 1;
		return 1;
	}
	s->h = CG_FNV_BASIS;
	return 0;
}

/* One byte of the name given to execve: hash what follows its last '/'. */
static long words_name_step(__u64 index, void *ctx)
{
	struct words_scan *s = ctx;
	__u8 c = s->buf[index & (CG_FILENAME_MAX - 1)];

	s->h = c == '/' ? CG_FNV_BASIS : (s->h ^ c) * CG_FNV_PRIME;
	return 0;
}

/**
 * Whether a held file's exec may pass without a hold: its compiled words exist, the name it was exec'd by is one
 * they were compiled for (a link named `rm` to it would meet other rules), and no argv word after argv[0] is one
 * of them. Anything the scan cannot see whole (a cut argv or name, an argv not ending in NUL) keeps the hold.
 */
static __always_inline bool words_pass(const struct cg_file_key *key, const struct cg_exec_event *e, __u64 argv_len)
{
	const struct cg_hold_words *w = bpf_map_lookup_elem(&hold_words, key);

	if (!w || argv_len == 0 || argv_len > CG_ARGV_MAX || e->filename_len >= CG_FILENAME_MAX)
		return false;
	if (e->argv[(argv_len - 1) & (CG_ARGV_MAX - 1)] != 0)
		return false;
	struct words_scan s = { .buf = e->filename, .w = w, .h = CG_FNV_BASIS };

	bpf_loop(e->filename_len, words_name_step, &s, 0);
	if (s.h == CG_FNV_BASIS || !words_has(w->name, w->names, CG_HOLD_NAMES_MAX, s.h))
		return false;
	s.buf = e->argv;
	s.h = CG_FNV_BASIS;
	s.word = 0;
	if (bpf_loop(argv_len, words_argv_step, &s, 0) < 0)
		return false;
	return !s.hit;
}
