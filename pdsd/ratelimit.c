/*
 * ratelimit: request budgets (GCRA cells in a fixed, sharded table), the
 * admin-password limit, the bypass and the trusted proxies.  See
 * ratelimit.h; the budgets below are the reference PDS's
 * (@atproto/pds rate-limits.ts and each method's rateLimit), plus
 * pdsd's own for reserveSigningKey, password-reset mails per address
 * and admin passwords.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "module.h"
#include "ratelimit.h"
#include "stats.h"
#include "xrpc.h"

#define MIN_S	60
#define HOUR_S	3600
#define DAY_S	86400

static const struct rl_budget budget_defaults[RL_NBUDGETS] = {
	[RL_GLOBAL_IP] = { "global-ip", 3000, 5 * MIN_S, "address" },
	[RL_GET_REPO] = { "get-repo", 6000, 5 * MIN_S, "address" },
	[RL_CREATE_ACCOUNT] = { "create-account", 100, 5 * MIN_S,
	    "address" },
	[RL_SESSION_5M] = { "create-session", 30, 5 * MIN_S,
	    "identifier and address" },
	[RL_SESSION_DAY] = { "create-session-day", 300, DAY_S,
	    "identifier and address" },
	[RL_EMAIL_HOUR] = { "email", 5, HOUR_S, "account" },
	[RL_EMAIL_DAY] = { "email-day", 15, DAY_S, "account" },
	[RL_PWRESET_HOUR] = { "password-reset", 15, HOUR_S, "address" },
	[RL_PWRESET_DAY] = { "password-reset-day", 50, DAY_S, "address" },
	[RL_PWRESET_EMAIL_HOUR] = { "password-reset-email", 5, HOUR_S,
	    "email address" },
	[RL_PWRESET_EMAIL_DAY] = { "password-reset-email-day", 15, DAY_S,
	    "email address" },
	[RL_RESET_PASSWORD] = { "reset-password", 50, 5 * MIN_S, "address" },
	[RL_DELETE_ACCOUNT] = { "delete-account", 50, 5 * MIN_S, "address" },
	[RL_UPLOAD_BLOB] = { "upload-blob", 1000, DAY_S, "address" },
	[RL_HANDLE_5M] = { "handle", 10, 5 * MIN_S, "account" },
	[RL_HANDLE_DAY] = { "handle-day", 50, DAY_S, "account" },
	[RL_REPO_WRITE_HOUR] = { "repo-write-hour", 5000, HOUR_S,
	    "account" },
	[RL_REPO_WRITE_DAY] = { "repo-write-day", 35000, DAY_S, "account" },
	[RL_RESERVE_KEY_5M] = { "reserve-signing-key", 30, 5 * MIN_S,
	    "address" },
	[RL_RESERVE_KEY_DAY] = { "reserve-signing-key-day", 100, DAY_S,
	    "address" },
	[RL_ADMIN_FAIL] = { "admin-auth-failure", 10, 5 * MIN_S,
	    "address" },
	/* pdsd's: the reference's email budgets, for sign-in code mails */
	[RL_SIGNIN_CODE_HOUR] = { "sign-in-code", 5, HOUR_S, "account" },
	[RL_SIGNIN_CODE_DAY] = { "sign-in-code-day", 15, DAY_S, "account" },
};

static struct rl_budget	 budgets[RL_NBUDGETS];
static int64_t		 interval_us[RL_NBUDGETS];	/* window/points */

struct rl_slot {
	uint64_t	 key;		/* 0: free */
	int64_t		 tat_us;	/* theoretical arrival time */
};

struct rl_shard {
	pthread_mutex_t	 mtx;
	struct rl_slot	 slot[RL_SLOTS_PER_SHARD];
} __attribute__((aligned(64)));

static struct rl_shard	 shards[RL_SHARDS];
static unsigned char	 hkey[crypto_shorthash_KEYBYTES];
static pthread_once_t	 once = PTHREAD_ONCE_INIT;

static struct stats_counter *c_limited, *c_admin, *c_login, *c_evicted,
			*c_bypassed;

/* ---- address lists ---- */

#define NETS_MAX	64

struct net {
	int		 af;		/* AF_INET or AF_INET6 */
	uint8_t		 a[16];
	unsigned	 bits;
};

struct netlist {
	struct net	 n[NETS_MAX];
	size_t		 len;
};

static struct netlist	 trusted, bypass_ips;
static bool		 trusted_set;	/* else loopback */
static bool		 enabled;
static const char	*bypass_key;

/* addr as 4 or 16 bytes (v4-mapped v6 as v4); false if not an address. */
static bool
addr_parse(const char *s, int *af, uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (inet_pton(AF_INET, s, out) == 1) {
		*af = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, out) != 1)
		return false;
	if (memcmp(out, mapped, sizeof(mapped)) == 0) {
		memmove(out, out + 12, 4);
		*af = AF_INET;
	} else
		*af = AF_INET6;
	return true;
}

static bool
net_match(const struct net *n, int af, const uint8_t a[16])
{
	unsigned	 full = n->bits / 8, rest = n->bits % 8;
	uint8_t		 m;

	if (n->af != af || memcmp(n->a, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	m = (uint8_t)(0xff << (8 - rest));
	return (n->a[full] & m) == (a[full] & m);
}

static bool
netlist_has(const struct netlist *l, const char *addr)
{
	uint8_t		 a[16];
	int		 af;
	size_t		 i;

	if (l->len == 0 || !addr_parse(addr, &af, a))
		return false;
	for (i = 0; i < l->len; i++)
		if (net_match(&l->n[i], af, a))
			return true;
	return false;
}

/* "a, b/24, c::/64" into l; PDS_EINVAL naming the bad entry in why. */
static int
netlist_parse(struct netlist *l, const char *s, char *why, size_t whylen)
{
	char		 item[80], *slash, *end;
	size_t		 n;
	unsigned long	 bits;
	struct net	*e;

	l->len = 0;
	while (s != NULL && *s != '\0') {
		s += strspn(s, " ,");
		if ((n = strcspn(s, " ,")) == 0)
			break;
		if (n >= sizeof(item) || l->len == NETS_MAX)
			goto bad;
		memcpy(item, s, n);
		item[n] = '\0';
		s += n;
		e = &l->n[l->len];
		memset(e, 0, sizeof(*e));
		if ((slash = strchr(item, '/')) != NULL)
			*slash++ = '\0';
		if (!addr_parse(item, &e->af, e->a))
			goto bad;
		e->bits = e->af == AF_INET ? 32 : 128;
		if (slash != NULL) {
			bits = strtoul(slash, &end, 10);
			if (*slash == '\0' || *end != '\0' || bits > e->bits)
				goto bad;
			e->bits = (unsigned)bits;
		}
		l->len++;
	}
	return PDS_OK;
bad:
	snprintf(why, whylen, "%.*s", (int)(n < 60 ? n : 60), s - n);
	return PDS_EINVAL;
}

bool
ratelimit_proxy_trusted(const char *addr)
{
	if (!trusted_set)
		return strncmp(addr, "127.", 4) == 0 ||
		    strcmp(addr, "::1") == 0 ||
		    strncmp(addr, "::ffff:127.", 11) == 0;
	return netlist_has(&trusted, addr);
}

/* ---- the table ---- */

static void
table_once(void)
{
	size_t	 i;

	for (i = 0; i < RL_SHARDS; i++)
		pthread_mutex_init(&shards[i].mtx, NULL);
	c_limited = stats_counter("ratelimit.limited", STATS_RATE);
	c_admin = stats_counter("ratelimit.admin_limited", STATS_RATE);
	c_login = stats_counter("ratelimit.login_limited", STATS_RATE);
	c_evicted = stats_counter("ratelimit.evicted", 0);
	c_bypassed = stats_counter("ratelimit.bypassed", STATS_RATE);
}

static void
budgets_apply(void)
{
	size_t	 i;

	for (i = 0; i < RL_NBUDGETS; i++)
		interval_us[i] = budgets[i].window_s * 1000000 /
		    budgets[i].points;
}

void
rl_reset(void)
{
	size_t	 i;

	pthread_once(&once, table_once);
	crypto_shorthash_keygen(hkey);
	for (i = 0; i < RL_SHARDS; i++) {
		pthread_mutex_lock(&shards[i].mtx);
		memset(shards[i].slot, 0, sizeof(shards[i].slot));
		pthread_mutex_unlock(&shards[i].mtx);
	}
	memcpy(budgets, budget_defaults, sizeof(budgets));
	budgets_apply();
}

const struct rl_budget *
rl_budget(enum rl_budget_id id)
{
	return &budgets[id];
}

int
rl_budgets_set(const char *spec)
{
	struct rl_budget nb[RL_NBUDGETS];
	char		 name[48], *end;
	const char	*eq, *sl;
	unsigned long long p, w;
	size_t		 i, n;

	memcpy(nb, budgets, sizeof(nb));
	while (spec != NULL && *spec != '\0') {
		spec += strspn(spec, " ,");
		if (*spec == '\0')
			break;
		if ((eq = strchr(spec, '=')) == NULL ||
		    (n = (size_t)(eq - spec)) >= sizeof(name))
			return PDS_EINVAL;
		memcpy(name, spec, n);
		name[n] = '\0';
		for (i = 0; i < RL_NBUDGETS; i++)
			if (strcmp(nb[i].name, name) == 0)
				break;
		if (i == RL_NBUDGETS || !isdigit((unsigned char)eq[1]))
			return PDS_EINVAL;
		p = strtoull(eq + 1, &end, 10);
		if (*end != '/' || !isdigit((unsigned char)end[1]))
			return PDS_EINVAL;
		sl = end + 1;
		w = strtoull(sl, &end, 10);
		/* at most one point a microsecond: the cells count in µs */
		if ((*end != '\0' && *end != ',' && *end != ' ') || p == 0 ||
		    p > 100000000 || w == 0 || w > 366 * DAY_S ||
		    p > w * 1000000)
			return PDS_EINVAL;
		nb[i].points = (uint32_t)p;
		nb[i].window_s = (int64_t)w;
		spec = end;
	}
	memcpy(budgets, nb, sizeof(budgets));
	budgets_apply();
	return PDS_OK;
}

int64_t
rl_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Keyed hash of id || k1 || NUL || k2 (each cut at 512 bytes); never 0. */
static uint64_t
key_hash(enum rl_budget_id id, const char *k1, const char *k2)
{
	unsigned char	 h[crypto_shorthash_BYTES];
	char		 tmp[1 + 512 + 1 + 512];
	size_t		 n = 0, l;
	uint64_t	 v;

	tmp[n++] = (char)id;
	l = strnlen(k1, 512);
	memcpy(tmp + n, k1, l);
	n += l;
	tmp[n++] = '\0';
	if (k2 != NULL) {
		l = strnlen(k2, 512);
		memcpy(tmp + n, k2, l);
		n += l;
	}
	crypto_shorthash(h, (const unsigned char *)tmp, n, hkey);
	memcpy(&v, h, sizeof(v));
	return v != 0 ? v : 1;
}

/* How much forgetting s costs: nothing if free or refilled. */
static int64_t
slot_age(const struct rl_slot *s, int64_t now)
{
	return s->key == 0 || s->tat_us <= now ? INT64_MIN : s->tat_us;
}

/*
 * The slot of key in its (locked) shard: the one holding it, else a free
 * or refilled one, else the one nearest to refilled, emptied.
 */
static struct rl_slot *
slot_find(struct rl_shard *sh, uint64_t key, int64_t now)
{
	struct rl_slot	*s, *best = NULL;
	size_t		 i, at = (size_t)(key >> 32) & (RL_SLOTS_PER_SHARD - 1);

	for (i = 0; i < RL_PROBE; i++) {
		s = &sh->slot[(at + i) & (RL_SLOTS_PER_SHARD - 1)];
		if (s->key == key)
			return s;
		if (best == NULL || slot_age(s, now) < slot_age(best, now))
			best = s;
	}
	if (best->key != 0 && best->tat_us > now)
		stats_add(c_evicted, 1);
	best->key = key;
	best->tat_us = now;
	return best;
}

static void
status_fill(struct rl_status *st, enum rl_budget_id id, int64_t tat,
    int64_t now, int64_t retry)
{
	int64_t	 t = interval_us[id], tau = t * budgets[id].points;
	int64_t	 left = tau - (tat - now);

	st->limit = budgets[id].points;
	st->window_s = budgets[id].window_s;
	st->remaining = left <= 0 ? 0 : (uint32_t)(left / t);
	st->full_ms = tat > now ? (tat - now + 999) / 1000 : 0;
	st->retry_ms = retry > 0 ? (retry + 999) / 1000 : 0;
}

bool
rl_take(enum rl_budget_id id, const char *k1, const char *k2, uint32_t cost,
    int64_t now, struct rl_status *st)
{
	uint64_t	 key;
	struct rl_shard	*sh;
	struct rl_slot	*s;
	int64_t		 t, tau, tat, ntat;
	bool		 ok;

	pthread_once(&once, table_once);
	key = key_hash(id, k1, k2);
	sh = &shards[key & (RL_SHARDS - 1)];
	t = interval_us[id];
	tau = t * budgets[id].points;
	pthread_mutex_lock(&sh->mtx);
	s = slot_find(sh, key, now);
	tat = s->tat_us > now ? s->tat_us : now;
	ntat = tat + t * (int64_t)cost;
	ok = ntat - now <= tau;
	if (ok)
		s->tat_us = ntat;
	pthread_mutex_unlock(&sh->mtx);
	if (st != NULL)
		status_fill(st, id, ok ? ntat : tat, now,
		    ok ? 0 : ntat - tau - now);
	return ok;
}

void
rl_give(enum rl_budget_id id, const char *k1, const char *k2, uint32_t cost,
    int64_t now)
{
	uint64_t	 key;
	struct rl_shard	*sh;
	struct rl_slot	*s;

	pthread_once(&once, table_once);
	key = key_hash(id, k1, k2);
	sh = &shards[key & (RL_SHARDS - 1)];
	pthread_mutex_lock(&sh->mtx);
	s = slot_find(sh, key, now);
	s->tat_us -= interval_us[id] * (int64_t)cost;
	pthread_mutex_unlock(&sh->mtx);
}

size_t
rl_table_used(int64_t now)
{
	size_t	 i, j, n = 0;

	pthread_once(&once, table_once);
	for (i = 0; i < RL_SHARDS; i++) {
		pthread_mutex_lock(&shards[i].mtx);
		for (j = 0; j < RL_SLOTS_PER_SHARD; j++)
			n += shards[i].slot[j].key != 0 &&
			    shards[i].slot[j].tat_us > now;
		pthread_mutex_unlock(&shards[i].mtx);
	}
	return n;
}

/* ---- the XRPC side ---- */

bool
ratelimit_enabled(void)
{
	return enabled;
}

bool
ratelimit_bypass(struct http_req *req)
{
	const char	*h;
	size_t		 n;

	if (bypass_key != NULL &&
	    (h = http_req_header(req, "x-ratelimit-bypass")) != NULL &&
	    (n = strlen(h)) == strlen(bypass_key) &&
	    sodium_memcmp(h, bypass_key, n) == 0)
		return true;
	return bypass_ips.len > 0 &&
	    netlist_has(&bypass_ips, http_req_client(req));
}

struct spend {
	enum rl_budget_id id;
	const char	*k1, *k2;
	uint32_t	 cost;
};

/* The points a repo write costs: 3 a create, 2 an update, 1 a delete. */
static uint32_t
write_points(const struct xrpc_ctx *ctx)
{
	const char	*n = ctx->nsid, *ty;
	json_t		*w, *op;
	size_t		 i;
	uint32_t	 p = 0;

	if (strcmp(n, "com.atproto.repo.createRecord") == 0)
		return 3;
	if (strcmp(n, "com.atproto.repo.putRecord") == 0)
		return 2;
	if (strcmp(n, "com.atproto.repo.deleteRecord") == 0)
		return 1;
	w = json_object_get(ctx->input, "writes");
	json_array_foreach(w, i, op) {
		ty = json_string_value(json_object_get(op, "$type"));
		if (ty != NULL && strcmp(ty,
		    "com.atproto.repo.applyWrites#create") == 0)
			p += 3;
		else if (ty != NULL && strcmp(ty,
		    "com.atproto.repo.applyWrites#update") == 0)
			p += 2;
		else
			p += 1;
	}
	return p;
}

/*
 * The string property k of the input, lowercased into lower (cut to
 * lowcap - 1 bytes; "" when it is absent or not a string): a key that
 * is the same however it is typed.
 */
static void
input_lower(const struct xrpc_ctx *ctx, const char *k, char *lower,
    size_t lowcap)
{
	const char	*s = json_string_value(json_object_get(ctx->input, k));
	size_t		 i;

	if (s == NULL)
		s = "";
	for (i = 0; s[i] != '\0' && i < lowcap - 1; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	lower[i] = '\0';
}

#define SPENDS_MAX	5	/* global + password reset's four */

/* The budgets ctx spends, into sp; their number. */
static size_t
spends(struct xrpc_ctx *ctx, const char *ip, char *lower, size_t lowcap,
    struct spend sp[SPENDS_MAX])
{
	const struct xrpc_route *rt = ctx->route;
	const char	*did = ctx->auth.did[0] != '\0' ? ctx->auth.did : ip;
	size_t		 n = 0;

#define SP(b, a, c, p)	(sp[n].id = (b), sp[n].k1 = (a), sp[n].k2 = (c), \
			    sp[n++].cost = (p))
	if (rt == NULL) {
		SP(RL_GLOBAL_IP, ip, NULL, 1);
		return n;
	}
	if (rt->rate != XRPC_RATE_EXEMPT && rt->rate != XRPC_RATE_GET_REPO)
		SP(RL_GLOBAL_IP, ip, NULL, 1);
	switch (rt->rate) {
	case XRPC_RATE_GET_REPO:
		SP(RL_GET_REPO, ip, NULL, 1);
		break;
	case XRPC_RATE_CREATE_ACCOUNT:
		SP(RL_CREATE_ACCOUNT, ip, NULL, 1);
		break;
	case XRPC_RATE_CREATE_SESSION:
		input_lower(ctx, "identifier", lower, lowcap);
		SP(RL_SESSION_5M, lower, ip, 1);
		SP(RL_SESSION_DAY, lower, ip, 1);
		break;
	case XRPC_RATE_EMAIL:
		/* each of the three methods has budgets of its own */
		SP(RL_EMAIL_HOUR, did, ctx->nsid, 1);
		SP(RL_EMAIL_DAY, did, ctx->nsid, 1);
		break;
	case XRPC_RATE_PASSWORD_RESET_REQUEST:
		input_lower(ctx, "email", lower, lowcap);
		SP(RL_PWRESET_HOUR, ip, NULL, 1);
		SP(RL_PWRESET_DAY, ip, NULL, 1);
		SP(RL_PWRESET_EMAIL_HOUR, lower, NULL, 1);
		SP(RL_PWRESET_EMAIL_DAY, lower, NULL, 1);
		break;
	case XRPC_RATE_RESET_PASSWORD:
		SP(RL_RESET_PASSWORD, ip, NULL, 1);
		break;
	case XRPC_RATE_DELETE_ACCOUNT:
		SP(RL_DELETE_ACCOUNT, ip, NULL, 1);
		break;
	case XRPC_RATE_UPLOAD_BLOB:
		SP(RL_UPLOAD_BLOB, ip, NULL, 1);
		break;
	case XRPC_RATE_HANDLE:
		SP(RL_HANDLE_5M, did, NULL, 1);
		SP(RL_HANDLE_DAY, did, NULL, 1);
		break;
	case XRPC_RATE_REPO_WRITE:
		SP(RL_REPO_WRITE_HOUR, did, NULL, write_points(ctx));
		SP(RL_REPO_WRITE_DAY, did, NULL, write_points(ctx));
		break;
	case XRPC_RATE_RESERVE_KEY:
		SP(RL_RESERVE_KEY_5M, ip, NULL, 1);
		SP(RL_RESERVE_KEY_DAY, ip, NULL, 1);
		break;
	case XRPC_RATE_DEFAULT:
	case XRPC_RATE_EXEMPT:
		break;
	}
#undef SP
	return n;
}

static void
set_headers(struct http_req *req, const struct rl_status *st, bool refused)
{
	char	 v[64];
	int64_t	 wall = (int64_t)time(NULL);

	snprintf(v, sizeof(v), "%" PRIu32, st->limit);
	(void)http_reply_header(req, "ratelimit-limit", v);
	snprintf(v, sizeof(v), "%" PRIu32, st->remaining);
	(void)http_reply_header(req, "ratelimit-remaining", v);
	snprintf(v, sizeof(v), "%" PRId64, wall + (refused ? st->retry_ms :
	    st->full_ms) / 1000);
	(void)http_reply_header(req, "ratelimit-reset", v);
	snprintf(v, sizeof(v), "%" PRIu32 ";w=%" PRId64, st->limit,
	    st->window_s);
	(void)http_reply_header(req, "ratelimit-policy", v);
	if (refused) {
		snprintf(v, sizeof(v), "%" PRId64, (st->retry_ms + 999) / 1000);
		(void)http_reply_header(req, "Retry-After", v);
	}
}

/* Spend every budget of sp[0..n-1], or none; headers; 0 or 429. */
static int
spend_all(struct xrpc_ctx *ctx, const struct spend *sp, size_t n)
{
	struct rl_status st, tight;
	int64_t		 now = rl_now_us();
	size_t		 i, j;

	memset(&tight, 0, sizeof(tight));
	for (i = 0; i < n; i++) {
		if (rl_take(sp[i].id, sp[i].k1, sp[i].k2, sp[i].cost, now,
		    &st)) {
			if (i == 0 || st.remaining < tight.remaining)
				tight = st;
			continue;
		}
		for (j = 0; j < i; j++)
			rl_give(sp[j].id, sp[j].k1, sp[j].k2, sp[j].cost, now);
		set_headers(ctx->req, &st, true);
		stats_add(c_limited, 1);
		return xrpc_fail(ctx, PDS_ERATELIMIT, NULL,
		    "Rate Limit Exceeded");
	}
	if (n > 0)
		set_headers(ctx->req, &tight, false);
	return 0;
}

int
ratelimit_xrpc(struct xrpc_ctx *ctx)
{
	struct spend	 sp[SPENDS_MAX];
	char		 lower[256];
	size_t		 n;

	if (!enabled)
		return 0;
	if (ratelimit_bypass(ctx->req)) {
		stats_add(c_bypassed, 1);
		return 0;
	}
	n = spends(ctx, http_req_client(ctx->req), lower, sizeof(lower), sp);
	return spend_all(ctx, sp, n);
}

int
ratelimit_admin_check(struct xrpc_ctx *ctx)
{
	struct rl_status st;
	int64_t		 now = rl_now_us();
	const char	*ip = http_req_client(ctx->req);

	if (ratelimit_bypass(ctx->req))
		return 0;
	/* room for one more failure: take it and give it back */
	if (rl_take(RL_ADMIN_FAIL, ip, NULL, 1, now, &st)) {
		rl_give(RL_ADMIN_FAIL, ip, NULL, 1, now);
		return 0;
	}
	set_headers(ctx->req, &st, true);
	stats_add(c_admin, 1);
	return xrpc_fail(ctx, PDS_ERATELIMIT, NULL,
	    "Too many wrong admin passwords; try again later");
}

void
ratelimit_admin_failed(struct xrpc_ctx *ctx)
{
	if (!ratelimit_bypass(ctx->req))
		(void)rl_take(RL_ADMIN_FAIL, http_req_client(ctx->req), NULL,
		    1, rl_now_us(), NULL);
}

bool
ratelimit_signin_code(const char *did)
{
	int64_t	 now = rl_now_us();

	if (!enabled)
		return true;
	if (!rl_take(RL_SIGNIN_CODE_HOUR, did, NULL, 1, now, NULL))
		goto refused;
	if (!rl_take(RL_SIGNIN_CODE_DAY, did, NULL, 1, now, NULL)) {
		rl_give(RL_SIGNIN_CODE_HOUR, did, NULL, 1, now);
		goto refused;
	}
	return true;
refused:
	stats_add(c_limited, 1);
	return false;
}

void
ratelimit_count_login(void)
{
	pthread_once(&once, table_once);
	stats_add(c_login, 1);
}

/* ---- the module ---- */

static int
ratelimit_init(const struct config *cfg)
{
	char	 why[80];

	rl_reset();
	enabled = cfg->rate_limits_enabled;
	bypass_key = cfg->rate_limit_bypass_key;
	if (netlist_parse(&bypass_ips, cfg->rate_limit_bypass_ips, why,
	    sizeof(why)) != PDS_OK) {
		log_warnx("PDS_RATE_LIMIT_BYPASS_IPS: not an address or CIDR: "
		    "%s", why);
		return PDS_EINVAL;
	}
	if (cfg->trusted_proxies != NULL) {
		if (netlist_parse(&trusted, cfg->trusted_proxies, why,
		    sizeof(why)) != PDS_OK) {
			log_warnx("PDS_TRUSTED_PROXIES: not an address or "
			    "CIDR: %s", why);
			return PDS_EINVAL;
		}
		trusted_set = true;
	}
	if (rl_budgets_set(cfg->rate_limit_budgets) != PDS_OK) {
		log_warnx("PDS_RATE_LIMIT_BUDGETS: want name=points/seconds,"
		    "... with known names");
		return PDS_EINVAL;
	}
	if (enabled)
		log_info("rate limits on (%zu bypass addresses, bypass key "
		    "%s)", bypass_ips.len, bypass_key != NULL ? "set" :
		    "unset");
	return 0;
}

PDSD_MODULE(ratelimit, ratelimit_init, NULL)
