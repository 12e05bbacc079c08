/*
 * test_pdsd_ratelimit: the request budgets of pdsd/ratelimit.c: the GCRA
 * arithmetic (burst, refill, Retry-After), write points, refusals that
 * charge nothing, the fixed-size table and whom it forgets, budget
 * overrides, the trusted-proxy and bypass lists, and no lost updates
 * when threads share a key.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../../pdsd/config.h"
#include "err.h"
#include "../../pdsd/module.h"
#include "../../pdsd/ratelimit.h"
#include "t.h"

#define SEC	1000000LL

static void
test_gcra(void)
{
	struct rl_status st;
	int64_t		 now = 1000 * SEC;
	int		 i, ok = 0;
	bool		 down = true;

	t_group("GCRA");
	rl_reset();
	/* create-session: 30 per 5 min, one back every 10 s */
	for (i = 0; i < 30; i++) {
		ok += rl_take(RL_SESSION_5M, "alice.test", "192.0.2.1", 1, now,
		    &st);
		down = down && st.remaining == (uint32_t)(29 - i);
	}
	CHECK(ok == 30, "a full budget's worth passes (%d)", ok);
	CHECK(down, "remaining counts down to 0");
	CHECK(st.limit == 30 && st.window_s == 300, "limit %u window %lld",
	    st.limit, (long long)st.window_s);
	CHECK(st.full_ms == 300000, "full again in 300 s (%lld ms)",
	    (long long)st.full_ms);
	CHECK(!rl_take(RL_SESSION_5M, "alice.test", "192.0.2.1", 1, now, &st),
	    "the 31st is refused");
	CHECK(st.retry_ms == 10000, "retry after 10 s (%lld ms)",
	    (long long)st.retry_ms);
	CHECK(rl_take(RL_SESSION_5M, "alice.test", "192.0.2.2", 1, now, NULL),
	    "another address has its own budget");
	CHECK(rl_take(RL_SESSION_5M, "bob.test", "192.0.2.1", 1, now, NULL),
	    "another identifier too");
	CHECK(!rl_take(RL_SESSION_5M, "alice.test", "192.0.2.1", 1,
	    now + 9 * SEC, NULL), "nothing back after 9 s");
	CHECK(rl_take(RL_SESSION_5M, "alice.test", "192.0.2.1", 1,
	    now + 10 * SEC, NULL), "one back after 10 s");
	CHECK(!rl_take(RL_SESSION_5M, "alice.test", "192.0.2.1", 1,
	    now + 10 * SEC, NULL), "... only one");
	for (i = 0, ok = 0; i < 40; i++)
		ok += rl_take(RL_SESSION_5M, "alice.test", "192.0.2.1", 1,
		    now + 400 * SEC, NULL);
	CHECK(ok == 30, "after a long pause the burst is the budget, not "
	    "more (%d)", ok);
	t_group_end();
}

static void
test_points(void)
{
	struct rl_status st;
	int64_t		 now = 5000 * SEC;
	int		 i, ok = 0;

	t_group("write points");
	rl_reset();
	/* 5000 an hour: 1666 creates are 4998 points */
	for (i = 0; i < 1666; i++)
		ok += rl_take(RL_REPO_WRITE_HOUR, "did:plc:a", NULL, 3, now,
		    &st);
	CHECK(ok == 1666, "1666 creates pass (%d)", ok);
	CHECK(st.remaining == 2, "2 points left (%u)", st.remaining);
	CHECK(!rl_take(RL_REPO_WRITE_HOUR, "did:plc:a", NULL, 3, now, &st),
	    "a create (3) is refused");
	CHECK(st.remaining == 2, "... and charged nothing (%u left)",
	    st.remaining);
	CHECK(rl_take(RL_REPO_WRITE_HOUR, "did:plc:a", NULL, 2, now, &st),
	    "an update (2) still fits");
	CHECK(!rl_take(RL_REPO_WRITE_HOUR, "did:plc:a", NULL, 1, now, NULL),
	    "then not even a delete (1)");
	rl_give(RL_REPO_WRITE_HOUR, "did:plc:a", NULL, 2, now);
	CHECK(rl_take(RL_REPO_WRITE_HOUR, "did:plc:a", NULL, 2, now, NULL),
	    "rl_give returns points");
	CHECK(!rl_take(RL_REPO_WRITE_HOUR, "did:plc:b", NULL, 5001, now, NULL),
	    "a cost over the budget never passes");
	CHECK(rl_take(RL_REPO_WRITE_HOUR, "did:plc:b", NULL, 5000, now, NULL),
	    "a cost of the whole budget passes once");
	t_group_end();
}

static void
test_table(void)
{
	char		 k[32];
	int64_t		 now = 9000 * SEC;
	size_t		 cap = (size_t)RL_SHARDS * RL_SLOTS_PER_SHARD, used;
	int		 i;

	t_group("bounded table");
	rl_reset();
	/* one address drains its global budget */
	for (i = 0; i < 3000; i++)
		(void)rl_take(RL_GLOBAL_IP, "198.51.100.1", NULL, 1, now, NULL);
	CHECK(!rl_take(RL_GLOBAL_IP, "198.51.100.1", NULL, 1, now, NULL),
	    "drained");
	/* then four times the table's size of one-request addresses */
	for (i = 0; i < (int)cap * 4; i++) {
		snprintf(k, sizeof(k), "10.%d.%d.%d", i >> 16 & 255,
		    i >> 8 & 255, i & 255);
		(void)rl_take(RL_GLOBAL_IP, k, NULL, 1, now, NULL);
	}
	used = rl_table_used(now);
	CHECK(used <= cap, "the table stays within %zu slots (%zu)", cap,
	    used);
	CHECK(used > cap / 2, "and is used (%zu)", used);
	CHECK(!rl_take(RL_GLOBAL_IP, "198.51.100.1", NULL, 1, now, NULL),
	    "the drained address was not the one forgotten");
	CHECK(rl_table_used(now + 301 * SEC) == 0,
	    "every cell is free once refilled");
	t_group_end();
}

static void
test_budgets(void)
{
	t_group("budget overrides");
	rl_reset();
	CHECK(rl_budgets_set("repo-write-hour=30/60, create-session=2/10") ==
	    PDS_OK, "a good list is taken");
	CHECK(rl_budget(RL_REPO_WRITE_HOUR)->points == 30 &&
	    rl_budget(RL_REPO_WRITE_HOUR)->window_s == 60, "30/60 s");
	CHECK(rl_take(RL_SESSION_5M, "x", "y", 2, 0, NULL) &&
	    !rl_take(RL_SESSION_5M, "x", "y", 1, 0, NULL),
	    "the new budget applies");
	CHECK(rl_budgets_set("nope=1/1") == PDS_EINVAL, "unknown name");
	CHECK(rl_budgets_set("handle=0/1") == PDS_EINVAL, "zero points");
	CHECK(rl_budgets_set("handle=1") == PDS_EINVAL, "no window");
	CHECK(rl_budgets_set("handle=x/1") == PDS_EINVAL, "not a number");
	CHECK(rl_budgets_set("handle=1/1x") == PDS_EINVAL, "trailing junk");
	CHECK(rl_budgets_set("handle=2000000/1") == PDS_EINVAL,
	    "more than a point a microsecond");
	CHECK(rl_budget(RL_HANDLE_5M)->points == 10,
	    "a refused list changes nothing");
	CHECK(rl_budget(RL_ADMIN_FAIL)->points == 10 &&
	    rl_budget(RL_GLOBAL_IP)->points == 3000 &&
	    rl_budget(RL_REPO_WRITE_DAY)->points == 35000,
	    "the defaults are the documented ones");
	t_group_end();
}

static void
test_lists(void)
{
	struct config	 cfg;

	t_group("trusted proxies");
	CHECK(ratelimit_proxy_trusted("127.0.0.1") &&
	    ratelimit_proxy_trusted("127.0.0.2") &&
	    ratelimit_proxy_trusted("::1"), "loopback by default");
	CHECK(!ratelimit_proxy_trusted("192.0.2.1"),
	    "nothing else by default");
	memset(&cfg, 0, sizeof(cfg));
	cfg.trusted_proxies = "10.0.0.0/8, 2001:db8::/32,192.0.2.7";
	CHECK(pdsd_module_ratelimit.init(&cfg) == 0, "a list is taken");
	CHECK(ratelimit_proxy_trusted("10.200.1.2") &&
	    ratelimit_proxy_trusted("2001:db8::1") &&
	    ratelimit_proxy_trusted("::ffff:10.0.0.9") &&
	    ratelimit_proxy_trusted("192.0.2.7"), "its members are trusted");
	CHECK(!ratelimit_proxy_trusted("11.0.0.1") &&
	    !ratelimit_proxy_trusted("127.0.0.1") &&
	    !ratelimit_proxy_trusted("192.0.2.8") &&
	    !ratelimit_proxy_trusted("2001:db9::1") &&
	    !ratelimit_proxy_trusted("not-an-ip"), "nothing else");
	cfg.trusted_proxies = "10.0.0.0/33";
	CHECK(pdsd_module_ratelimit.init(&cfg) != 0, "a bad prefix fails");
	cfg.trusted_proxies = "example.com";
	CHECK(pdsd_module_ratelimit.init(&cfg) != 0, "a name fails");
	cfg.trusted_proxies = "127.0.0.1";
	cfg.rate_limit_bypass_ips = "192.0.2.0/24,";
	CHECK(pdsd_module_ratelimit.init(&cfg) == 0, "bypass list taken");
	cfg.rate_limit_bypass_ips = "192.0.2.0/24,nope";
	CHECK(pdsd_module_ratelimit.init(&cfg) != 0, "a bad bypass entry "
	    "fails");
	cfg.rate_limit_bypass_ips = NULL;
	cfg.rate_limit_budgets = "handle=1/zz";
	CHECK(pdsd_module_ratelimit.init(&cfg) != 0,
	    "bad PDS_RATE_LIMIT_BUDGETS fails start-up");
	t_group_end();
}

#define NTHREADS	4
#define PER_THREAD	20000

static int64_t	 t0;

static void *
hammer(void *arg)
{
	int	*ok = arg, i;

	for (i = 0; i < PER_THREAD; i++)
		*ok += rl_take(RL_REPO_WRITE_DAY, "did:plc:shared", NULL, 1,
		    t0, NULL);
	return NULL;
}

static void
test_threads(void)
{
	pthread_t	 th[NTHREADS];
	int		 ok[NTHREADS] = { 0 }, i, sum = 0;

	t_group("threads");
	rl_reset();
	t0 = 100000 * SEC;
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, hammer, &ok[i]);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		sum += ok[i];
	}
	CHECK(sum == 35000, "threads sharing one key spend exactly its budget "
	    "(%d of %d)", sum, NTHREADS * PER_THREAD);
	t_group_end();
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_gcra();
	test_points();
	test_table();
	test_budgets();
	test_lists();
	test_threads();
	return t_done("test_pdsd_ratelimit");
}
