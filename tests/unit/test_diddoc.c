/* Unit tests: DID documents and resolution texts (atproto-notes §8.3-§9). */
#include <string.h>

#include <jansson.h>

#include "diddoc.h"
#include "err.h"
#include "keys.h"
#include "plc.h"
#include "t.h"

#define DOC_FIXTURE	"tests/fixtures/plc/did_doc_v13.json"
#define SIG_FIXTURE	"tests/fixtures/crypto/signature-fixtures.json"
#define K256_FIXTURE	"tests/fixtures/crypto/w3c_didkey_K256.json"

static const char V13_DID[] = "did:plc:7vxiehmfhw7obmh6vhv6vgvp";
static const char V13_KEY[] =
    "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme";

static json_t *
load(const char *path)
{
	json_error_t	err;
	json_t		*j = json_load_file(path, 0, &err);

	if (j == NULL)
		fprintf(stderr, "%s: %s\n", path, err.text);
	return j;
}

static void
test_plc_doc(void)
{
	json_t		*doc, *j = NULL, *made = NULL;
	struct diddoc	 d;
	struct pds_key	*k = NULL;
	const char	*why = NULL;
	char		 s[256];

	t_group("PLC document");
	doc = load(DOC_FIXTURE);
	CHECK(doc != NULL, "fixture");
	if (doc == NULL) {
		t_group_end();
		return;
	}
	CHECK(diddoc_parse(doc, V13_DID, &d, &why) == PDS_OK, "%s", why);
	CHECK(d.did && strcmp(d.did, V13_DID) == 0, "did");
	CHECK(d.signing_key && strcmp(d.signing_key, V13_KEY) == 0, "key %s",
	    d.signing_key ? d.signing_key : "(null)");
	CHECK(d.handle && strcmp(d.handle, "alice.example.com") == 0, "handle");
	CHECK(d.pds && strcmp(d.pds, "https://pds.example.com") == 0, "pds");
	CHECK(diddoc_require_atproto(&d, &why) == PDS_OK, "complete");
	CHECK(diddoc_atproto_data_json(&d, &j) == PDS_OK &&
	    json_object_size(j) == 4 && strcmp(json_string_value(
	    json_object_get(j, "signingKey")), V13_KEY) == 0 &&
	    strcmp(json_string_value(json_object_get(j, "pds")),
	    "https://pds.example.com") == 0, "atproto data");
	json_decref(j);
	diddoc_clear(&d);

	CHECK(diddoc_get_key(doc, V13_DID, "#atproto", &k, &why) == PDS_OK &&
	    key_type(k) == KEY_K256, "key object");
	key_free(k);
	CHECK(diddoc_get_didkey(doc, V13_DID, "did:plc:7vxiehmfhw7obmh6vhv6vgvp#atproto",
	    s, sizeof(s), &why) == PDS_OK && strcmp(s, V13_KEY) == 0,
	    "key by full id");
	CHECK(diddoc_get_didkey(doc, V13_DID, "atproto_label", s, sizeof(s),
	    &why) == PDS_ENOTFOUND, "absent key");
	CHECK(diddoc_parse(doc, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", &d, &why) ==
	    PDS_EINVAL && d.did == NULL, "wrong id refused");

	/* The document built from the V13 op is the fixture. */
	{
		const char	*rk[1] = { V13_KEY };
		struct plc_op	*op = NULL;

		plc_op_build(&op, rk, 1, V13_KEY, "alice.example.com",
		    "https://pds.example.com", NULL);
		CHECK(op != NULL && diddoc_from_plc_op(op, V13_DID, &made) ==
		    PDS_OK && json_equal(made, doc), "from plc op");
		json_decref(made);
		plc_op_free(op);
	}
	json_decref(doc);
	t_group_end();
}

/* A document with one verification method and the given services. */
static json_t *
doc_with(const char *did, const char *vm_id, const char *type,
    const char *mb, json_t *services)
{
	json_t	*d;

	d = json_pack("{s:[s], s:s, s:[s], s:[{s:s, s:s, s:s, s:s}]}",
	    "@context", "https://www.w3.org/ns/did/v1", "id", did,
	    "alsoKnownAs", "at://Bob.Example.COM",
	    "verificationMethod", "id", vm_id, "type", type,
	    "controller", did, "publicKeyMultibase", mb);
	if (services != NULL)
		json_object_set_new(d, "service", services);
	return d;
}

static void
test_legacy_keys(void)
{
	json_t		*fx, *e, *doc;
	struct diddoc	 d;
	const char	*why = NULL;
	size_t		 i;
	int		 n = 0;

	t_group("legacy key types");
	fx = load(SIG_FIXTURE);
	json_array_foreach(fx, i, e) {
		const char *suite = json_string_value(json_object_get(e,
		    "didDocSuite"));
		const char *mb = json_string_value(json_object_get(e,
		    "publicKeyMultibase"));
		const char *dk = json_string_value(json_object_get(e,
		    "publicKeyDid"));

		if (suite == NULL || mb == NULL || dk == NULL ||
		    !json_is_true(json_object_get(e, "validSignature")))
			continue;
		/* The relative id form the PLC spec shows. */
		doc = doc_with("did:web:bob.example.com", "#atproto", suite, mb,
		    NULL);
		CHECK(diddoc_parse(doc, "did:web:bob.example.com", &d, &why) ==
		    PDS_OK && d.signing_key != NULL &&
		    strcmp(d.signing_key, dk) == 0, "%s: %s", suite,
		    d.signing_key ? d.signing_key : "(null)");
		CHECK(d.handle && strcmp(d.handle, "bob.example.com") == 0,
		    "handle lower-cased");
		CHECK(d.pds == NULL && diddoc_require_atproto(&d, &why) ==
		    PDS_EINVAL, "no pds");
		diddoc_clear(&d);
		json_decref(doc);
		n++;
	}
	CHECK(n == 2, "two valid fixtures used (%d)", n);
	json_decref(fx);

	/* Unknown type: no key. */
	doc = doc_with("did:web:bob.example.com", "#atproto", "JsonWebKey2020",
	    "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", NULL);
	CHECK(diddoc_parse(doc, "did:web:bob.example.com", &d, &why) == PDS_OK &&
	    d.signing_key == NULL, "unknown key type ignored");
	diddoc_clear(&d);
	json_decref(doc);
	/* Another DID's fragment does not count. */
	doc = doc_with("did:web:bob.example.com", "did:web:eve.example.com#atproto",
	    "Multikey", "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
	    NULL);
	CHECK(diddoc_parse(doc, "did:web:bob.example.com", &d, &why) == PDS_OK &&
	    d.signing_key == NULL, "foreign key id ignored");
	diddoc_clear(&d);
	json_decref(doc);
	/* A broken multibase: no key, document still readable. */
	doc = doc_with("did:web:bob.example.com", "#atproto", "Multikey",
	    "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBmX", NULL);
	CHECK(diddoc_parse(doc, "did:web:bob.example.com", &d, &why) == PDS_OK &&
	    d.signing_key == NULL, "bad multibase ignored");
	diddoc_clear(&d);
	json_decref(doc);
	t_group_end();
}

static void
test_services(void)
{
	static const char did[] = "did:web:api.example.com";
	json_t		*doc, *svcs;
	struct diddoc	 d;
	const char	*why = NULL;
	char		 ep[DIDDOC_ENDPOINT_MAX + 1];

	t_group("services");
	svcs = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s},"
	    "{s:s, s:s, s:i}]",
	    "id", "#atproto_pds", "type", "AtprotoPersonalDataServer",
	    "serviceEndpoint", "https://pds.example.com/xrpc",
	    "id", "did:web:api.example.com#bsky_appview", "type", "BskyAppView",
	    "serviceEndpoint", "HTTPS://api.example.com:8443/",
	    "id", "#atproto_labeler", "type", "AtprotoLabeler",
	    "serviceEndpoint", "https://user@labeler.example.com",
	    "id", "#bsky_chat", "type", "BskyChatService",
	    "serviceEndpoint", 42);
	doc = doc_with(did, "#atproto", "Multikey",
	    "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", svcs);
	CHECK(diddoc_parse(doc, did, &d, &why) == PDS_OK && d.pds == NULL,
	    "endpoint with a path refused");
	diddoc_clear(&d);
	CHECK(diddoc_get_service(doc, did, "atproto_pds", NULL, ep, sizeof(ep),
	    &why) == PDS_EINVAL, "path refused by lookup");
	CHECK(diddoc_get_service(doc, did, "#bsky_appview", "BskyAppView", ep,
	    sizeof(ep), &why) == PDS_OK &&
	    strcmp(ep, "https://api.example.com:8443") == 0, "by #frag: %s", ep);
	CHECK(diddoc_get_service(doc, did, "bsky_appview", NULL, ep, sizeof(ep),
	    &why) == PDS_OK, "by bare fragment");
	CHECK(diddoc_get_service(doc, did, "did:web:api.example.com#bsky_appview",
	    NULL, ep, sizeof(ep), &why) == PDS_OK, "by full id");
	CHECK(diddoc_get_service(doc, did, "bsky_appview", "AtprotoLabeler", ep,
	    sizeof(ep), &why) == PDS_ENOTFOUND, "wrong type");
	CHECK(diddoc_get_service(doc, did, "bsky_notif", NULL, ep, sizeof(ep),
	    &why) == PDS_ENOTFOUND, "absent");
	CHECK(diddoc_get_service(doc, did, "atproto_labeler", NULL, ep,
	    sizeof(ep), &why) == PDS_EINVAL, "user info refused");
	CHECK(diddoc_get_service(doc, did, "bsky_chat", NULL, ep, sizeof(ep),
	    &why) == PDS_EINVAL, "non-string endpoint");
	CHECK(diddoc_get_service(doc, did, "bsky_appview", NULL, ep, 10,
	    &why) == PDS_ETOOBIG, "small buffer");
	json_decref(doc);
	t_group_end();
}

static void
test_endpoints(void)
{
	static const char *const good[] = {
		"https://pds.example.com", "http://localhost:2583",
		"https://pds.example.com/", "https://[::1]:8080",
		"https://192.0.2.1", "https://a-b.example.com:65535",
	};
	static const char *const bad[] = {
		"ftp://pds.example.com", "https://", "https:///x",
		"https://pds.example.com/xrpc", "https://pds.example.com?x=1",
		"https://pds.example.com#f", "https://u:p@pds.example.com",
		"https://pds.example.com:0", "https://pds.example.com:65536",
		"https://pds.example.com:", "https://pds.exa mple.com",
		"https://pds.example.com//", "https://[::1", "https://[]",
		"https://pds..example.com", "pds.example.com",
		"https://pds.example.com:80:80", "https://.example.com",
	};
	size_t	i;
	char	out[64];

	t_group("endpoint syntax");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(diddoc_check_endpoint(good[i], NULL, 0, NULL) == PDS_OK,
		    "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(diddoc_check_endpoint(bad[i], NULL, 0, NULL) != PDS_OK,
		    "%s", bad[i]);
	CHECK(diddoc_check_endpoint("https://pds.example.com/", out,
	    sizeof(out), NULL) == PDS_OK && strcmp(out,
	    "https://pds.example.com") == 0, "trailing slash dropped");
	t_group_end();
}

static void
test_doc_shape(void)
{
	json_t		*doc;
	struct diddoc	 d;
	const char	*why = NULL;
	char		 many[DIDDOC_MAX_ITEMS + 2][32];
	size_t		 i;

	t_group("document shape");
	doc = json_pack("{s:s, s:s}", "id", V13_DID, "alsoKnownAs", "x");
	CHECK(diddoc_parse(doc, V13_DID, &d, &why) == PDS_EINVAL,
	    "alsoKnownAs not an array");
	json_decref(doc);
	doc = json_pack("{s:i}", "id", 3);
	CHECK(diddoc_parse(doc, V13_DID, &d, &why) == PDS_EINVAL, "id not a string");
	json_decref(doc);
	doc = json_array();
	CHECK(diddoc_parse(doc, V13_DID, &d, &why) == PDS_EINVAL,
	    "not an object");
	json_decref(doc);
	doc = json_pack("{s:s}", "id", V13_DID);
	CHECK(diddoc_parse(doc, V13_DID, &d, &why) == PDS_OK && d.handle ==
	    NULL && d.signing_key == NULL && d.pds == NULL &&
	    diddoc_require_atproto(&d, &why) == PDS_EINVAL, "bare document");
	diddoc_clear(&d);
	json_object_set_new(doc, "alsoKnownAs", json_array());
	for (i = 0; i < DIDDOC_MAX_ITEMS + 1; i++) {
		snprintf(many[i], sizeof(many[i]), "at://h%zu.example.com", i);
		json_array_append_new(json_object_get(doc, "alsoKnownAs"),
		    json_string(many[i]));
	}
	CHECK(diddoc_parse(doc, V13_DID, &d, &why) == PDS_ETOOBIG,
	    "too many entries");
	/* First at:// entry wins, even if invalid: then no handle. */
	json_object_set_new(doc, "alsoKnownAs", json_pack("[s, s, s]",
	    "https://example.com", "at://not a handle", "at://ok.example.com"));
	CHECK(diddoc_parse(doc, V13_DID, &d, &why) == PDS_OK &&
	    d.handle == NULL, "invalid first handle");
	diddoc_clear(&d);
	json_decref(doc);
	t_group_end();
}

static void
test_texts(void)
{
	char		 out[2100];
	const char	*recs[3];
	size_t		 lens[3], i;

	t_group("resolution texts");
	CHECK(diddoc_web_url("did:web:example.com", out, sizeof(out)) == PDS_OK &&
	    strcmp(out, "https://example.com/.well-known/did.json") == 0, "%s", out);
	CHECK(diddoc_web_url("did:web:localhost%3A2583", out, sizeof(out)) ==
	    PDS_OK && strcmp(out, "http://localhost:2583/.well-known/did.json") == 0,
	    "%s", out);
	CHECK(diddoc_web_url("did:web:localhost", out, sizeof(out)) == PDS_OK &&
	    strcmp(out, "http://localhost/.well-known/did.json") == 0, "%s", out);
	CHECK(diddoc_web_url("did:web:example.com%3A443", out, sizeof(out)) ==
	    PDS_EUNSUPP, "port only for localhost");
	CHECK(diddoc_web_url("did:web:example.com:u:alice", out, sizeof(out)) ==
	    PDS_EUNSUPP, "path-based did:web");
	CHECK(diddoc_web_url(V13_DID, out, sizeof(out)) == PDS_EUNSUPP, "plc");
	CHECK(diddoc_web_url("did:web:example.com", out, 10) == PDS_ETOOBIG,
	    "small buffer");

#define WK(body, expect, want) do {					\
		int rc_ = diddoc_parse_atproto_did(body, strlen(body), out,	\
		    sizeof(out));					\
		CHECK(rc_ == (expect) && (rc_ != PDS_OK ||		\
		    strcmp(out, want) == 0), "well-known %s", body);	\
	} while (0)
	WK("did:plc:7vxiehmfhw7obmh6vhv6vgvp", PDS_OK, V13_DID);
	WK("  did:plc:7vxiehmfhw7obmh6vhv6vgvp \r\nignored", PDS_OK, V13_DID);
	WK("did:web:example.com\n", PDS_OK, "did:web:example.com");
	WK("<html>did:plc:7vxiehmfhw7obmh6vhv6vgvp</html>", PDS_EINVAL, "");
	WK("\ndid:plc:7vxiehmfhw7obmh6vhv6vgvp", PDS_EINVAL, "");
	WK("did:", PDS_EINVAL, "");
	WK("did:plc:abc def", PDS_EINVAL, "");
#undef WK

	recs[0] = "v=spf1 -all";
	recs[1] = "did=did:plc:7vxiehmfhw7obmh6vhv6vgvp";
	recs[2] = "did=did:web:example.com";
	for (i = 0; i < 3; i++)
		lens[i] = strlen(recs[i]);
	CHECK(diddoc_pick_txt_did(recs, lens, 2, out, sizeof(out)) == PDS_OK &&
	    strcmp(out, V13_DID) == 0, "one did= record");
	CHECK(diddoc_pick_txt_did(recs, lens, 3, out, sizeof(out)) ==
	    PDS_EINVAL, "two did= records");
	CHECK(diddoc_pick_txt_did(recs, lens, 1, out, sizeof(out)) ==
	    PDS_ENOTFOUND, "none");
	recs[0] = "did=not a did";
	lens[0] = strlen(recs[0]);
	CHECK(diddoc_pick_txt_did(recs, lens, 1, out, sizeof(out)) ==
	    PDS_EINVAL, "invalid DID");
	recs[0] = "did=did:plc:7vxiehmfhw7obmh6vhv6vgvp\0x";
	lens[0] = strlen(recs[0]) + 2;
	CHECK(diddoc_pick_txt_did(recs, lens, 1, out, sizeof(out)) ==
	    PDS_EINVAL, "NUL inside");

	{
		char d[64], f[64];
		CHECK(diddoc_split_service_ref("did:web:api.bsky.app#bsky_appview",
		    d, sizeof(d), f, sizeof(f)) == PDS_OK &&
		    strcmp(d, "did:web:api.bsky.app") == 0 &&
		    strcmp(f, "bsky_appview") == 0, "split");
		CHECK(diddoc_split_service_ref("did:web:api.bsky.app", d,
		    sizeof(d), f, sizeof(f)) == PDS_EINVAL, "no fragment");
		CHECK(diddoc_split_service_ref("did:web:api.bsky.app#", d,
		    sizeof(d), f, sizeof(f)) == PDS_EINVAL, "empty fragment");
		CHECK(diddoc_split_service_ref("did:web:api.bsky.app#a#b", d,
		    sizeof(d), f, sizeof(f)) == PDS_EINVAL, "two #");
		CHECK(diddoc_split_service_ref("notadid#x", d, sizeof(d), f,
		    sizeof(f)) == PDS_EINVAL, "bad did");
	}
	t_group_end();
}

static void
test_plc_doc_forms(void)
{
	json_t		*doc = NULL, *k;
	struct plc_op	*op;
	struct diddoc	 d;
	const char	*why = NULL;
	json_error_t	 err;
	const char	*p256 = NULL;

	t_group("documents from ops");
	k = json_load_file("tests/fixtures/crypto/w3c_didkey_P256.json", 0, &err);
	p256 = json_string_value(json_object_get(json_array_get(k, 0),
	    "publicDidKey"));
	op = plc_op_new(PLC_OP_CREATE);
	op->signing_key = strdup(p256);
	op->recovery_key = strdup(V13_KEY);
	op->handle = strdup("carol.example.com");
	op->service = strdup("pds.example.com");
	CHECK(diddoc_from_plc_op(op, V13_DID, &doc) == PDS_OK, "create op doc");
	CHECK(diddoc_parse(doc, V13_DID, &d, &why) == PDS_OK &&
	    d.signing_key && strcmp(d.signing_key, p256) == 0 &&
	    d.pds && strcmp(d.pds, "https://pds.example.com") == 0 &&
	    d.handle && strcmp(d.handle, "carol.example.com") == 0,
	    "normalised create op");
	CHECK(json_array_size(json_object_get(doc, "@context")) == 3 &&
	    strcmp(json_string_value(json_array_get(json_object_get(doc,
	    "@context"), 2)), "https://w3id.org/security/suites/ecdsa-2019/v1")
	    == 0, "p256 context");
	diddoc_clear(&d);
	json_decref(doc);
	json_decref(k);
	plc_op_free(op);
	op = plc_op_new(PLC_OP_TOMBSTONE);
	CHECK(diddoc_from_plc_op(op, V13_DID, &doc) == PDS_EINVAL,
	    "no document for a tombstone");
	plc_op_free(op);
	t_group_end();
}

int
main(void)
{
	test_plc_doc();
	test_legacy_keys();
	test_services();
	test_endpoints();
	test_doc_shape();
	test_texts();
	test_plc_doc_forms();
	return t_done("test_diddoc");
}
