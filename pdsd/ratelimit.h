/*
 * ratelimit: the reference PDS's request budgets (PDS_RATE_LIMITS_ENABLED),
 * the limit on wrong admin passwords, the rate-limit bypass and the list
 * of trusted reverse proxies.
 *
 * Budgets.  Each route's rate class (xrpc_methods.h) names up to two
 * budgets, and every XRPC request but getRepo and subscribeRepos also
 * spends one point of the global per-address budget.  A budget is
 * "points per window" keyed on the client address, the account (DID),
 * the login identifier or the email address; ratelimit.c has the table
 * with the reference's numbers, and pdsd(8) and the README copy it.
 * Each key is a GCRA cell (one "theoretical arrival time"): a budget
 * refills continuously, at points/window, up to a burst of points.
 * The request passes only if every budget it spends has room; then
 * each is charged, else none is.
 *
 * Memory is fixed: the cells live in one table of RL_SHARDS shards of
 * RL_SLOTS_PER_SHARD slots each, 16 bytes a slot; a key probes
 * RL_PROBE slots of its shard, and a new key takes a free or refilled
 * slot there, else the one nearest to refilled (whose forgetting costs
 * least; counted as ratelimit.evicted).  Each shard has its own lock,
 * held for a few dozen instructions, so the workers do not queue on one.
 * Keys are SipHash-ed with a key drawn at start.
 *
 * Answers.  A request the budgets refuse gets 429 RateLimitExceeded;
 * every answer on a limited route carries ratelimit-limit,
 * ratelimit-remaining, ratelimit-reset (unix seconds when the tightest
 * budget is full again) and ratelimit-policy ("<points>;w=<seconds>") of
 * the tightest budget, and a 429 also Retry-After, as the reference.
 *
 * Bypass.  A request whose x-ratelimit-bypass header equals
 * PDS_RATE_LIMIT_BYPASS_KEY, or whose client address is in
 * PDS_RATE_LIMIT_BYPASS_IPS (addresses or CIDRs), skips every budget,
 * the admin limit and the login limits of auth.c.
 *
 * Admin passwords.  Wrong HTTP Basic admin passwords on the XRPC admin
 * routes spend the per-address budget "admin-auth-failure" (10 per
 * 5 min), always, whether PDS_RATE_LIMITS_ENABLED is set or not: once it
 * is empty, admin Basic from that address gets 429 before the password
 * is looked at.  Right passwords cost nothing.
 *
 * Trusted proxies.  PDS_TRUSTED_PROXIES (addresses or CIDRs, comma
 * separated; loopback by default) names the reverse proxies whose
 * X-Forwarded-For http_req_client() believes.
 *
 * PDS_RATE_LIMIT_BUDGETS ("name=points/seconds,...") overrides budgets
 * by name (for tests and for operators who want other numbers).
 */
#ifndef PDSD_RATELIMIT_H
#define PDSD_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct http_req;
struct xrpc_ctx;

#define RL_SHARDS		64
#define RL_SLOTS_PER_SHARD	256	/* a power of two */
#define RL_PROBE		8

enum rl_budget_id {
	RL_GLOBAL_IP,
	RL_GET_REPO,
	RL_CREATE_ACCOUNT,
	RL_SESSION_5M,
	RL_SESSION_DAY,
	RL_EMAIL_HOUR,
	RL_EMAIL_DAY,
	RL_PWRESET_HOUR,
	RL_PWRESET_DAY,
	RL_PWRESET_EMAIL_HOUR,
	RL_PWRESET_EMAIL_DAY,
	RL_RESET_PASSWORD,
	RL_DELETE_ACCOUNT,
	RL_UPLOAD_BLOB,
	RL_HANDLE_5M,
	RL_HANDLE_DAY,
	RL_REPO_WRITE_HOUR,
	RL_REPO_WRITE_DAY,
	RL_RESERVE_KEY_5M,
	RL_RESERVE_KEY_DAY,
	RL_ADMIN_FAIL,
	RL_SIGNIN_CODE_HOUR,	/* sign-in codes mailed (auth_factor.h) */
	RL_SIGNIN_CODE_DAY,
	RL_NBUDGETS
};

struct rl_budget {
	const char	*name;		/* as in PDS_RATE_LIMIT_BUDGETS */
	uint32_t	 points;
	int64_t		 window_s;
	const char	*key;		/* what it is keyed on (for docs) */
};

/* What one budget said about one key. */
struct rl_status {
	uint32_t	 limit;		/* points per window */
	uint32_t	 remaining;	/* points left after this request */
	int64_t		 window_s;
	int64_t		 full_ms;	/* until the key's budget is full */
	int64_t		 retry_ms;	/* refused: until it has room */
};

/* ---- the table (used by the XRPC side; open for tests and benches) ---- */

/* Empty the table and draw a new hash key (budgets back to defaults). */
void	rl_reset(void);
const struct rl_budget *rl_budget(enum rl_budget_id);
/*
 * Override budgets from "name=points/seconds,..."; PDS_EINVAL (nothing
 * changed) for an unknown name or a bad number.
 */
int	rl_budgets_set(const char *spec);
/*
 * Spend cost points of budget id for the key (k1, k2) (k2 may be NULL)
 * at now_us (monotonic microseconds): true and charged when there was
 * room, false and nothing charged when not; *st (may be NULL) says how
 * much is left.
 */
bool	rl_take(enum rl_budget_id, const char *k1, const char *k2,
	    uint32_t cost, int64_t now_us, struct rl_status *st);
/* Give back what rl_take() charged. */
void	rl_give(enum rl_budget_id, const char *k1, const char *k2,
	    uint32_t cost, int64_t now_us);
/* The slots holding a key whose budget is not full at now_us. */
size_t	rl_table_used(int64_t now_us);
/* Monotonic microseconds. */
int64_t	rl_now_us(void);

/* ---- for the router and the login limiter ---- */

/* Whether PDS_RATE_LIMITS_ENABLED is on. */
bool	ratelimit_enabled(void);
/*
 * The budgets of ctx's route (the global one alone when ctx->route is
 * NULL), after its credentials and input have been checked: 0, or
 * PDS_ERATELIMIT (via xrpc_fail).  Sets the ratelimit-*
 * headers.  Does nothing when limits are off or the request bypasses.
 */
int	ratelimit_xrpc(struct xrpc_ctx *);
/* Admin Basic from this client: 0, or PDS_ERATELIMIT (via xrpc_fail). */
int	ratelimit_admin_check(struct xrpc_ctx *);
/* A wrong admin password from this client. */
void	ratelimit_admin_failed(struct xrpc_ctx *);
/* Whether req carries the bypass key or comes from a bypass address. */
bool	ratelimit_bypass(struct http_req *);
/* Whether a peer at addr (text) is a trusted reverse proxy. */
bool	ratelimit_proxy_trusted(const char *addr);
/*
 * Spend one of the account's sign-in code mails (auth_factor.h): true
 * when there was room or the limits are off.  The caller skips it for
 * a request that bypasses the limits.
 */
bool	ratelimit_signin_code(const char *did);
/* Count a login refused by auth.c's limiter. */
void	ratelimit_count_login(void);

#endif
