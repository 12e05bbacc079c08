/*
 * identity_plc: pdsd's PLC client and DID resolver against a real PLC
 * directory (scripts/plc-server.mjs).  Run by test_identity_plc.sh:
 *
 *   identity_plc http://127.0.0.1:<port>
 *
 * Creates a DID with a genesis op, reads it back (document, /data, last
 * op), resolves it through the cache, updates the handle with an op
 * signed by the rotation key, refreshes the cache, and checks that the
 * directory refuses an op signed by a key that is not a rotation key.
 */
#include <string.h>

#include <jansson.h>

#include "diddoc.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "plc.h"
#include "../../pdsd/outbound.h"
#include "../../pdsd/plc_client.h"
#include "../../pdsd/resolver.h"
#include "../unit/t.h"

static void
run(void)
{
	struct pds_key	*rot = NULL, *sig = NULL, *other = NULL, *got = NULL;
	char		 rk[KEY_DIDKEY_MAX], sk[KEY_DIDKEY_MAX], ok[KEY_DIDKEY_MAX];
	char		 did[PLC_DID_BUF], cid[CID_STR_MAX], ep[512];
	char		 err[PLC_CLIENT_ERR_MAX];
	const char	*rks[1];
	struct plc_op	*op = NULL, *last = NULL, *up = NULL;
	struct diddoc	 d;
	json_t		*doc = NULL, *data = NULL;
	int		 rc;

	t_group("PLC directory");
	CHECK(key_generate(&rot, KEY_K256) == PDS_OK &&
	    key_generate(&sig, KEY_K256) == PDS_OK &&
	    key_generate(&other, KEY_P256) == PDS_OK, "keys");
	key_to_didkey(rot, rk, sizeof(rk));
	key_to_didkey(sig, sk, sizeof(sk));
	key_to_didkey(other, ok, sizeof(ok));
	rks[0] = rk;
	CHECK(plc_op_build(&op, rks, 1, sk, "alice.test",
	    "http://localhost:2583", NULL) == PDS_OK &&
	    plc_op_sign(op, rot) == PDS_OK && plc_op_did(op, did) == PDS_OK,
	    "genesis op");
	err[0] = '\0';
	rc = plc_client_submit(did, op, err, sizeof(err));
	CHECK(rc == PDS_OK, "submit genesis: %d %s", rc, err);

	rc = plc_client_get_doc(did, &doc, err, sizeof(err));
	CHECK(rc == PDS_OK, "get doc: %s", err);
	CHECK(doc != NULL && diddoc_parse(doc, did, &d, NULL) == PDS_OK &&
	    d.signing_key && strcmp(d.signing_key, sk) == 0 &&
	    d.handle && strcmp(d.handle, "alice.test") == 0 &&
	    d.pds && strcmp(d.pds, "http://localhost:2583") == 0,
	    "document fields");
	diddoc_clear(&d);
	json_decref(doc);
	doc = NULL;

	rc = plc_client_get_data(did, &data, err, sizeof(err));
	CHECK(rc == PDS_OK && strcmp(json_string_value(json_array_get(
	    json_object_get(data, "rotationKeys"), 0)), rk) == 0, "data: %s",
	    err);
	json_decref(data);

	rc = plc_client_get_last_op(did, &last, err, sizeof(err));
	CHECK(rc == PDS_OK && plc_op_verify(last, rks, 1, NULL, NULL) ==
	    PDS_OK, "last op verifies: %s", err);
	plc_op_cid_str(op, cid, sizeof(cid));
	{
		char lc[CID_STR_MAX] = "";
		if (last != NULL)
			plc_op_cid_str(last, lc, sizeof(lc));
		CHECK(strcmp(lc, cid) == 0, "same op CID");
	}

	/* The resolver, through the cache. */
	CHECK(resolver_did_key(did, &got) == PDS_OK && got != NULL &&
	    key_equal(got, sig), "resolver key");
	key_free(got);
	got = NULL;
	CHECK(resolver_pds_endpoint(did, ep, sizeof(ep)) == PDS_OK &&
	    strcmp(ep, "http://localhost:2583") == 0, "resolver pds %s", ep);
	{
		struct resolver_stats st;
		resolver_get_stats(&st);
		CHECK(st.hits >= 1 && st.entries == 1, "cache hit (%lu hits)",
		    st.hits);
	}

	/* Update the handle. */
	CHECK(last != NULL && plc_op_next(last, &up) == PDS_OK, "next");
	if (up != NULL) {
		plc_op_clear_aka(up);
		plc_op_add_aka(up, "at://bob.test");
		/* Signed by a non-rotation key: the directory refuses it. */
		plc_op_sign(up, other);
		rc = plc_client_submit(did, up, err, sizeof(err));
		CHECK(rc == PDS_EINVAL && strstr(err, "HTTP 400") != NULL,
		    "bad signature refused: %d %s", rc, err);
		plc_op_sign(up, rot);
		rc = plc_client_submit(did, up, err, sizeof(err));
		CHECK(rc == PDS_OK, "update: %s", err);
	}
	CHECK(resolver_did_data(did, &d) == PDS_OK && d.handle &&
	    strcmp(d.handle, "alice.test") == 0, "cached old handle");
	diddoc_clear(&d);
	CHECK(resolver_refresh(did) == PDS_OK, "refresh");
	CHECK(resolver_did_data(did, &d) == PDS_OK && d.handle &&
	    strcmp(d.handle, "bob.test") == 0, "new handle after refresh");
	diddoc_clear(&d);

	/* Unknown DIDs. */
	rc = plc_client_get_doc("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", &doc, err,
	    sizeof(err));
	CHECK(rc == PDS_ENOTFOUND, "unknown DID: %d %s", rc, err);
	CHECK(resolver_did_doc("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", &doc) ==
	    PDS_ENOTFOUND, "resolver unknown DID");
	CHECK(resolver_did_doc("did:example:123", &doc) == PDS_EUNSUPP,
	    "unsupported method");
	CHECK(plc_client_get_doc("did:plc:../../etc", &doc, err, sizeof(err))
	    == PDS_EINVAL, "path injection refused");
	/* did:web on loopback is refused by the address policy. */
	CHECK(resolver_did_doc("did:web:localhost%3A1", &doc) == PDS_EIO,
	    "did:web on loopback refused");

	plc_op_free(op);
	plc_op_free(last);
	plc_op_free(up);
	key_free(rot);
	key_free(sig);
	key_free(other);
	t_group_end();
}

int
main(int argc, char **argv)
{
	struct outbound_config	oc = { .user_agent = "pdsd-test" };
	struct resolver_config	rc = { .timeout_ms = 5000 };

	log_init("identity_plc", 0, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: identity_plc PLC_URL\n");
		return 2;
	}
	if (outbound_init(&oc) != PDS_OK || plc_client_init(argv[1], 5000) !=
	    PDS_OK || resolver_init(&rc) != PDS_OK) {
		fprintf(stderr, "identity_plc: set-up failed\n");
		return 1;
	}
	run();
	resolver_shutdown();
	outbound_shutdown();
	return t_done("identity_plc");
}
