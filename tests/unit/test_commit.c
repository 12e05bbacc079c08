/* Unit tests: signed repository commits (atproto-notes §5, §14 V9). */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "commit.h"
#include "err.h"
#include "keys.h"
#include "t.h"

#define PRIV	"9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c"
#define DIDKEY	"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
#define DID	"did:plc:ewvi7nxzyoun6zhxrhs64oiz"
#define REV	"3khuwc44c2227"
#define V6ROOT	"bafyreiczzhbpzlcir2wmpb5b7a3ckljnnqwssa6aoukyfcteuluuyhsira"
#define EMPTY	"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"

static const char *unsigned_hex =
    "a56364696478206469643a706c633a65777669376e787a796f756e367a687872687336346f697a637265766d336b68757763343463323232376464617461d82a5825000171122059c9c2fcac488eacc787a1f836252d2d6c2d2903c07515828a64a2e94c1e48886470726576f66776657273696f6e03";
static const char *sig_hex =
    "966bf24b76b984bc0456a41bedbbddb90a3333f4b868f17096462bc5e09a91aa467c32a94805caa35930a361c7401f807c95351661682302a89e2d0285d3caea";
static const char *signed_hex =
    "a66364696478206469643a706c633a65777669376e787a796f756e367a687872687336346f697a637265766d336b6875776334346332323237637369675840966bf24b76b984bc0456a41bedbbddb90a3333f4b868f17096462bc5e09a91aa467c32a94805caa35930a361c7401f807c95351661682302a89e2d0285d3caea6464617461d82a5825000171122059c9c2fcac488eacc787a1f836252d2d6c2d2903c07515828a64a2e94c1e48886470726576f66776657273696f6e03";

static bool
bytes_are(const struct buf *b, const char *hex)
{
	uint8_t	 want[512];
	long	 n = t_unhex(want, sizeof(want), hex);

	return n >= 0 && b->len == (size_t)n && memcmp(b->p, want, b->len) == 0;
}

static void
test_v9(void)
{
	struct pds_key	*k = NULL, *pub = NULL, *other = NULL;
	struct commit	 c, d;
	struct cid	 data, cid;
	struct buf	 b;
	char		 s[CID_STR_MAX], hex[256];
	uint8_t		 digest[32], raw[256];
	const char	*why = NULL;
	size_t		 i;
	int		 rc;

	t_group("V9 signed commit");
	CHECK(key_from_private_hex(&k, KEY_K256, PRIV, 64) == PDS_OK, "key");
	CHECK(key_from_didkey(&pub, DIDKEY, strlen(DIDKEY), &why) == PDS_OK,
	    "did:key %s", why);
	cid_parse(&data, V6ROOT, strlen(V6ROOT), NULL);
	buf_init(&b, 0);
	CHECK(commit_init(&c, DID, REV, &data) == PDS_OK, "init");
	CHECK(commit_encode_unsigned(&c, &b) == PDS_OK &&
	    bytes_are(&b, unsigned_hex), "unsigned bytes (%zu)", b.len);
	sha256(digest, b.p, b.len);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	CHECK(strcmp(hex, "b66af5b7049269d0b21700bfa7abdfc972f6d738c555f5b33538bb975ffa0651") == 0,
	    "sha256 %s", hex);
	CHECK(commit_encode(&c, &b, NULL) == PDS_EINVAL, "unsigned refused");
	buf_clear(&b);
	buf_init(&b, 16);
	CHECK(commit_encode_unsigned(&c, &b) == PDS_ETOOBIG,
	    "over the buffer's limit: PDS_ETOOBIG, not another code");
	buf_clear(&b);
	buf_init(&b, 0);
	CHECK(commit_sign(&c, k) == PDS_OK && c.siglen == 64, "sign");
	t_unhex(raw, sizeof(raw), sig_hex);
	CHECK(memcmp(c.sig, raw, 64) == 0, "signature bytes");
	buf_reset(&b);
	CHECK(commit_encode(&c, &b, &cid) == PDS_OK &&
	    bytes_are(&b, signed_hex), "signed bytes (%zu)", b.len);
	cid_format(&cid, s, sizeof(s));
	CHECK(strcmp(s, "bafyreia5bproms2p4fiwschs6a6yh2tiqxfcd5towup7xtn4swzlrdylau") == 0,
	    "commit CID %s", s);

	CHECK(commit_decode(&d, b.p, b.len, &why) == PDS_OK, "decode: %s", why);
	CHECK(strcmp(d.did, DID) == 0 && strcmp(d.rev, REV) == 0 &&
	    d.version == 3 && cid_equal(&d.data, &data) && !d.has_prev &&
	    d.siglen == 64, "fields");
	CHECK(commit_verify(&d, pub) == PDS_OK, "verify with did:key");
	CHECK(commit_verify(&d, k) == PDS_OK, "verify with key pair");
	CHECK(key_generate(&other, KEY_K256) == PDS_OK &&
	    commit_verify(&d, other) == PDS_ECRYPTO, "other key refused");

	/* Tampering: a changed rev, data, or signature byte. */
	d.rev[12] = '8';
	CHECK(commit_verify(&d, pub) == PDS_ECRYPTO, "tampered rev");
	commit_decode(&d, b.p, b.len, NULL);
	d.data.b[10] ^= 1;
	CHECK(commit_verify(&d, pub) == PDS_ECRYPTO, "tampered data");
	commit_decode(&d, b.p, b.len, NULL);
	d.sig[5] ^= 1;
	CHECK(commit_verify(&d, pub) == PDS_ECRYPTO, "tampered sig");
	/* A tampered block: the did changed in the bytes. */
	memcpy(raw, b.p, b.len);
	raw[10] ^= 1;	/* inside the did text */
	rc = commit_decode(&d, raw, b.len, &why);
	CHECK(rc == PDS_OK && commit_verify(&d, pub) == PDS_ECRYPTO,
	    "tampered did bytes");

	/* The same commit over the empty tree. */
	cid_parse(&data, EMPTY, strlen(EMPTY), NULL);
	buf_reset(&b);
	CHECK(commit_make(DID, REV, &data, k, &b, &cid) == PDS_OK, "make");
	commit_decode(&d, b.p, b.len, NULL);
	for (i = 0; i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", d.sig[i]);
	CHECK(strcmp(hex, "456c0bda46df4df72044509f24df27f30bde9845165967b3b3d18661551743bb7c0afcd8dd10d1afd0d0c7206423fd8dc34072d39679d0be90f5ad08175dfd45") == 0,
	    "empty-tree sig %s", hex);
	cid_format(&cid, s, sizeof(s));
	CHECK(strcmp(s, "bafyreigryykyvelfcyryuk2nteyywfp6sqnbtwzrfzjcrfim3mcfo3k6bm") == 0,
	    "empty-tree commit CID %s", s);
	CHECK(commit_verify(&d, pub) == PDS_OK, "empty-tree verify");

	buf_clear(&b);
	key_free(k);
	key_free(pub);
	key_free(other);
	t_group_end();
}

static void
test_decode_refusals(void)
{
	struct commit	 c;
	struct buf	 b;
	struct cid	 data;
	const char	*why;
	uint8_t		 raw[512];
	long		 n;

	t_group("commit decoding");
	cid_parse(&data, V6ROOT, strlen(V6ROOT), NULL);
	n = t_unhex(raw, sizeof(raw), signed_hex);
	/* Truncated, trailing bytes. */
	CHECK(commit_decode(&c, raw, (size_t)n - 1, &why) != PDS_OK, "short");
	raw[n] = 0;
	CHECK(commit_decode(&c, raw, (size_t)n + 1, &why) != PDS_OK,
	    "trailing");
	/* Version 4 refused; version 2 without rev accepted. */
	buf_init(&b, 0);
	cbor_put_map(&b, 5);
	cbor_put_text(&b, "did", 3); cbor_put_str(&b, DID);
	cbor_put_text(&b, "sig", 3); cbor_put_bytes(&b, raw, 64);
	cbor_put_text(&b, "data", 4); cbor_put_link(&b, &data);
	cbor_put_text(&b, "prev", 4); cbor_put_null(&b);
	cbor_put_text(&b, "version", 7); cbor_put_int(&b, 2);
	why = NULL;
	CHECK(commit_decode(&c, b.p, b.len, &why) == PDS_OK && c.version == 2 &&
	    !c.has_rev, "v2: %s", why);
	b.p[b.len - 1] = 4;
	CHECK(commit_decode(&c, b.p, b.len, &why) == PDS_EUNSUPP, "v4");
	b.p[b.len - 1] = 3;
	CHECK(commit_decode(&c, b.p, b.len, &why) == PDS_EINVAL,
	    "v3 without rev: %s", why);
	/* Short signature. */
	buf_reset(&b);
	cbor_put_map(&b, 6);
	cbor_put_text(&b, "did", 3); cbor_put_str(&b, DID);
	cbor_put_text(&b, "rev", 3); cbor_put_str(&b, REV);
	cbor_put_text(&b, "sig", 3); cbor_put_bytes(&b, raw, 63);
	cbor_put_text(&b, "data", 4); cbor_put_link(&b, &data);
	cbor_put_text(&b, "prev", 4); cbor_put_null(&b);
	cbor_put_text(&b, "version", 7); cbor_put_int(&b, 3);
	CHECK(commit_decode(&c, b.p, b.len, &why) == PDS_EINVAL, "63-byte sig");
	/* Bad rev and bad did on init. */
	CHECK(commit_init(&c, DID, "notatid", &data) == PDS_EINVAL, "bad rev");
	CHECK(commit_init(&c, "plc:abc", REV, &data) == PDS_EINVAL, "bad did");
	buf_clear(&b);
	t_group_end();
}

int
main(void)
{
	test_v9();
	test_decode_refusals();
	return t_done("test_commit");
}
