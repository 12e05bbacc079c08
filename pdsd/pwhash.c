/*
 * pwhash: bounded Argon2id hashing.  See pwhash.h.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "accounts.h"
#include "err.h"
#include "log.h"
#include "pwhash.h"
#include "refpds.h"
#include "thread.h"

#define PWHASH_SALT	16	/* libsodium's crypto_pwhash_SALTBYTES */
#define PWHASH_OUT	32	/* the digest in a crypto_pwhash_str string */

static pthread_once_t	 pw_once = PTHREAD_ONCE_INIT;
static sem_t		 pw_sem;
static int		 pw_sem_ok;
static char		 pw_dummy[crypto_pwhash_STRBYTES];

/*
 * "$argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt>$<digest>" in unpadded
 * standard base64: the form crypto_pwhash_str() writes.  No password
 * has this digest (short of a 2^-256 chance), and verifying against it
 * costs exactly what a real verify costs.
 */
static int
dummy_build(void)
{
	unsigned char	 salt[PWHASH_SALT], out[PWHASH_OUT];
	char		 s64[sodium_base64_ENCODED_LEN(PWHASH_SALT,
			    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	char		 o64[sodium_base64_ENCODED_LEN(PWHASH_OUT,
			    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	int		 n;

	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(out, sizeof(out));
	sodium_bin2base64(s64, sizeof(s64), salt, sizeof(salt),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_bin2base64(o64, sizeof(o64), out, sizeof(out),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	n = snprintf(pw_dummy, sizeof(pw_dummy),
	    "$argon2id$v=19$m=%zu,t=%d,p=1$%s$%s",
	    ACCOUNT_PWHASH_MEMLIMIT / 1024, ACCOUNT_PWHASH_OPSLIMIT, s64,
	    o64);
	if (n < 0 || (size_t)n >= sizeof(pw_dummy))
		return PDS_EINTERNAL;
	/* 0: a well-formed Argon2id string with exactly these costs. */
	if (crypto_pwhash_str_needs_rehash(pw_dummy,
	    ACCOUNT_PWHASH_OPSLIMIT, ACCOUNT_PWHASH_MEMLIMIT) != 0)
		return PDS_EINTERNAL;
	return PDS_OK;
}

static void
pw_init(void)
{
	pw_sem_ok = sem_init(&pw_sem, 0, (unsigned)thread_ncpu(1, 64)) == 0;
	if (dummy_build() != PDS_OK) {
		log_warnx("pwhash: could not build the dummy hash; "
		    "hashing one");
		if (crypto_pwhash_str_alg(pw_dummy, "not a password", 14,
		    ACCOUNT_PWHASH_OPSLIMIT, ACCOUNT_PWHASH_MEMLIMIT,
		    crypto_pwhash_ALG_ARGON2ID13) != 0)
			pw_dummy[0] = '\0';
	}
}

static void
pw_enter(void)
{
	pthread_once(&pw_once, pw_init);
	if (pw_sem_ok)
		while (sem_wait(&pw_sem) != 0)
			;
}

static void
pw_leave(void)
{
	if (pw_sem_ok)
		sem_post(&pw_sem);
}

int
pwhash_str(char out[crypto_pwhash_STRBYTES], const char *pw, size_t len)
{
	int	 rc;

	pw_enter();
	rc = crypto_pwhash_str_alg(out, pw, len, ACCOUNT_PWHASH_OPSLIMIT,
	    ACCOUNT_PWHASH_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13);
	pw_leave();
	return rc == 0 ? PDS_OK : PDS_ENOMEM;
}

/* scrypt as the reference ran it, on the salt's text (see refpds.h). */
static int
ref_scrypt(const char *salt, const char *pw, size_t len,
    uint8_t out[REFPDS_HASH_LEN])
{
	int	 rc;

	pw_enter();
	rc = crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)pw, len,
	    (const uint8_t *)salt, strlen(salt), REFPDS_SCRYPT_N,
	    REFPDS_SCRYPT_R, REFPDS_SCRYPT_P, out, REFPDS_HASH_LEN);
	pw_leave();
	return rc == 0 ? PDS_OK : PDS_ENOMEM;
}

int
pwhash_verify(const char *hash, const char *pw, size_t len)
{
	struct refpds_hash	 ref;
	uint8_t			 got[REFPDS_HASH_LEN];
	int			 rc;

	if (refpds_hash_parse(hash, strlen(hash), &ref) == PDS_OK) {
		if ((rc = ref_scrypt(ref.salt, pw, len, got)) != PDS_OK)
			return rc;
		rc = sodium_memcmp(got, ref.hash, sizeof(got)) == 0 ?
		    PDS_OK : PDS_ECRYPTO;
		sodium_memzero(got, sizeof(got));
		return rc;
	}
	pw_enter();
	rc = crypto_pwhash_str_verify(hash, pw, len);
	pw_leave();
	return rc == 0 ? PDS_OK : PDS_ECRYPTO;
}

bool
pwhash_is_reference(const char *hash)
{
	return refpds_hash_is(hash);
}

int
pwhash_reference_app(const char *did, const char *pw, size_t len,
    char out[PWHASH_REF_STR])
{
	struct refpds_hash	 h;
	int			 rc;

	refpds_app_salt(did, h.salt);
	if ((rc = ref_scrypt(h.salt, pw, len, h.hash)) != PDS_OK)
		return rc;
	refpds_hash_format(&h, out);
	sodium_memzero(&h, sizeof(h));
	return PDS_OK;
}

void
pwhash_verify_dummy(const char *pw, size_t len)
{
	pthread_once(&pw_once, pw_init);
	if (pwhash_verify(pw_dummy, pw, len) == PDS_OK)
		log_warnx("pwhash: the dummy hash matched");
}
