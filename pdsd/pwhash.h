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

#include <stdbool.h>
#include <stddef.h>

#include <sodium.h>

/* A new hash string of pw (crypto_pwhash_STRBYTES).  PDS_OK or PDS_ENOMEM. */
int	pwhash_str(char out[crypto_pwhash_STRBYTES], const char *pw,
	    size_t len);

/*
 * Whether pw matches the hash string: PDS_OK or PDS_ECRYPTO.  The hash
 * is pdsd's Argon2id string or, for an account taken over from the
 * reference PDS (pdsctl import-reference), the reference's scrypt
 * "<salt>:<hash>" (libcommon/refpds.h).
 */
int	pwhash_verify(const char *hash, const char *pw, size_t len);

/* Whether hash is the reference's scrypt form (to be rehashed). */
bool	pwhash_is_reference(const char *hash);

/*
 * The hash the reference stored for app password pw of did (its
 * "<salt>:<hash>", found by equality).  PDS_OK or PDS_ENOMEM.
 */
#define PWHASH_REF_STR	(32 + 1 + 128 + 1)
int	pwhash_reference_app(const char *did, const char *pw, size_t len,
	    char out[PWHASH_REF_STR]);

/*
 * Spend what a verify costs and fail: for unknown accounts, so that the
 * answer's timing does not tell them from known ones.  The hash it checks
 * against has the real cost parameters and a random salt and digest; it
 * is built without running Argon2, so start-up does not pay for one.
 */
void	pwhash_verify_dummy(const char *pw, size_t len);

#endif
