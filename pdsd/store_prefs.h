/*
 * store_prefs: the SQL behind account preferences (the preferences
 * table: one row per preference, its $type and its JSON) and the record
 * reads read-after-write needs.  Only api_prefs.c and
 * read_after_write.c call these.
 */
#ifndef PDSD_STORE_PREFS_H
#define PDSD_STORE_PREFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_pref {
	const char	*name;		/* the preference's $type */
	const char	*value_json;	/* the whole preference object */
};

/* Every preference of did in the order stored; cb's non-zero stops. */
int	store_prefs_list(const char *did,
	    int (*cb)(void *, const struct store_pref *), void *arg);

/*
 * In one transaction: delete the preferences of did for which
 * drop(arg, name) is true, then insert v[0..n) in that order.
 */
int	store_prefs_replace(const char *did,
	    bool (*drop)(void *, const char *name), void *arg,
	    const struct store_pref *v, size_t n);

struct store_raw_record {
	const char	*collection;
	const char	*rkey;
	const char	*cid;
	const char	*rev;
	const char	*indexed_at;
	const uint8_t	*data;		/* the record's DAG-CBOR block */
	size_t		 len;
};

/*
 * Records of did in the given collections (up to 4) written after rev,
 * oldest first, at most limit, skipping taken-down ones; cb's non-zero
 * return stops with it.
 */
int	store_records_since(const char *did, const char *rev,
	    const char *const *collections, size_t ncollections, size_t limit,
	    int (*cb)(void *, const struct store_raw_record *), void *arg);

#endif
