/*
 * test_pdsd_store_oauth: the OAuth server's tables (pdsd/store_oauth.c).
 * A request is created, read, updated (its expiry only ever extended),
 * given a did and a code (once), and consumed by its code exactly once;
 * a family is found by token id, code and refresh token, rotates its
 * refresh token into the used ones, is found again by a used one, and
 * goes with its used tokens; devices, account links and authorized
 * clients upsert; the replay table refuses a key twice; purge removes
 * only what expired; an account's grants, sign-ins and consents go at
 * once (a takedown) and only its own; deleting an account takes its
 * rows with it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/store_oauth.h"
#include "t.h"

static const char did[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
static const char did2[] = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb";
static const char req_id[] = "req-00000000000000000000000000000001";
static const char code[] =
    "cod-0000000000000000000000000000000000000000000000000000000000000001";
static const char ref1[] =
    "ref-0000000000000000000000000000000000000000000000000000000000000001";
static const char ref2[] =
    "ref-0000000000000000000000000000000000000000000000000000000000000002";
static const char client[] = "https://app.example.com/client-metadata.json";

static int
count_cb(void *arg, const struct store_oauth_family *f)
{
	(void)f;
	(*(int *)arg)++;
	return 0;
}

static int
did_cb(void *arg, const char *d, int64_t created, int64_t updated)
{
	(void)created;
	(void)updated;
	snprintf(arg, 64, "%s", d);
	return 1;
}

static void
test_requests(void)
{
	struct store_oauth_request r, got, again;
	int	 rc;

	t_group("requests");
	memset(&r, 0, sizeof(r));
	r.id = (char *)req_id;
	r.client_id = (char *)client;
	r.client_auth = (char *)"{\"method\":\"none\"}";
	r.params = (char *)"{\"scope\":\"atproto\"}";
	r.expires_at = 1000;
	rc = store_oauth_request_create(&r);
	CHECK(rc == PDS_OK, "create: %s", pds_strerror(rc));
	CHECK(store_oauth_request_create(&r) == PDS_EEXIST, "same id twice");
	rc = store_oauth_request_get(req_id, &got);
	CHECK(rc == PDS_OK && strcmp(got.client_id, client) == 0 &&
	    strcmp(got.params, r.params) == 0 && got.did == NULL &&
	    got.code == NULL && got.device_id == NULL &&
	    got.expires_at == 1000, "get: %s", pds_strerror(rc));
	store_oauth_request_clear(&got);
	CHECK(store_oauth_request_get("req-none", &got) == PDS_ENOTFOUND,
	    "unknown id");

	CHECK(store_oauth_request_update(req_id, "{\"scope\":\"atproto x\"}",
	    NULL, 900) == PDS_OK, "update");
	CHECK(store_oauth_request_get(req_id, &got) == PDS_OK &&
	    strcmp(got.params, "{\"scope\":\"atproto x\"}") == 0 &&
	    got.expires_at == 1000, "params replaced, expiry not shortened");
	store_oauth_request_clear(&got);
	CHECK(store_oauth_request_update(req_id, NULL, NULL, 1200) == PDS_OK &&
	    store_oauth_request_get(req_id, &got) == PDS_OK &&
	    got.expires_at == 1200 && strstr(got.params, " x") != NULL,
	    "expiry extended, params kept");
	store_oauth_request_clear(&got);
	CHECK(store_oauth_request_update("req-none", NULL, NULL, 1) ==
	    PDS_ENOTFOUND, "update unknown");

	CHECK(store_oauth_request_set_code(req_id, code, 1300) ==
	    PDS_ENOTFOUND, "no code before sign-in");
	CHECK(store_oauth_request_set_did(req_id, did) == PDS_OK, "set did");
	CHECK(store_oauth_request_set_code(req_id, code, 1300) == PDS_OK,
	    "set code");
	CHECK(store_oauth_request_set_code(req_id, code, 1300) ==
	    PDS_ENOTFOUND, "a second code refused");

	rc = store_oauth_request_consume(code, &got);
	CHECK(rc == PDS_OK && strcmp(got.id, req_id) == 0 &&
	    strcmp(got.did, did) == 0 && strcmp(got.code, code) == 0 &&
	    got.expires_at == 1300, "consume: %s", pds_strerror(rc));
	store_oauth_request_clear(&got);
	rc = store_oauth_request_consume(code, &again);
	CHECK(rc == PDS_ENOTFOUND, "second consume: %s", pds_strerror(rc));
	CHECK(store_oauth_request_get(req_id, &got) == PDS_ENOTFOUND,
	    "consumed request is gone");

	CHECK(store_oauth_request_create(&r) == PDS_OK &&
	    store_oauth_request_delete(req_id) == PDS_OK &&
	    store_oauth_request_delete(req_id) == PDS_ENOTFOUND, "delete");
	t_group_end();
}

static void
family_fill(struct store_oauth_family *f, const char *tok, const char *c,
    const char *ref)
{
	memset(f, 0, sizeof(*f));
	f->token_id = (char *)tok;
	f->did = (char *)did;
	f->client_id = (char *)client;
	f->client_auth = (char *)"{\"method\":\"none\"}";
	f->params = (char *)"{}";
	f->code = (char *)c;
	f->refresh_token = (char *)ref;
	f->scope = (char *)"atproto transition:generic";
	f->dpop_jkt = (char *)"jkt1";
	f->created_at = 100;
	f->updated_at = 100;
	f->expires_at = 1000;
	f->session_expires_at = 5000;
}

static void
test_families(void)
{
	struct store_oauth_family f, g, got;
	bool	 used;
	int	 rc, n;

	t_group("families");
	family_fill(&f, "tok-1", code, ref1);
	rc = store_oauth_family_create(&f);
	CHECK(rc == PDS_OK && f.id > 0, "create: %s", pds_strerror(rc));
	family_fill(&g, "tok-1", NULL, NULL);
	CHECK(store_oauth_family_create(&g) == PDS_EEXIST, "token id unique");
	family_fill(&g, "tok-9", code, NULL);
	CHECK(store_oauth_family_create(&g) == PDS_EEXIST, "code unique");
	family_fill(&g, "tok-9", NULL, ref1);
	CHECK(store_oauth_family_create(&g) == PDS_EEXIST,
	    "refresh token unique");

	CHECK(store_oauth_family_by_token("tok-1", &got) == PDS_OK &&
	    got.id == f.id && strcmp(got.scope, f.scope) == 0 &&
	    strcmp(got.dpop_jkt, "jkt1") == 0 && got.device_id == NULL &&
	    got.session_expires_at == 5000, "by token id");
	store_oauth_family_clear(&got);
	CHECK(store_oauth_family_by_code(code, &got) == PDS_OK &&
	    got.id == f.id, "by code");
	store_oauth_family_clear(&got);
	CHECK(store_oauth_family_by_refresh(ref1, &got, &used) == PDS_OK &&
	    got.id == f.id && !used, "by current refresh token");
	store_oauth_family_clear(&got);

	rc = store_oauth_family_rotate(f.id, ref1, "tok-2", ref2, 200, 1100,
	    5100);
	CHECK(rc == PDS_OK, "rotate: %s", pds_strerror(rc));
	CHECK(store_oauth_family_rotate(f.id, ref1, "tok-3", "ref-3", 300,
	    1, 1) == PDS_ENOTFOUND, "rotate from a used token refused");
	CHECK(store_oauth_family_by_token("tok-1", &got) == PDS_ENOTFOUND,
	    "old token id gone");
	CHECK(store_oauth_family_by_token("tok-2", &got) == PDS_OK &&
	    strcmp(got.refresh_token, ref2) == 0 && got.updated_at == 200 &&
	    got.created_at == 100 && got.expires_at == 1100,
	    "rotated family");
	store_oauth_family_clear(&got);
	CHECK(store_oauth_family_by_refresh(ref1, &got, &used) == PDS_OK &&
	    got.id == f.id && used, "old refresh token is a used one");
	store_oauth_family_clear(&got);
	CHECK(store_oauth_family_by_refresh(ref2, &got, &used) == PDS_OK &&
	    !used, "new refresh token is current");
	store_oauth_family_clear(&got);

	family_fill(&g, "tok-b", NULL, NULL);
	g.client_id = (char *)"http://localhost";
	CHECK(store_oauth_family_create(&g) == PDS_OK, "second family");
	n = 0;
	CHECK(store_oauth_family_list_did(did, count_cb, &n) == PDS_OK &&
	    n == 2, "list by did: %d", n);
	n = 0;
	CHECK(store_oauth_family_list_client(client, count_cb, &n) == PDS_OK &&
	    n == 1, "list by client: %d", n);

	CHECK(store_oauth_family_delete(f.id) == PDS_OK, "delete");
	CHECK(store_oauth_family_delete(f.id) == PDS_ENOTFOUND,
	    "delete twice");
	CHECK(store_oauth_family_by_refresh(ref1, &got, &used) ==
	    PDS_ENOTFOUND, "used tokens went with the family");
	CHECK(store_oauth_family_by_code(code, &got) == PDS_ENOTFOUND,
	    "code went with the family");
	t_group_end();
}

static void
test_devices(void)
{
	struct store_oauth_device d, got;
	char	 seen[64] = "";
	char	*scope;
	int64_t	 c, u;

	t_group("devices and clients");
	memset(&d, 0, sizeof(d));
	d.id = (char *)"dev-1";
	d.session_id = (char *)"ses-1";
	d.user_agent = (char *)"test/1";
	d.last_seen = 100;
	CHECK(store_oauth_device_put(&d) == PDS_OK, "device put");
	d.session_id = (char *)"ses-2";
	d.ip = (char *)"192.0.2.1";
	d.last_seen = 200;
	CHECK(store_oauth_device_put(&d) == PDS_OK, "device upsert");
	CHECK(store_oauth_device_get("dev-1", &got) == PDS_OK &&
	    strcmp(got.session_id, "ses-2") == 0 &&
	    strcmp(got.ip, "192.0.2.1") == 0 && got.last_seen == 200,
	    "device get");
	store_oauth_device_clear(&got);

	CHECK(store_oauth_account_device_put("dev-1", did, 300) == PDS_OK &&
	    store_oauth_account_device_put("dev-1", did, 400) == PDS_OK,
	    "account device put twice");
	CHECK(store_oauth_account_device_get("dev-1", did, &c, &u) ==
	    PDS_OK && c == 300 && u == 400, "created kept, updated moved");
	CHECK(store_oauth_account_device_get("dev-1", did2, &c, &u) ==
	    PDS_ENOTFOUND, "other account not signed in");
	CHECK(store_oauth_account_device_put("dev-1", did2, 350) == PDS_OK &&
	    store_oauth_account_device_list("dev-1", did_cb, seen) == 1 &&
	    strcmp(seen, did) == 0, "list: most recent first");
	CHECK(store_oauth_account_device_delete("dev-1", did2) == PDS_OK,
	    "account device delete");

	CHECK(store_oauth_client_authorize(did, client, "atproto", 10) ==
	    PDS_OK && store_oauth_client_authorize(did, client,
	    "atproto transition:generic", 20) == PDS_OK, "authorize twice");
	CHECK(store_oauth_client_authorized(did, client, &scope, &c, &u) ==
	    PDS_OK && strcmp(scope, "atproto transition:generic") == 0 &&
	    c == 10 && u == 20, "authorized scope replaced");
	free(scope);
	CHECK(store_oauth_client_authorized(did2, client, &scope, NULL,
	    NULL) == PDS_ENOTFOUND, "never authorized");
	t_group_end();
}

static void
test_replay_purge(void)
{
	struct store_oauth_request r, got;
	struct store_oauth_family f;
	struct store_oauth_device d;
	int	 n, rc;

	t_group("replay and purge");
	CHECK(store_oauth_replay_check_and_add(STORE_OAUTH_NS_DPOP, "j1",
	    500) == PDS_OK, "first jti");
	CHECK(store_oauth_replay_check_and_add(STORE_OAUTH_NS_DPOP, "j1",
	    500) == PDS_EEXIST, "replayed jti");
	CHECK(store_oauth_replay_check_and_add(STORE_OAUTH_NS_ASSERTION,
	    "j1", 500) == PDS_OK, "namespaces are separate");
	CHECK(store_oauth_replay_check_and_add(STORE_OAUTH_NS_CHALLENGE,
	    "c1", 5000) == PDS_OK, "challenge");

	memset(&r, 0, sizeof(r));
	r.id = (char *)"req-old";
	r.client_id = (char *)client;
	r.client_auth = (char *)"{}";
	r.params = (char *)"{}";
	r.expires_at = 500;
	CHECK(store_oauth_request_create(&r) == PDS_OK, "old request");
	r.id = (char *)"req-new";
	r.expires_at = 5000;
	CHECK(store_oauth_request_create(&r) == PDS_OK, "new request");
	family_fill(&f, "tok-old", NULL, "ref-old");
	f.session_expires_at = 500;
	CHECK(store_oauth_family_create(&f) == PDS_OK, "old family");
	memset(&d, 0, sizeof(d));
	d.id = (char *)"dev-old";
	d.session_id = (char *)"ses-old";
	d.last_seen = 1000 - STORE_OAUTH_DEVICE_TTL - 1;
	CHECK(store_oauth_device_put(&d) == PDS_OK, "old device");
	d.id = (char *)"dev-bare";
	d.last_seen = 1000 - STORE_OAUTH_DEVICE_BARE_TTL - 1;
	CHECK(store_oauth_device_put(&d) == PDS_OK, "a day-old bare device");
	d.id = (char *)"dev-kept";
	CHECK(store_oauth_device_put(&d) == PDS_OK &&
	    store_oauth_account_device_put("dev-kept", did, 1) == PDS_OK,
	    "a day-old device someone signed in on");

	rc = store_oauth_purge(1000, &n);
	/* req-old, tok-old, two j1, dev-old, dev-bare */
	CHECK(rc == PDS_OK && n == 6, "purge: %s, %d rows", pds_strerror(rc),
	    n);
	CHECK(store_oauth_device_get("dev-bare", &d) == PDS_ENOTFOUND,
	    "bare device purged");
	CHECK(store_oauth_device_get("dev-kept", &d) == PDS_OK,
	    "device with an account kept");
	store_oauth_device_clear(&d);
	CHECK(store_oauth_request_get("req-old", &got) == PDS_ENOTFOUND,
	    "expired request purged");
	CHECK(store_oauth_request_get("req-new", &got) == PDS_OK,
	    "live request kept");
	store_oauth_request_clear(&got);
	CHECK(store_oauth_replay_check_and_add(STORE_OAUTH_NS_DPOP, "j1",
	    1500) == PDS_OK, "expired jti purged");
	CHECK(store_oauth_replay_check_and_add(STORE_OAUTH_NS_CHALLENGE,
	    "c1", 5000) == PDS_EEXIST, "live challenge kept");
	CHECK(store_oauth_device_get("dev-1", &d) == PDS_OK,
	    "recent device kept");
	store_oauth_device_clear(&d);
	t_group_end();
}

static void
test_account_revoke(void)
{
	struct store_oauth_family f;
	char	*scope;
	int	 n = 0, k = 0;

	t_group("an account's grants at once");
	family_fill(&f, "tok-d2", NULL, "ref-d2");
	f.did = (char *)did2;
	CHECK(store_oauth_family_create(&f) == PDS_OK &&
	    store_oauth_account_device_put("dev-1", did2, 500) == PDS_OK &&
	    store_oauth_client_authorize(did2, client, "atproto", 500) ==
	    PDS_OK, "a grant, a sign-in and a consent of another account");
	CHECK(store_oauth_family_list_did(did, count_cb, &k) == PDS_OK &&
	    k > 0, "the account has grants: %d", k);
	CHECK(store_oauth_family_delete_did(did, &n) == PDS_OK && n == k,
	    "delete them: %d of %d", n, k);
	n = 0;
	CHECK(store_oauth_family_list_did(did, count_cb, &n) == PDS_OK &&
	    n == 0, "none left");
	CHECK(store_oauth_account_device_delete_did(did) == PDS_OK &&
	    store_oauth_account_device_get("dev-1", did, NULL, NULL) ==
	    PDS_ENOTFOUND, "sign-ins forgotten");
	CHECK(store_oauth_client_forget_did(did) == PDS_OK &&
	    store_oauth_client_authorized(did, client, &scope, NULL, NULL) ==
	    PDS_ENOTFOUND, "consents forgotten");
	n = 0;
	CHECK(store_oauth_family_list_did(did2, count_cb, &n) == PDS_OK &&
	    n == 1 && store_oauth_account_device_get("dev-1", did2, NULL,
	    NULL) == PDS_OK && store_oauth_client_authorized(did2, client,
	    &scope, NULL, NULL) == PDS_OK, "the other account's kept");
	free(scope);
	t_group_end();
}

static void
test_account_delete(void)
{
	struct store_oauth_family f;
	char	*scope;
	int	 n = 0;

	t_group("account deletion");
	CHECK(store_account_delete(did) == PDS_OK, "delete account");
	CHECK(store_oauth_family_list_did(did, count_cb, &n) == PDS_OK &&
	    n == 0, "families gone");
	CHECK(store_oauth_client_authorized(did, client, &scope, NULL,
	    NULL) == PDS_ENOTFOUND, "authorized clients gone");
	CHECK(store_oauth_account_device_get("dev-1", did, NULL, NULL) ==
	    PDS_ENOTFOUND, "device links gone");
	CHECK(store_oauth_family_by_token("tok-b", &f) == PDS_ENOTFOUND,
	    "by token id too");
	CHECK(store_begin() == PDS_OK && store_commit() == PDS_OK,
	    "no transaction left open");
	t_group_end();
}

int
main(void)
{
	char	 dir[] = "/tmp/test_store_oauth.XXXXXX";
	char	 path[128], cmd[160];
	uint8_t	 key[32];
	int	 rc;

	log_init("test_pdsd_store_oauth", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	memset(key, 0x11, sizeof(key));
	rc = store_account_insert(did, NULL, NULL, NULL, key,
	    "2024-01-01T00:00:00.000Z");
	rc = rc == PDS_OK ? store_account_insert(did2, NULL, NULL, NULL, key,
	    "2024-01-01T00:00:00.000Z") : rc;
	CHECK(rc == PDS_OK, "accounts: %s", pds_strerror(rc));

	test_requests();
	test_families();
	test_devices();
	test_replay_purge();
	test_account_revoke();
	test_account_delete();

	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	return t_done("test_pdsd_store_oauth");
}
