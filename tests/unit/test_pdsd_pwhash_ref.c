/*
 * test_pdsd_pwhash_ref: passwords hashed by the reference PDS
 * (pdsd/pwhash.c, libcommon/refpds.c).  The hashes below were made by
 * the reference's own code (@atproto/pds 0.5.35,
 * dist/account-manager/helpers/scrypt.js: genSaltAndHash() and
 * hashAppPassword()) under Node 22; pdsd must accept exactly the right
 * password, compute the same app-password hash, and refuse malformed
 * strings.  Also the conversion of the reference's sequencer events and
 * the check of its stored preferences.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "cbor.h"
#include "err.h"
#include "refpds.h"
#include "../../pdsd/pwhash.h"
#include "t.h"

/* genSaltAndHash('correct horse battery staple') */
static const char h_ascii[] = "a65a4c7963d4e20cfc01f893a97944ed:"
    "21d36b164bbde414273ab703bcf6c40bd851131c5e4e01533a9d13ff7982409b"
    "576f250f306b6ae84a417dbae3560c28e2a9cedd0f95b050b59ae064eb34cb75";
/* genSaltAndHash('pässwörd ✓') (UTF-8) */
static const char h_utf8[] = "aa7a9d568b625792e437c8da1875fdc4:"
    "50fb756daceda43383c40674dc2a519ae535b54410c42767b8acd2aeb9ca5ae6"
    "eebc1395fa5b5e5ece97a901c4b4b489f759b31d5cbe1c2f33206669a806cb49";
/* hashAppPassword('did:plc:ewvi7nxzyoun6zhxrhs64oiz', 'abcd-efgh-ijkl-mnop') */
static const char h_app[] = "099e4ea96cd62c05a232331859d20c97:"
    "fd2bbf28c4711cd8d02ea6a9af381222ef64fa9654f065196498e87aeb668370"
    "e1accd55a4a2cf56b303904d22367493a14af2bda8d630abaa594676edbca564";

static int
verify(const char *hash, const char *pw)
{
	return pwhash_verify(hash, pw, strlen(pw));
}

static void
test_verify(void)
{
	char	 app[PWHASH_REF_STR], bad[sizeof(h_ascii)];

	t_group("reference scrypt hashes");
	CHECK(pwhash_is_reference(h_ascii), "the reference's form");
	CHECK(verify(h_ascii, "correct horse battery staple") == PDS_OK,
	    "the right password");
	CHECK(verify(h_ascii, "correct horse battery stapl") == PDS_ECRYPTO,
	    "one character short");
	CHECK(verify(h_ascii, "Correct horse battery staple") == PDS_ECRYPTO,
	    "another case");
	CHECK(verify(h_utf8, "p\xc3\xa4ssw\xc3\xb6rd \xe2\x9c\x93") == PDS_OK,
	    "a UTF-8 password");
	CHECK(verify(h_utf8, "passwórd") == PDS_ECRYPTO, "not that one");
	CHECK(pwhash_reference_app("did:plc:ewvi7nxzyoun6zhxrhs64oiz",
	    "abcd-efgh-ijkl-mnop", 19, app) == PDS_OK &&
	    strcmp(app, h_app) == 0, "the app password hash: %s", app);
	CHECK(pwhash_reference_app("did:plc:ewvi7nxzyoun6zhxrhs64oiy",
	    "abcd-efgh-ijkl-mnop", 19, app) == PDS_OK &&
	    strcmp(app, h_app) != 0, "another DID, another salt");
	/* one flipped digit of the hash */
	memcpy(bad, h_ascii, sizeof(bad));
	bad[40] = bad[40] == '0' ? '1' : '0';
	CHECK(verify(bad, "correct horse battery staple") == PDS_ECRYPTO,
	    "a changed hash");
	t_group_end();
}

static void
test_parse(void)
{
	struct refpds_hash	 h;
	char			 s[sizeof(h_ascii)], out[REFPDS_HASH_STR + 1];

	t_group("hash strings");
	CHECK(refpds_hash_parse(h_ascii, strlen(h_ascii), &h) == PDS_OK,
	    "parses");
	refpds_hash_format(&h, out);
	CHECK(strcmp(out, h_ascii) == 0, "formats back: %s", out);
	CHECK(refpds_hash_parse(h_ascii, strlen(h_ascii) - 1, &h) ==
	    PDS_EINVAL, "short");
	memcpy(s, h_ascii, sizeof(s));
	s[32] = '$';
	CHECK(refpds_hash_parse(s, strlen(s), &h) == PDS_EINVAL,
	    "no colon");
	memcpy(s, h_ascii, sizeof(s));
	s[3] = 'A';
	CHECK(refpds_hash_parse(s, strlen(s), &h) == PDS_EINVAL,
	    "upper-case hex (Node writes lower case)");
	memcpy(s, h_ascii, sizeof(s));
	s[100] = 'g';
	CHECK(refpds_hash_parse(s, strlen(s), &h) == PDS_EINVAL,
	    "not hex");
	CHECK(!pwhash_is_reference("$argon2id$v=19$m=19456,t=2,p=1$"
	    "c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"),
	    "an Argon2id string is not");
	CHECK(!pwhash_is_reference(""), "empty");
	t_group_end();
}

static void
test_events(void)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*m, *v;
	struct buf	 in, out;
	const char	*why = NULL;

	t_group("sequencer events");
	CHECK(strcmp(refpds_event_type("append"), "commit") == 0, "append");
	CHECK(strcmp(refpds_event_type("identity"), "identity") == 0,
	    "identity");
	CHECK(refpds_event_type("handle") == NULL, "a retired type");
	CHECK(refpds_event_type("tombstone") == NULL, "tombstone");
	buf_init(&in, 0);
	buf_init(&out, 0);
	/* {did, active: true} as the reference writes an #account body */
	cbor_put_map(&in, 2);
	cbor_put_str(&in, "did");
	cbor_put_str(&in, "did:plc:ewvi7nxzyoun6zhxrhs64oiz");
	cbor_put_str(&in, "active");
	cbor_put_bool(&in, true);
	CHECK(refpds_event_convert(in.p, in.len, 42,
	    "2026-01-02T03:04:05.678Z", &out, &why) == PDS_OK, "converts: %s",
	    why ? why : "");
	CHECK(dm_decode(a, out.p, out.len, &m, &why) == PDS_OK &&
	    m->type == DM_MAP && m->u.map.n == 4, "a map of four");
	v = dm_map_get(m, "seq");
	CHECK(v != NULL && v->type == DM_INT && v->u.i == 42, "seq");
	v = dm_map_get(m, "time");
	CHECK(v != NULL && v->type == DM_STRING && v->u.s.len == 24, "time");
	/* canonical: shorter keys first: did, seq, time, active */
	CHECK(m->u.map.n == 4 && memcmp(m->u.map.e[1].key, "seq", 3) == 0 &&
	    memcmp(m->u.map.e[3].key, "active", 6) == 0, "key order");
	buf_reset(&out);
	CHECK(refpds_event_convert(in.p, 3, 1, "t",
	    &out, &why) != PDS_OK, "truncated");
	buf_reset(&in);
	cbor_put_array(&in, 0);
	CHECK(refpds_event_convert(in.p, in.len, 1, "t", &out, &why) ==
	    PDS_EINVAL, "not a map");
	buf_reset(&in);
	cbor_put_map(&in, 1);
	cbor_put_str(&in, "seq");
	cbor_put_int(&in, 7);
	CHECK(refpds_event_convert(in.p, in.len, 1, "t", &out, &why) ==
	    PDS_EINVAL, "already has a seq");
	buf_clear(&in);
	buf_clear(&out);
	dm_arena_free(a);
	t_group_end();
}

static void
test_prefs(void)
{
	const char	*why = NULL;
	const char	 ok[] = "{\"$type\":\"app.bsky.actor.defs#"
	    "adultContentPref\",\"enabled\":true}";

	t_group("preferences");
	CHECK(refpds_pref_check("app.bsky.actor.defs#adultContentPref", ok,
	    strlen(ok), &why) == PDS_OK, "a preference");
	CHECK(refpds_pref_check("app.bsky.actor.defs#savedFeedsPref", ok,
	    strlen(ok), &why) == PDS_EINVAL, "another name");
	CHECK(refpds_pref_check("x", "[1]", 3, &why) == PDS_EINVAL,
	    "an array");
	CHECK(refpds_pref_check("x", "{\"$type\":", 9, &why) == PDS_EINVAL,
	    "truncated");
	CHECK(refpds_pref_check("x", "{\"$type\":\"x\",\"$type\":\"x\"}", 25,
	    &why) == PDS_EINVAL, "a duplicate key");
	t_group_end();
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_verify();
	test_parse();
	test_events();
	test_prefs();
	return t_done("test_pdsd_pwhash_ref");
}
