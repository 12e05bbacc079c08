/*
 * invites: the invite codes members earn over time, as the reference
 * PDS makes them when a member asks getAccountInviteCodes with
 * createAvailable (PDS_INVITE_INTERVAL, PDS_INVITE_EPOCH).
 */
#ifndef PDSD_INVITES_H
#define PDSD_INVITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Earned codes never leave more than this many open at once. */
#define INVITES_OPEN_MAX	5

/* A code the account holds, as far as earning is concerned. */
struct invite_held {
	int64_t	 created_ms;	/* when it was made (Unix ms) */
	bool	 routine;	/* earned (made by the account), not given by
				   the admin */
	bool	 open;		/* enabled, with uses left */
};

/*
 * How many codes an account created at account_ms has earned and not
 * yet been given, at now_ms: one per whole interval of its life (when it
 * predates epoch_ms, only the intervals counted after the epoch), less
 * the routine codes made after the epoch, and never leaving more than
 * INVITES_OPEN_MAX routine codes open.  Admin-given codes count for
 * neither.  May be <= 0: nothing is due.  interval_ms > 0.
 */
int64_t	invites_due(int64_t now_ms, int64_t account_ms, int64_t epoch_ms,
	    int64_t interval_ms, const struct invite_held *held, size_t n);

/*
 * Make the codes `did' has earned by now_ms (single use, for and by the
 * account; disabled at once when its invites are disabled, as the
 * reference keeps them for bookkeeping), in one transaction.  Nothing
 * when PDS_INVITE_REQUIRED is false or PDS_INVITE_INTERVAL unset.
 * *made: how many.  PDS_ENOTFOUND: no such account.
 */
int	invites_earn(const char *did, int64_t now_ms, size_t *made);

/* "2025-01-02T03:04:05.678Z" (fraction optional) as Unix ms; -1: bad. */
int64_t	invites_iso_ms(const char *iso);

#endif
