/*
 * rlbench: what PDS_RATE_LIMITS_ENABLED costs a request, measured at the
 * limiter (pdsd/ratelimit.c): nanoseconds per rl_take() and per the
 * spends of one request, on one thread and on several at once.
 *
 *   rlbench [-n calls per thread] [-t max threads]
 *
 * Cases, each a line "case threads cpu-ns/call wall-ns/call calls/s"
 * (CPU time is the threads' own, which other load on the machine does
 * not inflate as it does the wall time):
 *   take-hot      one key over and over (the same client, cached)
 *   take-spread   65536 keys in turn (many clients; table misses)
 *   getRecord     one request of the global budget (1 take)
 *   createRecord  global + hourly + daily write points (3 takes)
 *   contended     every thread on the same key (worst case for a shard)
 * The budgets are raised so that nothing is refused (a refusal costs the
 * same).  The HTTP headers the router adds on top are not counted.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../pdsd/ratelimit.h"

#define NKEYS	65536

enum bcase { B_HOT, B_SPREAD, B_READ, B_WRITE, B_CONTENDED, B_N };
static const char *const bname[B_N] = { "take-hot", "take-spread",
    "getRecord", "createRecord", "contended" };

static char	 ips[NKEYS][24], dids[NKEYS][40];
static long	 ncalls = 2000000;

struct job {
	enum bcase	 c;
	int		 id;
	double		 ns;		/* wall */
	double		 cpu_ns;	/* the thread's CPU time */
};

static double
now_ns(clockid_t clk)
{
	struct timespec	 ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *
run(void *arg)
{
	struct job	*j = arg;
	long		 i;
	size_t		 k;
	int64_t		 t;
	double		 t0, c0;
	unsigned	 ok = 0;

	t0 = now_ns(CLOCK_MONOTONIC);
	c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < ncalls; i++) {
		t = rl_now_us();
		k = (size_t)(j->id * 7919 + i) & (NKEYS - 1);
		switch (j->c) {
		case B_HOT:
			ok += rl_take(RL_GLOBAL_IP, ips[j->id], NULL, 1, t,
			    NULL);
			break;
		case B_SPREAD:
		case B_READ:
			ok += rl_take(RL_GLOBAL_IP, ips[k], NULL, 1, t, NULL);
			break;
		case B_WRITE:
			ok += rl_take(RL_GLOBAL_IP, ips[k], NULL, 1, t, NULL);
			ok += rl_take(RL_REPO_WRITE_HOUR, dids[k], NULL, 3, t,
			    NULL);
			ok += rl_take(RL_REPO_WRITE_DAY, dids[k], NULL, 3, t,
			    NULL);
			break;
		case B_CONTENDED:
			ok += rl_take(RL_GLOBAL_IP, ips[0], NULL, 1, t, NULL);
			break;
		case B_N:
			break;
		}
	}
	j->ns = (now_ns(CLOCK_MONOTONIC) - t0) / (double)ncalls;
	j->cpu_ns = (now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)ncalls;
	if (ok == 0)
		fprintf(stderr, "rlbench: everything was refused\n");
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct job	 jobs[64];
	pthread_t	 th[64];
	int		 ch, maxthr = 4, n, i, c;
	double		 sum, csum;

	while ((ch = getopt(argc, argv, "n:t:")) != -1) {
		switch (ch) {
		case 'n': ncalls = atol(optarg); break;
		case 't': maxthr = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: rlbench [-n calls] [-t threads]\n");
			return 64;
		}
	}
	if (ncalls < 1 || maxthr < 1 || maxthr > 64 || sodium_init() < 0)
		return 64;
	for (i = 0; i < NKEYS; i++) {
		snprintf(ips[i], sizeof(ips[i]), "10.%d.%d.%d", i >> 16 & 255,
		    i >> 8 & 255, i & 255);
		snprintf(dids[i], sizeof(dids[i]), "did:plc:%024d", i);
	}
	printf("%-14s %7s %12s %12s %14s\n", "case", "threads",
	    "cpu ns/call", "wall ns/call", "calls/s total");
	for (c = 0; c < B_N; c++) {
		for (n = 1; n <= maxthr; n *= 2) {
			rl_reset();
			if (rl_budgets_set("global-ip=100000000/100,"
			    "repo-write-hour=100000000/100,"
			    "repo-write-day=100000000/100") != 0)
				return 1;
			for (i = 0; i < n; i++) {
				jobs[i].c = (enum bcase)c;
				jobs[i].id = i;
				pthread_create(&th[i], NULL, run, &jobs[i]);
			}
			for (i = 0, sum = csum = 0; i < n; i++) {
				pthread_join(th[i], NULL);
				sum += jobs[i].ns;
				csum += jobs[i].cpu_ns;
			}
			printf("%-14s %7d %12.1f %12.1f %14.0f\n", bname[c], n,
			    csum / n, sum / n, 1e9 / (sum / n) * n);
		}
	}
	return 0;
}
