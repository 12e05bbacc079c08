/*
 * invites: codes a member earns over time.  The reference PDS makes
 * them when the member lists its codes with createAvailable, and so do
 * we: each whole PDS_INVITE_INTERVAL of an account's life earns one
 * single-use code, counted from PDS_INVITE_EPOCH for accounts older than
 * the epoch, with at most five earned codes open at once.  The count is
 * redone from the codes the account holds on each call, so nothing is
 * stored but the codes; a transaction keeps two calls at once from
 * making the same codes twice.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "config.h"
#include "err.h"
#include "invites.h"
#include "store.h"
#include "store_account.h"
#include "store_admin.h"

/* Most codes of one account looked at: far more than earning makes. */
#define INVITES_HELD_MAX	100000

/* a / b rounded towards minus infinity (b > 0), as Math.floor does. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t	 q = a / b;

	if (a % b != 0 && a < 0)
		q--;
	return q;
}

int64_t
invites_due(int64_t now_ms, int64_t account_ms, int64_t epoch_ms,
    int64_t interval_ms, const struct invite_held *held, size_t n)
{
	int64_t	 could, open = 0, since_epoch = 0, a, b;
	size_t	 i;

	if (interval_ms <= 0)
		return 0;
	could = floor_div(now_ms - account_ms, interval_ms);
	if (account_ms < epoch_ms)
		could -= floor_div(epoch_ms - account_ms, interval_ms);
	for (i = 0; i < n; i++) {
		if (!held[i].routine)
			continue;
		if (held[i].open)
			open++;
		if (held[i].created_ms > epoch_ms)
			since_epoch++;
	}
	a = INVITES_OPEN_MAX - open;
	b = could - since_epoch;
	return a < b ? a : b;
}

int64_t
invites_iso_ms(const char *iso)
{
	struct tm	 tm;
	const char	*p;
	int64_t		 ms = 0, scale = 100;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (iso == NULL || (p = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) ==
	    NULL || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return -1;
	return (int64_t)t * 1000 + ms;
}

struct held_list {
	struct invite_held	*v;
	size_t			 n, cap;
};

static int
held_add(void *arg, const struct store_invite *inv)
{
	struct held_list	*l = arg;
	struct invite_held	*v;
	size_t			 cap;

	if (l->n == l->cap) {
		if (l->cap >= INVITES_HELD_MAX)
			return PDS_ETOOBIG;
		cap = l->cap == 0 ? 16 : l->cap * 2;
		if ((v = reallocarray(l->v, cap, sizeof(*v))) == NULL)
			return PDS_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	v = &l->v[l->n++];
	v->created_ms = invites_iso_ms(inv->created_at);
	v->routine = strcmp(inv->created_by, "admin") != 0;
	v->open = !inv->disabled && inv->available > inv->used;
	return 0;
}

/* In the transaction: list, count, make. */
static int
earn_locked(const char *did, int64_t now_ms, const struct config *cfg,
    size_t *made)
{
	struct store_account	 a;
	struct held_list	 l;
	char			 code[SA_CODE_MAX + 1];
	int64_t			 due, i;
	int			 rc;

	if ((rc = store_account_get(SA_BY_DID, did, &a)) != PDS_OK)
		return rc;
	if (invites_iso_ms(a.created_at) < 0)
		return PDS_EINVAL;	/* not a time we wrote */
	memset(&l, 0, sizeof(l));
	if ((rc = store_invite_list_for(did, held_add, &l)) != PDS_OK) {
		free(l.v);
		return rc;
	}
	due = invites_due(now_ms, invites_iso_ms(a.created_at),
	    cfg->invite_epoch_ms, cfg->invite_interval_ms, l.v, l.n);
	free(l.v);
	for (i = 0; i < due && rc == PDS_OK; i++) {
		if ((rc = account_invite_create(1, did, did, code,
		    sizeof(code))) == PDS_OK && a.invites_disabled)
			rc = store_admin_invite_disable(code);
		if (rc == PDS_OK)
			(*made)++;
	}
	return rc;
}

int
invites_earn(const char *did, int64_t now_ms, size_t *made)
{
	const struct config	*cfg = accounts_config();
	int			 rc;

	*made = 0;
	if (cfg == NULL || !cfg->invite_required ||
	    cfg->invite_interval_ms <= 0)
		return PDS_OK;
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	rc = earn_locked(did, now_ms, cfg, made);
	if ((rc = store_end(rc)) != PDS_OK)
		*made = 0;
	return rc;
}
