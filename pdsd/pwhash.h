/*
 * pwhash: Argon2id password hashes (libsodium crypto_pwhash) with a bound
 * on how many run at once.
 *
 * Each hash or verify holds ACCOUNT_PWHASH_MEMLIMIT (19 MiB) while it
 * runs.  With no bound, a burst of logins on every HTTP worker holds
 * workers x 19 MiB at once, and more CPU-bound hashes than cores only
 * make each one slower.  At most one per online CPU runs; the rest wait.
 */
#ifndef PDS_PWHASH_H
#define PDS_PWHASH_H

#include <stddef.h>

#include <sodium.h>

/* A new hash string of pw (crypto_pwhash_STRBYTES).  PDS_OK or PDS_ENOMEM. */
int	pwhash_str(char out[crypto_pwhash_STRBYTES], const char *pw,
	    size_t len);

/* Whether pw matches the hash string: PDS_OK or PDS_ECRYPTO. */
int	pwhash_verify(const char *hash, const char *pw, size_t len);

/*
 * Spend what a verify costs and fail: for unknown accounts, so that the
 * answer's timing does not tell them from known ones.  The hash it checks
 * against has the real cost parameters and a random salt and digest; it
 * is built without running Argon2, so start-up does not pay for one.
 */
void	pwhash_verify_dummy(const char *pw, size_t len);

#endif
