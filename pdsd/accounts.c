/*
 * accounts: the account service.  See accounts.h.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "auth.h"
#include "config.h"
#include "diddoc.h"
#include "err.h"
#include "events.h"
#include "keys.h"
#include "log.h"
#include "module.h"
#include "outbound.h"
#include "plc.h"
#include "plc_client.h"
#include "pwhash.h"
#include "resolver.h"
#include "store.h"
#include "store_account.h"
#include "store_import_ref.h"
#include "store_oauth.h"
#include "syntax.h"

static const struct config *acfg;
static struct pds_key	*rotation_key;
static char		 rotation_didkey[KEY_DIDKEY_MAX];

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/*
 * Labels that no member may register under our handle domains: names
 * people would take for the service or its staff, and infrastructure
 * names.  The operator (ACCOUNT_HANDLE_ADMIN) may still assign them.
 */
static const char *const reserved_labels[] = {
	"abuse", "account", "accounts", "admin", "administrator", "api",
	"app", "atproto", "auth", "billing", "blog", "bsky", "bluesky",
	"cdn", "contact", "dev", "dns", "docs", "email", "ftp", "help",
	"helpdesk", "host", "hostmaster", "imap", "info", "invite", "jobs",
	"legal", "login", "mail", "moderation", "moderator", "mod", "news",
	"noreply", "no-reply", "ns1", "ns2", "oauth", "official", "owner",
	"pds", "plc", "pop", "postmaster", "press", "privacy", "relay",
	"root", "security", "server", "signup", "smtp", "staff", "static",
	"status", "support", "sysadmin", "system", "team", "terms", "tos",
	"trust", "webmaster", "www",
};

const struct pds_error *
account_error_settle(struct pds_error *err, int rc)
{
	if (err->code == rc && rc != PDS_OK)
		return err;
	switch (rc) {
	case PDS_EINVAL:
	case PDS_EEXIST:
	case PDS_ENOTFOUND:
	case PDS_ETOOBIG:
	case PDS_EMISMATCH:
		(void)pds_error_set(err, rc, NULL, NULL);
		break;
	case PDS_ECRYPTO:
		(void)pds_error_set(err, PDS_EAUTHREQ, NULL, "%s",
		    pds_strerror(rc));
		break;
	default:
		(void)pds_error_set(err, PDS_EINTERNAL, NULL, NULL);
		break;
	}
	return err;
}

static int
accounts_module_init(const struct config *cfg)
{
	struct outbound_config	 oc;
	struct resolver_config	 rc;
	int			 r;

	if (rotation_key != NULL)
		return PDS_OK;
	acfg = cfg;
	if ((r = key_from_private(&rotation_key, KEY_K256,
	    cfg->plc_rotation_key)) != PDS_OK) {
		log_warnx("accounts: PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX "
		    "is not a usable secp256k1 key");
		return r;
	}
	if (key_to_didkey(rotation_key, rotation_didkey,
	    sizeof(rotation_didkey)) < 0)
		return PDS_EINTERNAL;
	if ((r = auth_init(cfg)) != PDS_OK)
		return r;

	/* Both inits are idempotent: the identity module may run them too. */
	memset(&oc, 0, sizeof(oc));
	oc.user_agent = "pdsd/" PDSD_VERSION;
	oc.allow_private = cfg->dev_mode || cfg->disable_ssrf_protection;
	oc.max_response = (size_t)cfg->fetch_max_response_size;
	if ((r = outbound_init(&oc)) != PDS_OK)
		return r;
	if (plc_client_url()[0] == '\0' &&
	    (r = plc_client_init(cfg->did_plc_url, 0)) != PDS_OK) {
		log_warnx("accounts: PDS_DID_PLC_URL %s unusable",
		    cfg->did_plc_url);
		return r;
	}
	memset(&rc, 0, sizeof(rc));
	rc.timeout_ms = (long)cfg->id_resolver_timeout_ms;
	rc.stale_ttl_ms = (long)cfg->did_cache_stale_ttl_ms;
	rc.max_ttl_ms = (long)cfg->did_cache_max_ttl_ms;
	rc.failure_ttl_ms = (long)cfg->id_resolver_failure_ttl_ms;
	rc.allow_test_tld = cfg->dev_mode;
	return resolver_init(&rc);
}

static void
accounts_module_fini(void)
{
	key_free(rotation_key);
	rotation_key = NULL;
}

PDSD_MODULE(accounts, accounts_module_init, accounts_module_fini)

int
accounts_init(const struct config *cfg)
{
	return accounts_module_init(cfg);
}

const struct config *
accounts_config(void)
{
	return acfg;
}

/* ---- handles, emails ---- */

static bool
label_reserved(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < sizeof(reserved_labels) / sizeof(reserved_labels[0]);
	    i++)
		if (strlen(reserved_labels[i]) == n &&
		    memcmp(reserved_labels[i], s, n) == 0)
			return true;
	return false;
}

int
account_handle_check(const char *in, unsigned flags, char *out, size_t cap,
    bool *is_service, struct pds_error *err)
{
	size_t	 len, dl, i, front = 0;
	int	 n;
	bool	 service = false;

	*is_service = false;
	n = handle_normalize(out, cap, in, strlen(in));
	if (n < 0)
		return pds_error_set(err, PDS_EINVAL, "InvalidHandle",
		    "Input/handle must be a valid handle");
	len = (size_t)n;
	for (i = 0; i < acfg->handle_domains.n; i++) {
		dl = strlen(acfg->handle_domains.v[i]);
		if (len > dl && strcmp(out + len - dl,
		    acfg->handle_domains.v[i]) == 0) {
			service = true;
			front = len - dl;
			break;
		}
	}
	if (!service) {
		if (handle_is_reserved_tld(out, len, acfg->dev_mode))
			return pds_error_set(err, PDS_EINVAL, "InvalidHandle",
			    "Handle TLD is invalid or disallowed");
		if (flags & ACCOUNT_HANDLE_SERVICE)
			return pds_error_set(err, PDS_EINVAL,
			    "UnsupportedDomain",
			    "Not a supported handle domain");
		return PDS_OK;
	}
	*is_service = true;
	if (memchr(out, '.', front) != NULL)
		return pds_error_set(err, PDS_EINVAL, "InvalidHandle",
		    "Invalid characters in handle");
	if (flags & ACCOUNT_HANDLE_ADMIN)
		return PDS_OK;
	if (front < ACCOUNT_HANDLE_LABEL_MIN)
		return pds_error_set(err, PDS_EINVAL, "InvalidHandle",
		    "Handle too short");
	if (front > ACCOUNT_HANDLE_LABEL_MAX)
		return pds_error_set(err, PDS_EINVAL, "InvalidHandle",
		    "Handle too long");
	if (label_reserved(out, front))
		return pds_error_set(err, PDS_EINVAL, "HandleNotAvailable",
		    "Reserved handle");
	return PDS_OK;
}

int
account_email_check(const char *in, char *out, size_t cap,
    struct pds_error *err)
{
	size_t	 n = strlen(in), i, at = 0, nat = 0;
	unsigned char c;

	if (n < 3 || n > SA_EMAIL_MAX || n >= cap)
		goto bad;
	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c <= ' ' || c >= 0x7f || strchr("\"(),:;<>[\\]", c))
			goto bad;
		if (c == '@') {
			at = i;
			nat++;
		}
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	/* local@domain.tld: a dotted domain, no empty labels */
	if (nat != 1 || at == 0 || at > 64 || at + 1 >= n ||
	    strchr(out + at + 1, '.') == NULL || out[at + 1] == '.' ||
	    out[n - 1] == '.' || strstr(out + at, "..") != NULL)
		goto bad;
	for (i = at + 1; i < n; i++)
		if (!isalnum((unsigned char)out[i]) && out[i] != '.' &&
		    out[i] != '-')
			goto bad;
	return PDS_OK;
bad:
	return pds_error_set(err, PDS_EINVAL, "InvalidEmail",
	    "This email address is not valid");
}

/* ---- passwords ---- */

int
account_password_hash(const char *pw, char *out, size_t cap)
{
	if (cap < crypto_pwhash_STRBYTES)
		return PDS_ETOOBIG;
	return pwhash_str(out, pw, strlen(pw));
}

/*
 * App passwords carry 80 random bits, so a fast hash cannot be walked
 * back; it also lets a login find the right one with a single lookup.
 */
static void
app_password_digest(const char *did, const char *pw, char out[SA_HASH_MAX])
{
	crypto_generichash_state st;
	unsigned char	 h[32];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st,
	    (const unsigned char *)"pdsd app password v1", 21);
	crypto_generichash_update(&st, (const unsigned char *)did,
	    strlen(did) + 1);
	crypto_generichash_update(&st, (const unsigned char *)pw, strlen(pw));
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(out, "b2:", 3);
	sodium_bin2hex(out + 3, SA_HASH_MAX - 3, h, sizeof(h));
	sodium_memzero(&st, sizeof(st));
}

static bool
app_password_shape(const char *pw)
{
	size_t	 i;

	if (strlen(pw) != ACCOUNT_APP_PASSWORD_LEN)
		return false;
	for (i = 0; i < ACCOUNT_APP_PASSWORD_LEN; i++) {
		if (i % 5 == 4) {
			if (pw[i] != '-')
				return false;
		} else if (strchr(b32, pw[i]) == NULL || pw[i] == '\0')
			return false;
	}
	return true;
}

/*
 * An account taken over from the reference PDS keeps its password hash
 * in the reference's scrypt form until its first login, which replaces
 * it with pdsd's own.  A failure only logs: the login stands.
 */
static void
password_rehash(const char *did, const char *pw)
{
	char	 hash[crypto_pwhash_STRBYTES];

	if (account_password_hash(pw, hash, sizeof(hash)) != PDS_OK ||
	    store_account_set_password(did, hash) != PDS_OK)
		log_warnx("accounts: %s: could not rehash the reference "
		    "password", did);
	sodium_memzero(hash, sizeof(hash));
}

/*
 * An app password the reference made (pdsctl import-reference) is
 * stored as the reference's scrypt of it, found by equality; it is
 * replaced with pdsd's digest at its first use.  Only accounts that
 * still have one pay for the scrypt.  PDS_ENOTFOUND when none matches.
 */
static int
app_password_reference(const char *did, const char *pw,
    struct account_login *how)
{
	struct store_app_password ap;
	char		 ref[PWHASH_REF_STR], hash[SA_HASH_MAX];
	bool		 any;
	int		 rc;

	if ((rc = store_app_password_any_reference(did, &any)) != PDS_OK)
		return rc;
	if (!any)
		return PDS_ENOTFOUND;
	if ((rc = pwhash_reference_app(did, pw, strlen(pw), ref)) != PDS_OK)
		return rc;
	if ((rc = store_app_password_find(did, ref, &ap)) != PDS_OK)
		return rc;
	app_password_digest(did, pw, hash);
	if (store_app_password_rehash(did, ap.name, hash) != PDS_OK)
		log_warnx("accounts: %s: could not rehash the reference app "
		    "password %s", did, ap.name);
	how->app_password = true;
	how->privileged = ap.privileged;
	memcpy(how->app_password_name, ap.name, sizeof(ap.name));
	return PDS_OK;
}

int
account_password_verify(const struct store_account *acct, const char *pw,
    struct account_login *how)
{
	struct store_app_password ap;
	char		 hash[SA_HASH_MAX];
	size_t		 n = strlen(pw);
	int		 rc;

	memset(how, 0, sizeof(*how));
	if (n > ACCOUNT_PASSWORD_CHECK_MAX)
		return PDS_ECRYPTO;
	if (acct == NULL) {
		pwhash_verify_dummy(pw, n);
		return PDS_ECRYPTO;
	}
	if (app_password_shape(pw)) {
		app_password_digest(acct->did, pw, hash);
		rc = store_app_password_find(acct->did, hash, &ap);
		if (rc == PDS_OK) {
			how->app_password = true;
			how->privileged = ap.privileged;
			memcpy(how->app_password_name, ap.name,
			    sizeof(ap.name));
			return PDS_OK;
		}
		if (rc != PDS_ENOTFOUND)
			return rc;
		if ((rc = app_password_reference(acct->did, pw, how)) !=
		    PDS_ENOTFOUND)
			return rc;
	}
	rc = store_account_password_hash(acct->did, hash, sizeof(hash));
	if (rc != PDS_OK && rc != PDS_ENOTFOUND)
		return rc;
	if (rc != PDS_OK || hash[0] == '\0') {
		pwhash_verify_dummy(pw, n);
		return PDS_ECRYPTO;
	}
	if ((rc = pwhash_verify(hash, pw, n)) == PDS_OK &&
	    pwhash_is_reference(hash))
		password_rehash(acct->did, pw);
	return rc;
}

/* ---- accounts ---- */

int
account_get(const char *did, struct store_account *out)
{
	return store_account_get(SA_BY_DID, did, out);
}

int
account_lookup(const char *id, struct store_account *out)
{
	char	 norm[SA_EMAIL_MAX + 1];
	size_t	 n = strlen(id), i;
	int	 len;

	if (n == 0)
		return PDS_ENOTFOUND;
	if (strncmp(id, "did:", 4) == 0)
		return store_account_get(SA_BY_DID, id, out);
	if (strchr(id, '@') != NULL) {
		if (n >= sizeof(norm))
			return PDS_ENOTFOUND;
		for (i = 0; i <= n; i++)
			norm[i] = (char)tolower((unsigned char)id[i]);
		return store_account_get(SA_BY_EMAIL, norm, out);
	}
	len = handle_normalize(norm, sizeof(norm), id, n);
	if (len < 0)
		return PDS_ENOTFOUND;
	return store_account_get(SA_BY_HANDLE, norm, out);
}

void
account_status(const struct store_account *a, bool *active,
    const char **status)
{
	*active = a->status == ACCT_ACTIVE;
	if (status != NULL)
		*status = *active ? NULL : acct_status_name(a->status);
}

size_t
account_rotation_keys(const char *keys[3], const char *user_key)
{
	size_t	 n = 0;

	if (user_key != NULL)
		keys[n++] = user_key;
	if (acfg->recovery_did_key != NULL)
		keys[n++] = acfg->recovery_did_key;
	keys[n++] = rotation_didkey;
	return n;
}

const struct pds_key *
account_rotation_key(void)
{
	return rotation_key;
}

const char *
account_rotation_didkey(void)
{
	return rotation_didkey;
}

int
account_plc_fail(struct pds_error *err, int rc, const char *what,
    const char *msg)
{
	if (rc == PDS_EINVAL || rc == PDS_ENOTFOUND)
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "The PLC directory refused the %s: %s", what, msg);
	return pds_error_set(err, PDS_EUPSTREAM, NULL,
	    "The PLC directory could not be reached for the %s: %s", what,
	    msg);
}

int
account_plc_next_op(const char *did, struct plc_op **nextp,
    struct pds_error *err)
{
	struct plc_op	*last = NULL, *next = NULL;
	char		 plcerr[PLC_CLIENT_ERR_MAX];
	bool		 ours = false;
	size_t		 i;
	int		 rc;

	*nextp = NULL;
	if ((rc = plc_client_get_last_op(did, &last, plcerr,
	    sizeof(plcerr))) != PDS_OK) {
		rc = account_plc_fail(err, rc == PDS_EINVAL ? PDS_EIO : rc,
		    "DID's latest operation", plcerr);
		goto out;
	}
	if ((rc = plc_op_next(last, &next)) != PDS_OK) {
		rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "The DID cannot be updated (tombstoned?)");
		goto out;
	}
	for (i = 0; i < next->n_rotation_keys; i++)
		if (strcmp(next->rotation_keys[i], rotation_didkey) == 0)
			ours = true;
	if (!ours) {
		rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "This server's rotation key is not among the DID's "
		    "rotation keys, so it cannot sign operations for it");
		goto out;
	}
	*nextp = next;
	next = NULL;
out:
	plc_op_free(last);
	plc_op_free(next);
	return rc;
}

/* Sign and send a PLC update that names `handle' first in alsoKnownAs. */
static int
plc_update_handle(const char *did, const char *handle, struct pds_error *err)
{
	struct plc_op	*next = NULL;
	char		 plcerr[PLC_CLIENT_ERR_MAX], aka[PLC_AKA_MAX + 8];
	char		*others[PLC_MAX_AKA];
	size_t		 i, nothers = 0;
	int		 rc;

	if ((rc = account_plc_next_op(did, &next, err)) != PDS_OK)
		return rc;
	/* Keep the entries that are not handles, after the new handle. */
	for (i = 0; i < next->n_aka; i++)
		if (strncmp(next->aka[i], "at://", 5) != 0 &&
		    nothers < PLC_MAX_AKA - 1)
			others[nothers++] = strdup(next->aka[i]);
	plc_op_clear_aka(next);
	snprintf(aka, sizeof(aka), "at://%s", handle);
	rc = plc_op_add_aka(next, aka);
	for (i = 0; i < nothers; i++) {
		if (rc == PDS_OK && others[i] != NULL)
			rc = plc_op_add_aka(next, others[i]);
		free(others[i]);
	}
	if (rc != PDS_OK || (rc = plc_op_sign(next, rotation_key)) != PDS_OK)
		goto out;
	if ((rc = plc_client_submit(did, next, plcerr, sizeof(plcerr))) !=
	    PDS_OK) {
		log_warnx("updateHandle %s: PLC: %s", did, plcerr);
		rc = account_plc_fail(err, rc, "handle update", plcerr);
	}
out:
	plc_op_free(next);
	return rc;
}

int
account_set_handle(const char *did, const char *in, unsigned flags,
    struct pds_error *err)
{
	struct store_account a;
	struct diddoc	 dd;
	char		 handle[SA_HANDLE_MAX + 1], rdid[DID_MAX + 1];
	bool		 service, taken;
	int		 rc;

	memset(err, 0, sizeof(*err));
	if ((rc = account_get(did, &a)) == PDS_ENOTFOUND)
		return pds_error_set(err, rc, "AccountNotFound",
		    "Account not found");
	if (rc != PDS_OK)
		return rc;
	if ((rc = account_handle_check(in, flags & ~ACCOUNT_HANDLE_SERVICE,
	    handle, sizeof(handle), &service, err)) != PDS_OK)
		return rc;
	if (!service && !(flags & ACCOUNT_HANDLE_ADMIN)) {
		rc = resolver_handle(handle, rdid, sizeof(rdid));
		if (rc != PDS_OK || strcmp(rdid, did) != 0)
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "External handle did not resolve to DID");
	}
	if ((rc = store_account_handle_taken(handle, did, &taken)) != PDS_OK)
		return rc;
	if (taken)
		return pds_error_set(err, PDS_EEXIST, "HandleNotAvailable",
		    "Handle already taken: %s", handle);

	if (strcmp(a.handle, handle) != 0) {
		if (did_is_plc(did, strlen(did))) {
			if ((rc = plc_update_handle(did, handle, err)) !=
			    PDS_OK)
				return rc;
		} else {
			/* did:web: the document is the owner's to change. */
			memset(&dd, 0, sizeof(dd));
			rc = resolver_refresh(did);
			if (rc == PDS_OK)
				rc = resolver_did_data(did, &dd);
			taken = rc == PDS_OK && dd.handle != NULL &&
			    strcmp(dd.handle, handle) == 0;
			diddoc_clear(&dd);
			if (!taken)
				return pds_error_set(err, PDS_EINVAL,
				    "InvalidRequest",
				    "The DID document does not name this "
				    "handle");
		}
	}
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	rc = store_account_set_handle(did, handle);
	if (rc == PDS_EEXIST) {
		store_rollback();
		return pds_error_set(err, rc, "HandleNotAvailable",
		    "Handle already taken: %s", handle);
	}
	if (rc == PDS_OK)
		rc = events_identity(did, handle);
	if ((rc = store_end(rc)) != PDS_OK)
		return rc;
	resolver_forget(did);
	log_info("account %s: handle %s -> %s", did,
	    a.handle[0] ? a.handle : "handle.invalid", handle);
	return PDS_OK;
}

int
account_set_password(const char *did, const char *pw, struct pds_error *err)
{
	char	 hash[SA_HASH_MAX];
	int	 rc;

	memset(err, 0, sizeof(*err));
	if (pw == NULL || *pw == '\0')
		return pds_error_set(err, PDS_EINVAL, "InvalidPassword",
		    "Password is required");
	if (strlen(pw) > ACCOUNT_PASSWORD_MAX)
		return pds_error_set(err, PDS_EINVAL, "InvalidPassword",
		    "Password too long");
	if ((rc = account_password_hash(pw, hash, sizeof(hash))) != PDS_OK)
		return rc;
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	/*
	 * A new password ends every session the old one opened: legacy
	 * ones, the apps' OAuth grants and the browsers that remember the
	 * account (which would otherwise approve new apps unasked).
	 */
	if ((rc = store_account_set_password(did, hash)) != PDS_OK ||
	    (rc = store_refresh_revoke_all(did)) != PDS_OK ||
	    (rc = store_oauth_family_delete_did(did, NULL)) != PDS_OK ||
	    (rc = store_oauth_account_device_delete_did(did)) != PDS_OK) {
		store_rollback();
		sodium_memzero(hash, sizeof(hash));
		return rc == PDS_ENOTFOUND ? pds_error_set(err, rc,
		    "AccountNotFound",
		    "Account not found") : rc;
	}
	sodium_memzero(hash, sizeof(hash));
	return store_commit();
}

int
account_set_status(const char *did, enum acct_status status,
    const char *ref, struct pds_error *err)
{
	char	 now[STORE_TS_LEN];
	int	 rc;

	memset(err, 0, sizeof(*err));
	if (status != ACCT_ACTIVE && status != ACCT_DEACTIVATED &&
	    status != ACCT_TAKENDOWN)
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Unknown account status");
	store_timestamp(now);
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	rc = store_account_set_status(did, status,
	    status == ACCT_TAKENDOWN ? (ref ? ref : "takedown") : now);
	/*
	 * A takedown ends every way in: password sessions, OAuth grants
	 * and the codes not yet exchanged for one, and the browsers'
	 * sign-ins and consents, so that a reversal does not quietly bring
	 * an app's access back.
	 */
	if (rc == PDS_OK && status == ACCT_TAKENDOWN &&
	    (rc = store_refresh_revoke_all(did)) == PDS_OK &&
	    (rc = store_oauth_family_delete_did(did, NULL)) == PDS_OK &&
	    (rc = store_oauth_request_delete_did(did)) == PDS_OK &&
	    (rc = store_oauth_account_device_delete_did(did)) == PDS_OK)
		rc = store_oauth_client_forget_did(did);
	if (rc == PDS_OK)
		rc = events_account(did, status);
	if (rc != PDS_OK) {
		store_rollback();
		return rc == PDS_ENOTFOUND ? pds_error_set(err, rc,
		    "AccountNotFound",
		    "Account not found") : rc;
	}
	return store_commit();
}

int
account_signing_key(const char *did, struct pds_key **out)
{
	uint8_t	 priv[KEY_PRIV_LEN];
	int	 rc;

	*out = NULL;
	if ((rc = store_account_signing_key(did, priv)) != PDS_OK)
		return rc;
	rc = key_from_private(out, KEY_K256, priv);
	sodium_memzero(priv, sizeof(priv));
	return rc;
}

int
account_signing_didkey(const char *did, char *out, size_t cap)
{
	struct pds_key	*key;
	int		 rc;

	if ((rc = account_signing_key(did, &key)) != PDS_OK)
		return rc;
	if (key_to_didkey(key, out, cap) < 0)
		rc = PDS_EINTERNAL;
	key_free(key);
	return rc;
}

int
account_did_credentials(const char *did, json_t **out)
{
	struct store_account a;
	char		 didkey[KEY_DIDKEY_MAX], aka[SA_HANDLE_MAX + 8];
	const char	*keys[3];
	json_t		*o, *rk, *ak;
	size_t		 i, n;
	int		 rc;

	*out = NULL;
	if ((rc = account_get(did, &a)) != PDS_OK)
		return rc;
	if ((rc = account_signing_didkey(did, didkey, sizeof(didkey))) !=
	    PDS_OK)
		return rc;
	rk = json_array();
	ak = json_array();
	n = account_rotation_keys(keys, NULL);
	for (i = 0; i < n; i++)
		json_array_append_new(rk, json_string(keys[i]));
	if (a.handle[0] != '\0') {
		snprintf(aka, sizeof(aka), "at://%s", a.handle);
		json_array_append_new(ak, json_string(aka));
	}
	o = json_pack("{s:o,s:o,s:{s:s},s:{s:{s:s,s:s}}}",
	    "rotationKeys", rk, "alsoKnownAs", ak,
	    "verificationMethods", "atproto", didkey,
	    "services", "atproto_pds", "type", "AtprotoPersonalDataServer",
	    "endpoint", acfg->public_url);
	if (o == NULL)
		return PDS_ENOMEM;
	*out = o;
	return PDS_OK;
}

int
account_did_doc(const char *did, json_t **out)
{
	return resolver_did_doc(did, out);
}

/* ---- app passwords ---- */

int
account_app_password_create(const char *did, const char *name,
    bool privileged, char *password, struct store_app_password *out,
    struct pds_error *err)
{
	uint8_t	 r[16];
	char	 hash[SA_HASH_MAX];
	size_t	 i, j, n;
	int	 rc;

	memset(err, 0, sizeof(*err));
	n = name != NULL ? strlen(name) : 0;
	if (n == 0 || n > SA_NAME_MAX)
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "App password name must be 1 to %d characters",
		    SA_NAME_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < ' ')
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "App password name has control characters");
	if ((rc = store_app_password_count(did, &n)) != PDS_OK)
		return rc;
	if (n >= ACCOUNT_APP_PASSWORDS_MAX)
		return pds_error_set(err, PDS_ETOOBIG, "InvalidRequest",
		    "Too many app passwords (at most %d)",
		    ACCOUNT_APP_PASSWORDS_MAX);
	randombytes_buf(r, sizeof(r));
	for (i = 0, j = 0; i < ACCOUNT_APP_PASSWORD_LEN; i++) {
		if (i % 5 == 4)
			password[i] = '-';
		else
			password[i] = b32[r[j++] & 31];
	}
	password[i] = '\0';
	sodium_memzero(r, sizeof(r));
	app_password_digest(did, password, hash);
	memset(out, 0, sizeof(*out));
	store_timestamp(out->created_at);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->privileged = privileged;
	rc = store_app_password_insert(did, name, hash, privileged,
	    out->created_at);
	if (rc == PDS_EEXIST)
		return pds_error_set(err, rc, "InvalidRequest",
		    "An app password with this name already exists");
	return rc;
}

int
account_app_password_revoke(const char *did, const char *name)
{
	int	 rc;

	if ((rc = store_begin()) != PDS_OK)
		return rc;
	if ((rc = store_app_password_delete(did, name)) != PDS_OK &&
	    rc != PDS_ENOTFOUND) {
		store_rollback();
		return rc;
	}
	if ((rc = store_refresh_revoke_app_password(did, name)) != PDS_OK) {
		store_rollback();
		return rc;
	}
	return store_commit();
}

/* ---- invite codes ---- */

int
account_invite_create(int64_t uses, const char *for_account,
    const char *created_by, char *code, size_t cap)
{
	char	 now[STORE_TS_LEN];
	uint8_t	 r[10];
	size_t	 i, n;
	int	 tries, rc = PDS_EEXIST;

	if (uses < 1 || uses > ACCOUNT_INVITE_MAX_USES)
		return PDS_EINVAL;
	store_timestamp(now);
	for (tries = 0; tries < 4 && rc == PDS_EEXIST; tries++) {
		n = strlen(acfg->hostname);
		if (n + 13 >= cap)
			return PDS_ETOOBIG;
		for (i = 0; i < n; i++)
			code[i] = acfg->hostname[i] == '.' ? '-' :
			    acfg->hostname[i];
		randombytes_buf(r, sizeof(r));
		code[n++] = '-';
		for (i = 0; i < 10; i++) {
			if (i == 5)
				code[n++] = '-';
			code[n++] = b32[r[i] & 31];
		}
		code[n] = '\0';
		rc = store_invite_insert(code, uses, for_account, created_by,
		    now);
	}
	return rc;
}

static int
add_use(void *arg, const struct store_invite_use *u)
{
	json_t	*uses = arg;

	return json_array_append_new(uses, json_pack("{s:s,s:s}", "usedBy",
	    u->used_by, "usedAt", u->used_at)) == 0 ? 0 : PDS_ENOMEM;
}

int
account_invite_json(const struct store_invite *inv, json_t **out)
{
	json_t	*uses = json_array();
	int	 rc;

	*out = NULL;
	if (uses == NULL)
		return PDS_ENOMEM;
	if ((rc = store_invite_list_uses(inv->code, add_use, uses)) !=
	    PDS_OK) {
		json_decref(uses);
		return rc;
	}
	*out = json_pack("{s:s,s:I,s:b,s:s,s:s,s:s,s:o}", "code", inv->code,
	    "available", (json_int_t)inv->available, "disabled",
	    inv->disabled, "forAccount", inv->for_account, "createdBy",
	    inv->created_by, "createdAt", inv->created_at, "uses", uses);
	return *out != NULL ? PDS_OK : PDS_ENOMEM;
}

int
account_invite_add(void *arr, const struct store_invite *inv)
{
	json_t	*v;
	int	 rc;

	if ((rc = account_invite_json(inv, &v)) != PDS_OK)
		return rc;
	return json_array_append_new(arr, v) == 0 ? 0 : PDS_ENOMEM;
}
