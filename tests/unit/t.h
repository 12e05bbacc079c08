/*
 * t.h: the unit tests' tiny harness.
 *
 * CHECK(cond, fmt, ...) counts one case; a failure prints where and why.
 * t_group("name") starts a named group (one fixture file, say) and
 * t_group_end() prints "name: N passed, M failed" for it.  t_done() prints
 * the program's total as "<prog>: N passed, M failed" (the line
 * scripts/run-tests.sh adds up) and returns the exit status.
 * Fixture paths are relative to the project root (tests run from there).
 */
#ifndef PDS_T_H
#define PDS_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	t_pass, t_fail, t_gpass, t_gfail;
static const char *t_gname;

#define CHECK(cond, ...) do {						\
	if (cond) { t_pass++; t_gpass++; }				\
	else {								\
		t_fail++; t_gfail++;					\
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

static inline void
t_group(const char *name)
{
	t_gname = name;
	t_gpass = t_gfail = 0;
}

static inline void
t_group_end(void)
{
	printf("  %s: %d passed, %d failed\n", t_gname, t_gpass, t_gfail);
}

static inline int
t_done(const char *prog)
{
	printf("%s: %d passed, %d failed\n", prog, t_pass, t_fail);
	return t_fail ? 1 : 0;
}

/* Read a whole file; NULL if it cannot be read.  Caller frees. */
static inline char *
t_slurp(const char *path, size_t *lenp)
{
	FILE	*f = fopen(path, "rb");
	char	*p = NULL;
	size_t	 cap = 0, len = 0, n;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *np = realloc(p, cap ? cap * 2 : 8192);
			if (np == NULL) { free(p); fclose(f); return NULL; }
			p = np;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(p + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	p[len] = '\0';
	if (lenp)
		*lenp = len;
	return p;
}

/* Parse hex into out; returns byte count or -1. */
static inline long
t_unhex(unsigned char *out, size_t cap, const char *hex)
{
	size_t	 n = strlen(hex), i;

	if (n % 2 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (long)(n / 2);
}

#endif
