/* Unit tests: did:plc operations (atproto-notes §8.1, §14 V13). */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "err.h"
#include "keys.h"
#include "multibase.h"
#include "plc.h"
#include "t.h"

#define K256_FIXTURE	"tests/fixtures/crypto/w3c_didkey_K256.json"
#define P256_FIXTURE	"tests/fixtures/crypto/w3c_didkey_P256.json"

/* The first K256 fixture key is the one §14 uses. */
static struct pds_key	*k1, *k2, *kp;
static char		 did1[KEY_DIDKEY_MAX], did2[KEY_DIDKEY_MAX];
static char		 didp[KEY_DIDKEY_MAX];

static int
load_keys(void)
{
	json_t		*j, *e;
	json_error_t	 err;
	const char	*hex, *b58, *d;
	uint8_t		 priv[64];

	if ((j = json_load_file(K256_FIXTURE, 0, &err)) == NULL)
		return -1;
	e = json_array_get(j, 0);
	hex = json_string_value(json_object_get(e, "privateKeyBytesHex"));
	d = json_string_value(json_object_get(e, "publicDidKey"));
	if (hex == NULL || d == NULL || key_from_private_hex(&k1, KEY_K256,
	    hex, strlen(hex)) != PDS_OK)
		return -1;
	snprintf(did1, sizeof(did1), "%s", d);
	e = json_array_get(j, 1);
	hex = json_string_value(json_object_get(e, "privateKeyBytesHex"));
	d = json_string_value(json_object_get(e, "publicDidKey"));
	if (hex == NULL || d == NULL || key_from_private_hex(&k2, KEY_K256,
	    hex, strlen(hex)) != PDS_OK)
		return -1;
	snprintf(did2, sizeof(did2), "%s", d);
	json_decref(j);

	if ((j = json_load_file(P256_FIXTURE, 0, &err)) == NULL)
		return -1;
	e = json_array_get(j, 0);
	b58 = json_string_value(json_object_get(e, "privateKeyBytesBase58"));
	d = json_string_value(json_object_get(e, "publicDidKey"));
	if (b58 == NULL || d == NULL ||
	    b58_decode(priv, sizeof(priv), b58, strlen(b58)) != 32 ||
	    key_from_private(&kp, KEY_P256, priv) != PDS_OK)
		return -1;
	snprintf(didp, sizeof(didp), "%s", d);
	json_decref(j);
	return 0;
}

static void
hex(char *out, const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* Is the buffer canonical DAG-CBOR (the strict decoder accepts it)? */
static bool
canonical(const struct buf *b)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*v;
	const char	*why = NULL;
	int		 rc;

	rc = dm_decode(a, b->p, b->len, &v, &why);
	if (rc != PDS_OK)
		fprintf(stderr, "  dm_decode: %s\n", why ? why : "?");
	dm_arena_free(a);
	return rc == PDS_OK;
}

static struct plc_op *
v13_op(void)
{
	const char	*rk[1] = { did1 };
	struct plc_op	*op = NULL;

	if (plc_op_build(&op, rk, 1, did1, "alice.example.com",
	    "https://pds.example.com", NULL) != PDS_OK)
		return NULL;
	return op;
}

static void
test_v13(void)
{
	struct plc_op	*op;
	struct buf	 b;
	struct cid	 c;
	uint8_t		 h[32];
	char		 s[128], d[PLC_DID_BUF];
	size_t		 which = 99;

	t_group("V13 genesis op");
	CHECK(strcmp(did1, "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme") == 0,
	    "fixture key %s", did1);
	op = v13_op();
	CHECK(op != NULL, "build");
	if (op == NULL) {
		t_group_end();
		return;
	}
	buf_init(&b, 1 << 16);
	CHECK(plc_op_encode(op, false, &b) == PDS_OK && b.len == 311,
	    "unsigned length %zu", b.len);
	CHECK(canonical(&b), "unsigned op is canonical");
	CHECK(plc_op_encode(op, true, &b) == PDS_EINVAL, "unsigned has no sig");
	CHECK(plc_op_did(op, d) == PDS_EINVAL, "no DID before signing");

	CHECK(plc_op_sign(op, k1) == PDS_OK, "sign");
	CHECK(op->sig != NULL && strcmp(op->sig,
	    "D5kgfRL-lMyqS0PhglDNXmXwhjfP46UZEWEmU5tdpv9at6tUFBjaH5HyzQOFJMdTBHw6kYhUl6YiYAclOYglLw") == 0,
	    "sig %s", op->sig ? op->sig : "(null)");
	buf_reset(&b);
	CHECK(plc_op_encode(op, true, &b) == PDS_OK && b.len == 403,
	    "signed length %zu", b.len);
	CHECK(canonical(&b), "signed op is canonical");
	/* Canonical key order: the map starts with "sig". */
	CHECK(b.len > 5 && b.p[0] == 0xa7 && memcmp(b.p + 1, "\x63sig", 4) == 0,
	    "starts with sig");
	sha256(h, b.p, b.len);
	hex(s, h, 32);
	CHECK(strcmp(s, "fd6e821d853dbee0b0fea9ebea9aafd4f8a01d6504094053d7e48e5890163e84") == 0,
	    "sha256 %s", s);
	CHECK(b32_encode(s, sizeof(s), h, 32) == 52 &&
	    strcmp(s, "7vxiehmfhw7obmh6vhv6vgvp2t4kahlfaqeuau6x4shfreawh2ca") == 0,
	    "b32 %s", s);
	CHECK(plc_op_did(op, d) == PDS_OK &&
	    strcmp(d, "did:plc:7vxiehmfhw7obmh6vhv6vgvp") == 0, "did %s", d);
	CHECK(plc_op_cid_str(op, s, sizeof(s)) == PDS_OK && strcmp(s,
	    "bafyreih5n2bb3bj5x3qlb7vj5pvjvl6u7cqb2ziebfafhv7erzmjafr6qq") == 0,
	    "cid %s", s);
	CHECK(plc_op_cid(op, &c) == PDS_OK && cid_matches(&c, b.p, b.len),
	    "cid over signed bytes");

	{
		const char *keys[3] = { did2, "did:key:nonsense", did1 };
		const char *why = NULL;
		CHECK(plc_op_verify(op, keys, 3, &which, &why) == PDS_OK &&
		    which == 2, "verify with the third key: %s", why);
		CHECK(plc_op_verify(op, keys, 2, NULL, &why) == PDS_ECRYPTO,
		    "wrong keys refused");
		CHECK(plc_op_check_submit(op, &why) == PDS_OK, "%s", why);
	}
	CHECK(plc_op_vmethod(op, "atproto") != NULL &&
	    strcmp(plc_op_vmethod(op, "atproto"), did1) == 0, "vmethod");
	CHECK(plc_op_handle(op) != NULL &&
	    strcmp(plc_op_handle(op), "alice.example.com") == 0, "handle");
	CHECK(plc_op_service(op, "atproto_pds") != NULL && strcmp(
	    plc_op_service(op, "atproto_pds")->endpoint,
	    "https://pds.example.com") == 0, "service");
	buf_clear(&b);
	plc_op_free(op);
	t_group_end();
}

static void
test_json_roundtrip(void)
{
	struct plc_op	*op, *op2 = NULL;
	json_t		*j = NULL, *j2;
	json_error_t	 err;
	char		*text;
	struct buf	 b1, b2;
	const char	*why = NULL;
	const char	*keys[1] = { did1 };
	char		 d[PLC_DID_BUF];

	t_group("JSON round trip");
	op = v13_op();
	CHECK(op != NULL && plc_op_sign(op, k1) == PDS_OK, "build and sign");
	CHECK(plc_op_to_json(op, &j) == PDS_OK, "to json");
	CHECK(json_is_null(json_object_get(j, "prev")), "prev null present");
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(
	    json_object_get(j, "services"), "atproto_pds"), "type")),
	    "AtprotoPersonalDataServer") == 0, "service type");
	text = json_dumps(j, JSON_COMPACT);
	j2 = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	CHECK(plc_op_from_json(j2, &op2, &why) == PDS_OK, "parse: %s", why);
	buf_init(&b1, 1 << 16);
	buf_init(&b2, 1 << 16);
	CHECK(op2 != NULL && plc_op_encode(op, true, &b1) == PDS_OK &&
	    plc_op_encode(op2, true, &b2) == PDS_OK && b1.len == b2.len &&
	    memcmp(b1.p, b2.p, b1.len) == 0, "same bytes");
	CHECK(op2 != NULL && plc_op_verify(op2, keys, 1, NULL, &why) == PDS_OK,
	    "verify parsed: %s", why);
	CHECK(op2 != NULL && plc_op_did(op2, d) == PDS_OK &&
	    strcmp(d, "did:plc:7vxiehmfhw7obmh6vhv6vgvp") == 0, "did");
	plc_op_free(op2);
	op2 = NULL;

	/* Tampering breaks the signature. */
	json_array_set_new(json_object_get(j2, "alsoKnownAs"), 0,
	    json_string("at://mallory.example.com"));
	CHECK(plc_op_from_json(j2, &op2, &why) == PDS_OK, "parse tampered");
	CHECK(op2 != NULL && plc_op_verify(op2, keys, 1, NULL, &why) ==
	    PDS_ECRYPTO, "tampered op refused");
	plc_op_free(op2);

	/* /data form */
	{
		json_t *dj = NULL;
		CHECK(plc_op_data_json(op, "did:plc:7vxiehmfhw7obmh6vhv6vgvp",
		    &dj) == PDS_OK, "data json");
		CHECK(dj != NULL && json_object_size(dj) == 5 &&
		    strcmp(json_string_value(json_object_get(dj, "did")),
		    "did:plc:7vxiehmfhw7obmh6vhv6vgvp") == 0 &&
		    json_array_size(json_object_get(dj, "rotationKeys")) == 1,
		    "data fields");
		json_decref(dj);
	}
	free(text);
	json_decref(j);
	json_decref(j2);
	buf_clear(&b1);
	buf_clear(&b2);
	plc_op_free(op);
	t_group_end();
}

/* Parse `text` as an op; returns the code. */
static int
parse_text(const char *text, const char **why)
{
	json_t		*j;
	json_error_t	 err;
	struct plc_op	*op = NULL;
	int		 rc;

	if ((j = json_loads(text, 0, &err)) == NULL)
		return -1000;
	rc = plc_op_from_json(j, &op, why);
	plc_op_free(op);
	json_decref(j);
	return rc;
}

static void
test_refusals(void)
{
	struct plc_op	*op;
	json_t		*j = NULL, *t;
	char		*good;
	const char	*why;
	int		 i;

	t_group("parse refusals");
	op = v13_op();
	plc_op_sign(op, k1);
	plc_op_to_json(op, &j);
	good = json_dumps(j, JSON_COMPACT);
	why = NULL;
	CHECK(parse_text(good, &why) == PDS_OK, "baseline: %s", why);

#define MUTATE(stmt, label) do {					\
		t = json_deep_copy(j);					\
		stmt;							\
		{ struct plc_op *o_ = NULL; why = NULL;			\
		  CHECK(plc_op_from_json(t, &o_, &why) != PDS_OK,	\
		      "%s accepted", label);				\
		  plc_op_free(o_); }					\
		json_decref(t);						\
	} while (0)

	MUTATE(json_object_set_new(t, "extra", json_true()), "unknown field");
	MUTATE(json_object_del(t, "prev"), "missing prev");
	MUTATE(json_object_del(t, "sig"), "missing sig");
	MUTATE(json_object_del(t, "services"), "missing services");
	MUTATE(json_object_set_new(t, "type", json_string("plc_op")),
	    "bad type");
	MUTATE(json_object_set_new(t, "prev", json_string("notacid")),
	    "prev not a CID");
	MUTATE(json_object_set_new(t, "prev", json_integer(1)), "prev int");
	{
		char padded[128];
		snprintf(padded, sizeof(padded), "%s==", op->sig);
		MUTATE(json_object_set_new(t, "sig", json_string(padded)),
		    "padded sig");
	}
	MUTATE(json_object_set_new(t, "sig", json_string("AAAA")), "short sig");
	MUTATE(json_object_set_new(t, "sig", json_string(
	    "D5kgfRL+lMyqS0PhglDNXmXwhjfP46UZEWEmU5tdpv9at6tUFBjaH5HyzQOFJMdTBHw6kYhUl6YiYAclOYglLw")),
	    "standard base64 sig");
	MUTATE(json_array_set_new(json_object_get(t, "rotationKeys"), 0,
	    json_string("did:web:example.com")), "rotation key not did:key");
	MUTATE(json_array_set_new(json_object_get(t, "rotationKeys"), 0,
	    json_string("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBmX")),
	    "rotation key bad checksum/point");
	MUTATE(json_object_set_new(t, "rotationKeys", json_string(did1)),
	    "rotationKeys not array");
	MUTATE(json_object_set_new(json_object_get(t, "verificationMethods"),
	    "atproto", json_string("zQ3sh")), "vm not did:key");
	MUTATE(json_object_set_new(json_object_get(t, "verificationMethods"),
	    "#atproto", json_string(did1)), "vm id with #");
	MUTATE(json_array_append_new(json_object_get(t, "alsoKnownAs"),
	    json_string("at://alice.example.com")), "duplicate aka");
	MUTATE(json_array_set_new(json_object_get(t, "alsoKnownAs"), 0,
	    json_integer(3)), "aka not string");
	MUTATE(for (i = 0; i < 10; i++) {
		char u[64];
		snprintf(u, sizeof(u), "at://h%d.example.com", i);
		json_array_append_new(json_object_get(t, "alsoKnownAs"),
		    json_string(u));
	}, "11 aka");
	MUTATE(json_object_set_new(json_object_get(json_object_get(t,
	    "services"), "atproto_pds"), "extra", json_true()),
	    "unknown service key");
	MUTATE(json_object_del(json_object_get(json_object_get(t,
	    "services"), "atproto_pds"), "type"), "service without type");
	{
		char ep[600];
		memset(ep, 'a', sizeof(ep) - 1);
		ep[sizeof(ep) - 1] = '\0';
		memcpy(ep, "https://", 8);
		MUTATE(json_object_set_new(json_object_get(json_object_get(t,
		    "services"), "atproto_pds"), "endpoint", json_string(ep)),
		    "513+ char endpoint");
	}
	MUTATE(json_object_set_new(json_object_get(t, "services"),
	    "a_very_long_service_id_of_33_chars", json_pack("{s:s,s:s}",
	    "type", "X", "endpoint", "https://x.example")), "long service id");
	MUTATE(json_array_set_new(json_object_get(t, "alsoKnownAs"), 0,
	    json_stringn("at://a\0b", 8)), "NUL in string");
	CHECK(parse_text("[]", &why) != PDS_OK, "not an object");
	CHECK(parse_text("{\"type\":\"plc_tombstone\",\"prev\":null,"
	    "\"sig\":\"D5kgfRL-lMyqS0PhglDNXmXwhjfP46UZEWEmU5tdpv9at6tUFBjaH5HyzQOFJMdTBHw6kYhUl6YiYAclOYglLw\"}",
	    &why) != PDS_OK, "tombstone with null prev");
#undef MUTATE
	free(good);
	json_decref(j);
	plc_op_free(op);
	t_group_end();
}

static void
test_tombstone_and_update(void)
{
	struct plc_op	*g, *tomb, *up = NULL, *p = NULL;
	json_t		*j = NULL;
	struct buf	 b;
	const char	*why = NULL;
	char		 gcid[CID_STR_MAX];
	const char	*keys[1] = { did1 };
	const char	*pkeys[1] = { didp };

	t_group("tombstone and update");
	g = v13_op();
	plc_op_sign(g, k1);
	plc_op_cid_str(g, gcid, sizeof(gcid));

	tomb = plc_op_new(PLC_OP_TOMBSTONE);
	CHECK(plc_op_set_prev(tomb, gcid) == PDS_OK, "prev");
	CHECK(plc_op_set_prev(tomb, "bafynotacid") == PDS_EINVAL, "bad prev");
	CHECK(plc_op_sign(tomb, k1) == PDS_OK, "sign tombstone");
	buf_init(&b, 1 << 16);
	CHECK(plc_op_encode(tomb, true, &b) == PDS_OK && canonical(&b) &&
	    b.p[0] == 0xa3, "tombstone canonical, 3 fields");
	CHECK(plc_op_to_json(tomb, &j) == PDS_OK && json_object_size(j) == 3,
	    "tombstone json");
	CHECK(plc_op_from_json(j, &p, &why) == PDS_OK && p->type ==
	    PLC_OP_TOMBSTONE && strcmp(p->prev, gcid) == 0, "parse: %s", why);
	CHECK(p != NULL && plc_op_verify(p, keys, 1, NULL, &why) == PDS_OK,
	    "verify tombstone");
	CHECK(plc_op_check_submit(p, &why) == PDS_OK, "submit ok");
	plc_op_free(p);
	p = NULL;
	json_decref(j);
	j = NULL;

	/* An update on top of the genesis op, rotating to the P-256 key. */
	CHECK(plc_op_next(g, &up) == PDS_OK && up->sig == NULL &&
	    strcmp(up->prev, gcid) == 0, "next");
	CHECK(plc_op_next(tomb, &p) == PDS_EINVAL, "no next after tombstone");
	plc_op_clear_rotation_keys(up);
	CHECK(plc_op_add_rotation_key(up, didp) == PDS_OK &&
	    plc_op_add_rotation_key(up, did1) == PDS_OK, "rotation keys");
	CHECK(plc_op_add_rotation_key(up, "did:key:z") == PDS_EINVAL,
	    "bad rotation key");
	plc_op_clear_aka(up);
	CHECK(plc_op_add_aka(up, "at://bob.example.com") == PDS_OK &&
	    plc_op_add_aka(up, "at://bob.example.com") == PDS_EEXIST, "aka");
	CHECK(plc_op_set_service(up, "atproto_pds", "AtprotoPersonalDataServer",
	    "https://pds2.example.com") == PDS_OK && up->n_services == 1,
	    "replace service");
	CHECK(plc_op_set_service(up, "bsky_appview", "BskyAppView",
	    "https://api.example.com") == PDS_OK && up->n_services == 2,
	    "add service");
	CHECK(plc_op_set_vmethod(up, "atproto_label", didp) == PDS_OK &&
	    up->n_vms == 2, "add vm");
	CHECK(plc_op_set_vmethod(up, "#x", didp) == PDS_EINVAL, "vm id #");
	/* Signed by the old key (the genesis op's rotation key). */
	CHECK(plc_op_sign(up, k1) == PDS_OK, "sign update");
	buf_reset(&b);
	CHECK(plc_op_encode(up, true, &b) == PDS_OK && canonical(&b),
	    "update canonical (sorted services and vms)");
	CHECK(plc_op_verify(up, keys, 1, NULL, &why) == PDS_OK, "verify");
	CHECK(plc_op_verify(up, pkeys, 1, NULL, &why) == PDS_ECRYPTO,
	    "not by the new key");
	{
		char d[PLC_DID_BUF];
		CHECK(plc_op_did(up, d) == PDS_EINVAL, "update has no DID");
	}
	/* P-256 signing and verifying. */
	CHECK(plc_op_sign(up, kp) == PDS_OK &&
	    plc_op_verify(up, pkeys, 1, NULL, &why) == PDS_OK, "p256");
	CHECK(plc_op_to_json(up, &j) == PDS_OK &&
	    plc_op_from_json(j, &p, &why) == PDS_OK &&
	    plc_op_verify(p, pkeys, 1, NULL, &why) == PDS_OK,
	    "p256 round trip: %s", why);
	plc_op_free(p);
	p = NULL;
	json_decref(j);

	/* Submit-time rules. */
	{
		struct plc_op *x = plc_op_dup(up);
		CHECK(x != NULL && plc_op_add_rotation_key(x, did1) == PDS_OK &&
		    plc_op_sign(x, k1) == PDS_OK &&
		    plc_op_check_submit(x, &why) == PDS_EINVAL,
		    "duplicate rotation keys refused on submit");
		plc_op_clear_rotation_keys(x);
		plc_op_sign(x, k1);
		CHECK(plc_op_check_submit(x, &why) == PDS_EINVAL,
		    "no rotation keys refused on submit");
		plc_op_free(x);
		x = plc_op_dup(up);
		plc_op_clear_rotation_keys(x);
		plc_op_add_rotation_key(x, did1);
		plc_op_add_rotation_key(x, did2);
		plc_op_add_rotation_key(x, didp);
		CHECK(plc_op_check_submit(x, &why) == PDS_EINVAL,
		    "unsigned refused on submit");
		plc_op_sign(x, k1);
		CHECK(plc_op_check_submit(x, &why) == PDS_OK, "3 keys: %s", why);
		plc_op_free(x);
	}
	buf_clear(&b);
	plc_op_free(up);
	plc_op_free(tomb);
	plc_op_free(g);
	t_group_end();
}

static void
test_legacy_create(void)
{
	struct plc_op	*c, *p = NULL, *n = NULL;
	json_t		*j = NULL;
	struct buf	 b;
	const char	*why = NULL;
	const char	*rk[2];
	char		 ccid[CID_STR_MAX], d[PLC_DID_BUF];

	t_group("legacy create op");
	c = plc_op_new(PLC_OP_CREATE);
	c->signing_key = strdup(did1);
	c->recovery_key = strdup(did2);
	c->handle = strdup("carol.example.com");
	c->service = strdup("https://pds.example.com");
	CHECK(plc_op_sign(c, k2) == PDS_OK, "sign create");
	buf_init(&b, 1 << 16);
	CHECK(plc_op_encode(c, true, &b) == PDS_OK && canonical(&b) &&
	    b.p[0] == 0xa7, "create canonical");
	CHECK(plc_op_to_json(c, &j) == PDS_OK &&
	    plc_op_from_json(j, &p, &why) == PDS_OK && p->type == PLC_OP_CREATE,
	    "parse create: %s", why);
	rk[0] = did2;	/* recovery key first, as the reference reads it */
	rk[1] = did1;
	CHECK(p != NULL && plc_op_verify(p, rk, 2, NULL, &why) == PDS_OK,
	    "verify create");
	CHECK(p != NULL && plc_op_did(p, d) == PDS_OK && strncmp(d,
	    "did:plc:", 8) == 0, "create gives a DID");
	CHECK(plc_op_check_submit(p, &why) == PDS_EINVAL,
	    "create ops are never submitted");
	plc_op_cid_str(c, ccid, sizeof(ccid));
	CHECK(plc_op_next(p, &n) == PDS_OK && n->type == PLC_OP_OPERATION &&
	    n->n_rotation_keys == 2 &&
	    strcmp(n->rotation_keys[0], did2) == 0 &&
	    strcmp(n->rotation_keys[1], did1) == 0 &&
	    strcmp(plc_op_vmethod(n, "atproto"), did1) == 0 &&
	    strcmp(n->aka[0], "at://carol.example.com") == 0 &&
	    strcmp(plc_op_service(n, "atproto_pds")->endpoint,
	    "https://pds.example.com") == 0 && strcmp(n->prev, ccid) == 0,
	    "normalised update");
	plc_op_free(n);
	json_decref(j);
	plc_op_free(p);
	p = NULL;

	/* Legacy fields without a scheme get one. */
	free(c->handle);
	free(c->service);
	c->handle = strdup("https://dave.example.com");
	c->service = strdup("pds.example.com");
	CHECK(plc_op_normalize(c) == PDS_OK && c->type == PLC_OP_OPERATION &&
	    strcmp(c->aka[0], "at://dave.example.com") == 0 && strcmp(
	    c->services[0].endpoint, "https://pds.example.com") == 0,
	    "normalise prefixes");
	CHECK(parse_text("{\"type\":\"create\",\"signingKey\":\"x\",\"prev\":null}",
	    &why) != PDS_OK, "incomplete create");
	buf_clear(&b);
	plc_op_free(c);
	t_group_end();
}

int
main(void)
{
	if (load_keys() != 0) {
		fprintf(stderr, "cannot load key fixtures\n");
		CHECK(0, "fixtures");
		return t_done("test_plc");
	}
	test_v13();
	test_json_roundtrip();
	test_refusals();
	test_tombstone_and_update();
	test_legacy_create();
	key_free(k1);
	key_free(k2);
	key_free(kp);
	return t_done("test_plc");
}
