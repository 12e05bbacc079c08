/* Unit tests: TIDs (atproto-notes §7, vector V4). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "tid.h"
#include "t.h"

static const struct {
	const char	*tid;
	uint64_t	 micros;
	unsigned	 clock;
} v4[] = {
	{ "3jzfcijpj2z2a", 1688137381887007ULL, 6 },
	{ "2222222222222", 0, 0 },
	{ "3khuwc44c2222", 1704067200000000ULL, 0 },
	{ "3khuwc44c2227", 1704067200000000ULL, 5 },
	{ "3khuwc44c22zz", 1704067200000000ULL, 1023 },
};

static void
test_v4(void)
{
	char		 out[TID_LEN + 1];
	uint64_t	 m;
	unsigned	 c;
	size_t		 i;

	t_group("V4 table");
	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		CHECK(tid_from_parts(out, v4[i].micros, v4[i].clock) == PDS_OK &&
		    strcmp(out, v4[i].tid) == 0, "encode %s: got %s",
		    v4[i].tid, out);
		CHECK(tid_parse(v4[i].tid, &m, &c) == PDS_OK &&
		    m == v4[i].micros && c == v4[i].clock,
		    "decode %s", v4[i].tid);
		CHECK(tid_valid(v4[i].tid, TID_LEN), "valid %s", v4[i].tid);
	}
	t_group_end();

	t_group("TID refusals");
	CHECK(tid_from_parts(out, TID_MICROS_MAX + 1, 0) == PDS_EINVAL, "micros");
	CHECK(tid_from_parts(out, 0, 1024) == PDS_EINVAL, "clock");
	CHECK(tid_from_parts(out, TID_MICROS_MAX, 1023) == PDS_OK &&
	    strcmp(out, "bzzzzzzzzzzzz") == 0, "max %s", out);
	/* The syntax allows bit 63 (first digit up to 'j'); parse keeps it. */
	CHECK(tid_parse("jzzzzzzzzzzzz", &m, &c) == PDS_OK &&
	    m == ((uint64_t)1 << 54) - 1 && c == 1023, "bit 63");
	CHECK(tid_parse("kjzfcijpj2z2a", &m, &c) == PDS_EINVAL, "top bit");
	CHECK(tid_parse("3jzfcijpj2z2", &m, &c) == PDS_EINVAL, "short");
	CHECK(tid_parse("3jzfcijpj2z2aa", &m, &c) == PDS_EINVAL, "long");
	CHECK(tid_parse("3JZFCIJPJ2Z2A", &m, &c) == PDS_EINVAL, "upper");
	CHECK(tid_parse_len("3jzfcijpj2z2a!", 13, &m, &c) == PDS_OK &&
	    m == 1688137381887007ULL, "counted");
	CHECK(tid_next_after(out, "nope") == PDS_EINVAL, "bad prev");
	t_group_end();
}

static uint64_t
wall_micros(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
test_generator(void)
{
	char		 prev[TID_LEN + 1], cur[TID_LEN + 1], far[TID_LEN + 1];
	uint64_t	 m, before, after;
	unsigned	 c, c0;
	int		 i, bad = 0;

	t_group("generator");
	before = wall_micros();
	tid_next(prev);
	CHECK(tid_parse(prev, &m, &c0) == PDS_OK, "%s", prev);
	after = wall_micros();
	CHECK(m + 1 >= before && m <= after + 1, "time %llu in [%llu,%llu]",
	    (unsigned long long)m, (unsigned long long)before,
	    (unsigned long long)after);
	CHECK(c0 < 32, "clock id %u", c0);
	for (i = 0; i < 100000; i++) {
		tid_next(cur);
		if (strcmp(cur, prev) <= 0 || tid_parse(cur, &m, &c) != PDS_OK ||
		    c != c0)
			bad++;
		memcpy(prev, cur, sizeof(cur));
	}
	CHECK(bad == 0, "%d of 100000 not increasing", bad);

	/* A prev ahead of the clock (a minute) is passed, and sticks. */
	CHECK(tid_parse(cur, &m, NULL) == PDS_OK, "parse");
	tid_from_parts(far, m + 60000000, 31);
	CHECK(tid_next_after(cur, far) == PDS_OK && strcmp(cur, far) > 0,
	    "%s > %s", cur, far);
	tid_next(prev);
	CHECK(strcmp(prev, cur) > 0, "tid_next after next_after: %s > %s",
	    prev, cur);
	/* A prev years ahead is passed but does not drag tid_next. */
	tid_from_parts(far, m + (uint64_t)86400 * 365 * 1000000, 1023);
	CHECK(tid_next_after(cur, far) == PDS_OK && strcmp(cur, far) > 0,
	    "%s > %s", cur, far);
	tid_next(prev);
	CHECK(strcmp(prev, far) < 0, "not dragged: %s", prev);
	CHECK(tid_next_after(cur, NULL) == PDS_OK && strcmp(cur, prev) > 0,
	    "NULL prev");
	/* At the very top there is no TID left. */
	tid_from_parts(far, TID_MICROS_MAX, 0);
	CHECK(tid_next_after(cur, far) == PDS_ETOOBIG, "overflow");
	t_group_end();
}

#define NTHREADS	8
#define PER_THREAD	20000

static char	 tids[NTHREADS][PER_THREAD][TID_LEN + 1];

static void *
worker(void *arg)
{
	char	(*mine)[TID_LEN + 1] = arg;
	int	 i;

	for (i = 0; i < PER_THREAD; i++)
		tid_next(mine[i]);
	return NULL;
}

static int
cmp_tid(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_threads(void)
{
	pthread_t	 th[NTHREADS];
	char		(*all)[TID_LEN + 1] = (char (*)[TID_LEN + 1])tids;
	int		 i, j, bad = 0, dup = 0;

	t_group("threads");
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, tids[i]);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NTHREADS; i++)
		for (j = 1; j < PER_THREAD; j++)
			if (strcmp(tids[i][j], tids[i][j - 1]) <= 0)
				bad++;
	CHECK(bad == 0, "%d out of order within a thread", bad);
	qsort(all, NTHREADS * PER_THREAD, TID_LEN + 1, cmp_tid);
	for (i = 1; i < NTHREADS * PER_THREAD; i++)
		if (strcmp(all[i], all[i - 1]) == 0)
			dup++;
	CHECK(dup == 0, "%d duplicates across threads", dup);
	t_group_end();
}

int
main(void)
{
	test_v4();
	test_generator();
	test_threads();
	return t_done("test_tid");
}
