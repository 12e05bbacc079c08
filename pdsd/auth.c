/*
 * auth: session tokens, refresh rotation, login limits and the XRPC
 * credential verifier.  See auth.h.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "auth.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "jwt.h"
#include "log.h"
#include "oauth_resource.h"
#include "ratelimit.h"
#include "service_auth.h"
#include "store.h"
#include "store_account.h"
#include "syntax.h"
#include "xrpc.h"

static const struct config *acfg;
static unsigned char	 lim_key[crypto_shorthash_KEYBYTES];	/* login limits */

int
auth_init(const struct config *cfg)
{
	acfg = cfg;
	crypto_shorthash_keygen(lim_key);
	return PDS_OK;
}

/* A store timestamp for unix time t. */
static void
ts_at(time_t t, char out[STORE_TS_LEN])
{
	clock_ms_to_iso((int64_t)t * 1000, out);
}

static const uint8_t *
secret(size_t *len)
{
	*len = strlen(acfg->jwt_secret);
	return (const uint8_t *)acfg->jwt_secret;
}

/* A refresh token id: 32 random bytes, base64url. */
static void
new_jti(char out[SA_TOKEN_ID_MAX + 1])
{
	uint8_t	 r[32];

	randombytes_buf(r, sizeof(r));
	sodium_bin2base64(out, SA_TOKEN_ID_MAX + 1, r, sizeof(r),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static char *
mint(const char *typ, json_t *payload)
{
	struct buf	 b;
	const uint8_t	*k;
	size_t		 klen, n;
	char		*s;

	buf_init(&b, JWT_MAX_LEN);
	k = secret(&klen);
	if (payload == NULL || jwt_sign_hs256(&b, typ, payload, k, klen) !=
	    PDS_OK) {
		buf_clear(&b);
		return NULL;
	}
	s = (char *)buf_detach(&b, &n);
	return s;
}

/* Sign the two tokens (the refresh one with id jti). */
static int
mint_pair(const char *did, const char *scope, const char *jti,
    struct auth_session *out)
{
	json_t	*p;
	time_t	 now = time(NULL);

	memset(out, 0, sizeof(*out));
	snprintf(out->scope, sizeof(out->scope), "%s", scope);
	p = json_pack("{s:s,s:s,s:s,s:I,s:I}", "scope", scope,
	    "aud", acfg->service_did, "sub", did, "iat", (json_int_t)now,
	    "exp", (json_int_t)(now + AUTH_ACCESS_TTL_S));
	out->access = mint("at+jwt", p);
	json_decref(p);
	p = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "scope",
	    AUTH_SCOPE_REFRESH, "aud", acfg->service_did, "sub", did,
	    "jti", jti, "iat", (json_int_t)now,
	    "exp", (json_int_t)(now + AUTH_REFRESH_TTL_S));
	out->refresh = mint("refresh+jwt", p);
	json_decref(p);
	if (out->access == NULL || out->refresh == NULL) {
		auth_session_clear(out);
		return PDS_ENOMEM;
	}
	return PDS_OK;
}

void
auth_session_clear(struct auth_session *s)
{
	if (s->access != NULL) {
		sodium_memzero(s->access, strlen(s->access));
		free(s->access);
	}
	if (s->refresh != NULL) {
		sodium_memzero(s->refresh, strlen(s->refresh));
		free(s->refresh);
	}
	s->access = s->refresh = NULL;
}

int
auth_session_create(const char *did, const char *scope,
    const char *app_password_name, bool store_refresh,
    struct auth_session *out)
{
	char	 jti[SA_TOKEN_ID_MAX + 1], exp[STORE_TS_LEN];
	int	 rc;

	new_jti(jti);
	if ((rc = mint_pair(did, scope, jti, out)) != PDS_OK)
		return rc;
	if (!store_refresh)
		return PDS_OK;
	ts_at(time(NULL) + AUTH_REFRESH_TTL_S, exp);
	if ((rc = store_refresh_insert(jti, did, exp, app_password_name)) !=
	    PDS_OK)
		auth_session_clear(out);
	return rc;
}

/* In a transaction: rotate jti; the scope and next id into the outputs. */
static int
refresh_rotate_tx(const char *did, const char *jti, time_t t,
    const char **scope, char next[SA_TOKEN_ID_MAX + 1])
{
	struct store_refresh	 r, nr;
	struct store_app_password ap;
	char			 now[STORE_TS_LEN], grace[STORE_TS_LEN];
	char			 exp[STORE_TS_LEN];
	int			 rc;

	ts_at(t, now);
	if ((rc = store_refresh_get(jti, &r)) == PDS_ENOTFOUND)
		return PDS_EEXPIRED;
	if (rc != PDS_OK)
		return rc;
	if (strcmp(r.did, did) != 0 || strcmp(r.expires_at, now) <= 0)
		return PDS_EEXPIRED;
	*scope = AUTH_SCOPE_ACCESS;
	if (r.app_password_name[0] != '\0') {
		rc = store_app_password_get(did, r.app_password_name, &ap);
		if (rc == PDS_ENOTFOUND)
			return PDS_EEXPIRED;
		if (rc != PDS_OK)
			return rc;
		*scope = ap.privileged ? AUTH_SCOPE_APP_PRIV :
		    AUTH_SCOPE_APP_PASS;
	}
	/*
	 * A token already rotated hands out the same next token again
	 * (within its grace window), provided that one still exists: a
	 * logout with the newer token ends the whole chain.
	 */
	if (r.next_id[0] != '\0') {
		if (store_refresh_get(r.next_id, &nr) != PDS_OK)
			return PDS_EEXPIRED;
		memcpy(next, r.next_id, sizeof(r.next_id));
	} else
		new_jti(next);
	ts_at(t + AUTH_REFRESH_GRACE_S, grace);
	ts_at(t + AUTH_REFRESH_TTL_S, exp);
	if ((rc = store_refresh_prune(did, now)) != PDS_OK ||
	    (rc = store_refresh_rotate(jti, next, grace)) != PDS_OK)
		return rc;
	if (r.next_id[0] == '\0')
		rc = store_refresh_insert(next, did, exp, r.app_password_name);
	return rc;
}

int
auth_session_refresh(const char *did, const char *jti,
    struct auth_session *out)
{
	char		 next[SA_TOKEN_ID_MAX + 1];
	const char	*scope = NULL;
	time_t		 t = time(NULL);
	int		 rc;

	memset(out, 0, sizeof(*out));
	/*
	 * Read and rotate inside one write transaction (BEGIN IMMEDIATE):
	 * two refreshes of the same token are serialised, and the second
	 * sees the first one's next token and hands out the same.
	 */
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	if ((rc = refresh_rotate_tx(did, jti, t, &scope, next)) != PDS_OK) {
		store_rollback();
		return rc == PDS_EMISMATCH ? PDS_EEXPIRED : rc;
	}
	if ((rc = store_commit()) != PDS_OK)
		return rc;
	return mint_pair(did, scope, next, out);
}

int
auth_session_revoke(const char *jti)
{
	return store_refresh_revoke_chain(jti);
}

/* ---- login attempt limits ---- */

#define LIM_SLOTS	4096	/* per table, a power of two */
#define LIM_PROBE	8
#define LIM_KEY_MAX	512

struct lim_bucket {
	uint64_t	 key;		/* 0: free */
	double		 tokens;
	int64_t		 t_ms;
};

struct lim_table {
	struct lim_bucket slot[LIM_SLOTS];
	double		 cap;		/* burst */
	double		 per_ms;	/* refill rate */
};

static pthread_mutex_t	 lim_mtx = PTHREAD_MUTEX_INITIALIZER;
/* per (account or identifier, address): the guessing limit */
static struct lim_table	 lim_pair = { .cap = 10, .per_ms = 1.0 / 30000 };
/* per account from anywhere: distributed guessing */
static struct lim_table	 lim_acct = { .cap = 100, .per_ms = 1.0 / 60000 };
/* per address: one client spraying many accounts */
static struct lim_table	 lim_addr = { .cap = 50, .per_ms = 1.0 / 2000 };

/* Keyed hash of kind || lower(a) || NUL || b (b may be NULL). */
static uint64_t
lim_hash(char kind, const char *a, const char *b)
{
	unsigned char	 h[crypto_shorthash_BYTES];
	char		 tmp[LIM_KEY_MAX];
	size_t		 n = 0, i;
	uint64_t	 v = 0;

	tmp[n++] = kind;
	for (i = 0; a[i] != '\0' && n < sizeof(tmp) - 1; i++)
		tmp[n++] = (char)tolower((unsigned char)a[i]);
	tmp[n++] = '\0';
	for (i = 0; b != NULL && b[i] != '\0' && n < sizeof(tmp); i++)
		tmp[n++] = b[i];
	crypto_shorthash(h, (const unsigned char *)tmp, n, lim_key);
	for (i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	return v != 0 ? v : 1;
}

/* The bucket of key, refilled to now; a fresh or reused slot if absent. */
static struct lim_bucket *
lim_find(struct lim_table *t, uint64_t key, int64_t now)
{
	struct lim_bucket *b, *best = NULL;
	double		 tok, best_tok = -1;
	size_t		 i, at = (size_t)key & (LIM_SLOTS - 1);

	for (i = 0; i < LIM_PROBE; i++) {
		b = &t->slot[(at + i) & (LIM_SLOTS - 1)];
		if (b->key == key) {
			b->tokens += (double)(now - b->t_ms) * t->per_ms;
			if (b->tokens > t->cap)
				b->tokens = t->cap;
			b->t_ms = now;
			return b;
		}
		/*
		 * The slot to reuse: a free one, else the one that has
		 * refilled most (forgetting it costs the least).
		 */
		tok = b->key == 0 ? t->cap * 2 :
		    b->tokens + (double)(now - b->t_ms) * t->per_ms;
		if (tok > best_tok) {
			best_tok = tok;
			best = b;
		}
	}
	best->key = key;
	best->tokens = t->cap;
	best->t_ms = now;
	return best;
}

/* The buckets of one attempt: b[i] is in table t[i]. */
struct lim_set {
	struct lim_bucket	*b[3];
	struct lim_table	*t[3];
	size_t			 n;
};

/*
 * Take lim_mtx and find the buckets of one attempt into s; the caller
 * unlocks once it has used them.
 */
static void
lim_lock(struct lim_set *s, const char *identifier, const char *did,
    const char *addr)
{
	int64_t	 now;

	pthread_mutex_lock(&lim_mtx);
	now = clock_mono_ms();
	s->n = 0;
	if (did != NULL) {
		s->t[s->n] = &lim_pair;
		s->b[s->n++] = lim_find(&lim_pair, lim_hash('d', did, addr),
		    now);
		s->t[s->n] = &lim_acct;
		s->b[s->n++] = lim_find(&lim_acct, lim_hash('D', did, NULL),
		    now);
	} else {
		s->t[s->n] = &lim_pair;
		s->b[s->n++] = lim_find(&lim_pair,
		    lim_hash('i', identifier, addr), now);
	}
	s->t[s->n] = &lim_addr;
	s->b[s->n++] = lim_find(&lim_addr, lim_hash('a', addr, NULL), now);
}

int
auth_login_take(const char *identifier, const char *did, const char *addr)
{
	struct lim_set	 s;
	size_t		 i;
	int		 rc = PDS_OK;

	lim_lock(&s, identifier, did, addr);
	/*
	 * Only this client's own buckets can refuse before the password
	 * is checked: the per-account one (b[1] when did is set) is drained
	 * by everyone, and refusing on it would let strangers lock the
	 * member out.
	 */
	for (i = 0; i < s.n; i++)
		if (s.t[i] != &lim_acct && s.b[i]->tokens < 1)
			rc = PDS_ETOOBIG;
	for (i = 0; rc == PDS_OK && i < s.n; i++) {
		if (s.t[i] != &lim_acct) {
			s.b[i]->tokens -= 1;
			continue;
		}
		/*
		 * An empty account bucket means guessing from many places:
		 * then each client gets one try per refill of its own
		 * bucket (30 s) until the account's refills.  The account's
		 * bucket may owe one token, so that a refund never lifts
		 * it out of that state.
		 */
		if (s.b[i]->tokens < 1)
			s.b[0]->tokens = 0;
		if ((s.b[i]->tokens -= 1) < -1)
			s.b[i]->tokens = -1;
	}
	pthread_mutex_unlock(&lim_mtx);
	if (rc != PDS_OK)
		ratelimit_count_login();
	return rc;
}

void
auth_login_refund(const char *identifier, const char *did, const char *addr)
{
	struct lim_set	 s;
	size_t		 i;

	lim_lock(&s, identifier, did, addr);
	for (i = 0; i < s.n; i++) {
		if (s.t[i] == &lim_addr)
			continue;	/* a client's logins all count */
		if (s.t[i] == &lim_pair)	/* it knows the password */
			s.b[i]->tokens = s.t[i]->cap;
		else if ((s.b[i]->tokens += 1) > s.t[i]->cap)
			s.b[i]->tokens = s.t[i]->cap;
	}
	pthread_mutex_unlock(&lim_mtx);
}

/* ---- the verifier ---- */

int
auth_bad_token(struct xrpc_ctx *ctx, int rc, const char *what)
{
	if (rc == PDS_EEXPIRED)
		return xrpc_fail(ctx, PDS_ETOKENEXPIRED, NULL,
		    "Token has expired");
	return xrpc_fail(ctx, PDS_EBADTOKEN, NULL, "%s", what);
}

static bool
scope_allowed(const struct xrpc_route *rt, const char *scope)
{
	unsigned	 f = rt->auth_flags;

	if (strcmp(scope, AUTH_SCOPE_ACCESS) == 0)
		return true;
	if (strcmp(scope, AUTH_SCOPE_APP_PRIV) == 0)
		return rt->auth != XRPC_AUTH_FULL;
	if (strcmp(scope, AUTH_SCOPE_APP_PASS) == 0)
		return rt->auth == XRPC_AUTH_ACCESS;
	if (strcmp(scope, AUTH_SCOPE_TAKENDOWN) == 0)
		return (f & XRPC_AF_TAKENDOWN) != 0;
	if (strcmp(scope, AUTH_SCOPE_SIGNUP_QUEUED) == 0)
		return (f & XRPC_AF_SIGNUP_QUEUED) != 0;
	return false;
}

int
auth_check_account(struct xrpc_ctx *ctx)
{
	struct store_account a;
	unsigned	 f = ctx->route->auth_flags;
	int		 rc;

	rc = store_account_get(SA_BY_DID, ctx->auth.did, &a);
	if (rc == PDS_ENOTFOUND || (rc == PDS_OK &&
	    a.status == ACCT_DELETED))
		return xrpc_fail(ctx, PDS_EBADTOKEN, NULL,
		    "Token subject is not an account here");
	if (rc != PDS_OK)
		return PDS_EINTERNAL;
	/*
	 * A taken-down account's legacy login only gets the takendown
	 * scope, which the routes without XRPC_AF_TAKENDOWN refuse; its
	 * OAuth sessions are held to the same.
	 */
	if (a.status == ACCT_TAKENDOWN && ((f & XRPC_AF_CHECK_TAKEDOWN) ||
	    (ctx->auth.cred == XRPC_CRED_OAUTH && !(f & XRPC_AF_TAKENDOWN))))
		return xrpc_fail(ctx, PDS_ETAKENDOWN, NULL,
		    "Account has been taken down");
	if ((f & XRPC_AF_CHECK_DEACTIVATED) &&
	    a.status == ACCT_DEACTIVATED)
		return xrpc_fail(ctx, PDS_EDEACTIVATED, NULL,
		    "Account is deactivated");
	return 0;
}

static int
copy_claim(struct xrpc_ctx *ctx, const struct jwt *j, const char *name,
    char *out, size_t cap)
{
	const char	*s = jwt_claim_str(j, name);

	if (s == NULL || *s == '\0' || strlen(s) >= cap)
		return xrpc_fail(ctx, PDS_EBADTOKEN, NULL,
		    "Malformed token: bad %s", name);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* A session JWT's signature and claims; no account lookup. */
static int
verify_session_token(struct xrpc_ctx *ctx, const struct jwt *j,
    bool refresh)
{
	const struct xrpc_route *rt = ctx->route;
	struct jwt_expect e;
	const uint8_t	*k;
	const char	*why = "Token could not be verified";
	size_t		 klen;
	int64_t		 exp;
	int		 rc;

	k = secret(&klen);
	if (jwt_verify_hs256(j, k, klen, &why) != PDS_OK)
		return auth_bad_token(ctx, PDS_ECRYPTO,
		    "Token could not be verified");
	memset(&e, 0, sizeof(e));
	e.now = time(NULL);
	e.typ = refresh ? "refresh+jwt" : "at+jwt";
	e.aud = acfg->service_did;
	e.flags = JWT_REFUSE_LXM | JWT_REFUSE_CNF;
	rc = jwt_check_claims(j, &e, &why);
	if (rc == PDS_EEXPIRED && (rt->auth_flags & XRPC_AF_ALLOW_EXPIRED))
		rc = PDS_OK;	/* every other claim passed: exp is last */
	if (rc == PDS_EINVAL && strcmp(why, "wrong typ") == 0)
		return auth_bad_token(ctx, rc, "Invalid token type");
	if (rc != PDS_OK)
		return auth_bad_token(ctx, rc, why);

	if ((rc = copy_claim(ctx, j, "sub", ctx->auth.did,
	    sizeof(ctx->auth.did))) != 0 ||
	    (rc = copy_claim(ctx, j, "scope", ctx->auth.scope,
	    sizeof(ctx->auth.scope))) != 0)
		return rc;
	if (!syntax_is_did(ctx->auth.did, strlen(ctx->auth.did)))
		return auth_bad_token(ctx, PDS_EINVAL,
		    "Malformed token: bad sub");
	if (jwt_claim_int(j, "exp", &exp))
		ctx->auth.exp = exp;
	if (refresh) {
		if (strcmp(ctx->auth.scope, AUTH_SCOPE_REFRESH) != 0)
			return auth_bad_token(ctx, PDS_EINVAL,
			    "Bad token scope");
		if ((rc = copy_claim(ctx, j, "jti", ctx->auth.token_id,
		    sizeof(ctx->auth.token_id))) != 0)
			return rc;
		ctx->auth.cred = XRPC_CRED_REFRESH;
	} else {
		if (!scope_allowed(rt, ctx->auth.scope))
			return auth_bad_token(ctx, PDS_EINVAL,
			    "Bad token scope");
		ctx->auth.cred = XRPC_CRED_ACCESS;
	}
	return 0;
}

/*
 * Decode the bearer token of the Authorization header into j: 0 with j
 * to clear, 1 for a DPoP (OAuth) header, which has no bearer token, or
 * the error (xrpc_fail()) for a missing or malformed one.
 */
static int
bearer_decode(struct xrpc_ctx *ctx, struct jwt *j)
{
	const char	*authz, *tok, *why = NULL;

	authz = http_req_header(ctx->req, "Authorization");
	if (authz == NULL || *authz == '\0')
		return xrpc_fail(ctx, PDS_EAUTHMISSING, NULL,
		    "Authentication Required");
	if (strncasecmp(authz, "DPoP ", 5) == 0)
		return 1;
	if (strncasecmp(authz, "Bearer ", 7) != 0)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
		    "Unexpected authorization type");
	tok = authz + 7;
	memset(j, 0, sizeof(*j));
	if (jwt_decode(j, tok, strlen(tok), &why) != PDS_OK)
		return auth_bad_token(ctx, PDS_EINVAL, "Malformed token");
	/* A DPoP-bound (OAuth) token is only good with its proof. */
	if (json_object_get(j->payload, "cnf") != NULL) {
		jwt_clear(j);
		return auth_bad_token(ctx, PDS_EINVAL, "Malformed token");
	}
	return 0;
}

/*
 * Verify a decoded bearer token for ctx->route.  With full, the whole
 * check: a service JWT by its issuer's key, a session token and then
 * its account.  Without it only what needs neither the database nor
 * the network: a service JWT only has to be there.
 */
static int
bearer_verify(struct xrpc_ctx *ctx, const struct jwt *j, bool full)
{
	const struct xrpc_route *rt = ctx->route;
	bool		 refresh = false;
	int		 rc;

	switch (rt->auth) {
	case XRPC_AUTH_REFRESH:
		refresh = true;
		break;
	case XRPC_AUTH_ACCESS:
	case XRPC_AUTH_PRIVILEGED:
	case XRPC_AUTH_FULL:
		if (strcmp(j->alg, "HS256") != 0 && (rt->auth_flags &
		    (XRPC_AF_OR_SERVICE | XRPC_AF_OR_MOD_SERVICE)))
			return full ? auth_service_verify(ctx, j) : 0;
		break;
	case XRPC_AUTH_SERVICE:
	case XRPC_AUTH_MOD:
		return full ? auth_service_verify(ctx, j) : 0;
	default:
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
		    "Unexpected authorization type");
	}
	if ((rc = verify_session_token(ctx, j, refresh)) != 0 || !full)
		return rc;
	return auth_check_account(ctx);
}

int
xrpc_auth_verify(struct xrpc_ctx *ctx)
{
	struct jwt	 j;
	int		 rc;

	if ((rc = bearer_decode(ctx, &j)) != 0)
		return rc == 1 ? auth_oauth_verify(ctx) : rc;
	rc = bearer_verify(ctx, &j, true);
	jwt_clear(&j);
	return rc;
}

/*
 * The part of xrpc_auth_verify() that needs neither the database nor
 * the network, for the router to run before a body is read: the same
 * answers for a missing, malformed, badly signed or expired session
 * token.  Service JWTs (their key comes from the issuer's DID document)
 * and DPoP-bound tokens (their proof is single-use) only have to be
 * there; xrpc_auth_verify() checks them after the body.
 */
int
xrpc_auth_precheck(struct xrpc_ctx *ctx)
{
	struct jwt	 j;
	int		 rc;

	if ((rc = bearer_decode(ctx, &j)) != 0)
		return rc == 1 ? 0 : rc;
	rc = bearer_verify(ctx, &j, false);
	jwt_clear(&j);
	/* the handler phase verifies again and fills ctx->auth for real */
	memset(&ctx->auth, 0, sizeof(ctx->auth));
	return rc;
}
