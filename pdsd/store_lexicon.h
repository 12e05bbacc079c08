/*
 * store_lexicon: the lexicon cache (table lexicons), shared by every
 * account.  One row per NSID: the last good document (or NULL), the
 * last failure's reason, and the times of the first and last attempt
 * and of the last success.  Times are milliseconds since the epoch.
 */
#ifndef PDSD_STORE_LEXICON_H
#define PDSD_STORE_LEXICON_H

#include <stddef.h>
#include <stdint.h>

struct store_lexicon {
	char	*nsid;
	char	*uri;		/* NULL when never resolved */
	char	*cid;
	char	*doc;		/* JSON text, or NULL */
	char	*error;		/* NULL after a success */
	int64_t	 created_at, updated_at;
	int64_t	 succeeded_at;	/* 0: never */
};

/* The row of nsid into *out (store_lexicon_clear() it), or PDS_ENOTFOUND. */
int	store_lexicon_get(const char *nsid, struct store_lexicon *out);
/* Insert or replace the row of l->nsid (created_at kept when there). */
int	store_lexicon_put(const struct store_lexicon *l);
int	store_lexicon_delete(const char *nsid);
/*
 * Drop failure rows (no document) last tried before `before`, then the
 * oldest failure rows beyond `keep`; *n (may be NULL) gets the count.
 */
int	store_lexicon_prune(int64_t before, int64_t keep, int64_t *n);
/* Drop the rows least recently tried beyond `keep' rows in all. */
int	store_lexicon_cap(int64_t keep);
void	store_lexicon_clear(struct store_lexicon *);

#endif
