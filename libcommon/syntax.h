/*
 * syntax: validators for the identifier formats of atproto and its
 * lexicon string formats (atproto-notes §7).
 *
 * Every validator takes a pointer and a length (the string need not be
 * NUL-terminated and may contain NULs, which are always invalid) and
 * returns true only for the exact syntax; nothing is trimmed or
 * normalised first.  They are hand-written state machines: no regex
 * library, no allocation, O(len), safe on any input.
 *
 * Two formats have a separate "shape" check: the lexical form alone,
 * without the semantic rules a full validation adds (a datetime must be a
 * real instant; a language tag must not repeat a variant or extension
 * singleton).  syntax_is_datetime() and syntax_is_language() apply both.
 */
#ifndef PDS_SYNTAX_H
#define PDS_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

#define HANDLE_MAX	253
#define DID_MAX		2048
#define NSID_MAX	317
#define RKEY_MAX	512
#define ATURI_MAX	8192
#define URI_MAX		8192
#define DATETIME_MAX	64
#define DID_PLC_LEN	32	/* "did:plc:" + 24 base32 characters */

/* Handle: a DNS name of >= 2 labels whose last label starts with a letter. */
bool	syntax_is_handle(const char *, size_t);
/* DID: did:<method>:<identifier>, <= 2048 characters. */
bool	syntax_is_did(const char *, size_t);
/* NSID: reversed domain authority plus a name segment. */
bool	syntax_is_nsid(const char *, size_t);
/* Record key: 1-512 of [A-Za-z0-9._:~-], not "." or "..". */
bool	syntax_is_rkey(const char *, size_t);
/* One of a record key's characters (also those of an MST key's halves). */
bool	syntax_rkey_char(char);
/* AT-URI, strict lexicon form: at://<handle|did>[/<nsid>[/<rkey>]]. */
bool	syntax_is_aturi(const char *, size_t);
/* A handle or a DID. */
bool	syntax_is_atidentifier(const char *, size_t);
/* TID: 13 base32-sortable characters, top bit clear. */
bool	syntax_is_tid(const char *, size_t);
/* CID string, loosely (lexicon `cid` format): 8-256 of [A-Za-z0-9+=]. */
bool	syntax_is_cid(const char *, size_t);
/* Generic lexicon `uri`: scheme ":" then non-blank text, <= 8 KiB. */
bool	syntax_is_uri(const char *, size_t);

/*
 * Datetime: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), <= 64 chars,
 * "-00:00" refused.  The shape check takes any two digits per field; the
 * full check also wants a real date and time (month 1-12, day within the
 * month with leap years, hour 0-23 (or 24:00:00 exactly, the end of a
 * day), minute 0-59, second 0-59, offset up to 23:59) that does not fall
 * before year 0 once the offset is applied.
 */
bool	syntax_datetime_shape(const char *, size_t);
bool	syntax_is_datetime(const char *, size_t);

/*
 * Language tag (BCP 47, RFC 5646): langtag, private use ("x-..." in
 * either case) or a grandfathered tag.  The primary language subtag must
 * be 2-3 lower-case letters (the lexicon's own narrowing); the other
 * subtags are case-insensitive.  The full check also refuses a variant
 * or extension singleton that occurs twice (case-insensitively).
 */
bool	syntax_language_shape(const char *, size_t);
bool	syntax_is_language(const char *, size_t);

/*
 * Lower-case a handle into out (which may be the input itself); returns
 * the length, or PDS_EINVAL if it is not a valid handle, or PDS_ETOOBIG
 * if cap cannot hold it and a NUL.
 */
int	handle_normalize(char *out, size_t cap, const char *, size_t);
/*
 * True if the handle's TLD may never be registered or resolved: .alt
 * .arpa .example .internal .invalid .local .localhost .onion, and .test
 * unless allow_test is set (development).  Case-insensitive.
 */
bool	handle_is_reserved_tld(const char *, size_t, bool allow_test);

/* did:plc:<24 chars of [a-z2-7]>. */
bool	did_is_plc(const char *, size_t);
/*
 * did:web:<hostname>: a valid handle-syntax host, or "localhost"; no path
 * (no further ':'); a port ("%3A" then 1-5 digits) only for localhost.
 */
bool	did_is_web(const char *, size_t);

/*
 * A whole string as a decimal integer, as strtoll(3) reads it (blanks
 * and a sign may lead); false when s is NULL or empty, has more after
 * the number or is out of range.  *out is set only on success.
 */
bool	syntax_dec_i64(const char *s, int64_t *out);
/* Digits only, nothing before or after them, at most UINT64_MAX. */
bool	syntax_dec_u64(const char *s, uint64_t *out);

#endif
