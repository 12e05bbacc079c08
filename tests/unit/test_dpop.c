/*
 * Unit tests: DPoP proofs (RFC 9449; the §4.1 example proof) and the
 * stateless server nonces.  Proofs are signed here with fresh keys.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "cid.h"
#include "dpop.h"
#include "err.h"
#include "jwk.h"
#include "keys.h"
#include "multibase.h"
#include "t.h"

/* RFC 9449 §4.1, figure 4. */
static const char *rfc_proof =
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik"
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR"
    "nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE"
    "QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj"
    "oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia"
    "WF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg"
    "4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
static const char *rfc_jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

#define NOW	1767225600	/* 2026-01-01T00:00:00Z */
#define HTU	"https://pds.example.com/xrpc/com.atproto.repo.createRecord"
#define TOKEN	"eyJhbGciOiJFUzI1NiJ9.e30.c2ln"

/* mk() flags */
#define MK_BADSIG	0x01	/* flip one bit of the signature */
#define MK_HIGHS	0x02	/* replace s by n - s */
#define MK_SHORTSIG	0x04	/* drop the signature's last byte */

static const uint8_t p256_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

static void
put_b64url(struct buf *b, const void *p, size_t len)
{
	char	 t[16384];

	if (b64url_encode(t, sizeof(t), p, len) > 0)
		buf_puts(b, t);
}

/*
 * Sign a proof over the given header and claims (both stolen) with k.
 * The header's jwk is k's public JWK unless the header already has one.
 */
static const char *
mk(struct buf *b, const struct pds_key *k, json_t *hdr, json_t *claims,
    int flags)
{
	json_t		*jwk;
	char		*hs, *ps;
	uint8_t		 sig[KEY_SIG_LEN];
	unsigned int	 borrow = 0, d;
	int		 i;

	buf_reset(b);
	if (json_object_get(hdr, "jwk") == NULL &&
	    jwk_export_public(&jwk, k) == PDS_OK)
		json_object_set_new(hdr, "jwk", jwk);
	hs = json_dumps(hdr, JSON_COMPACT);
	ps = json_dumps(claims, JSON_COMPACT);
	put_b64url(b, hs, strlen(hs));
	buf_putc(b, '.');
	put_b64url(b, ps, strlen(ps));
	key_sign(k, b->p, b->len, sig);
	if (flags & MK_BADSIG)
		sig[10] ^= 0x01;
	if (flags & MK_HIGHS)
		for (i = 31; i >= 0; i--) {
			d = (unsigned int)p256_n[i] - sig[32 + i] - borrow;
			sig[32 + i] = (uint8_t)d;
			borrow = (d >> 8) & 1;
		}
	buf_putc(b, '.');
	put_b64url(b, sig, (flags & MK_SHORTSIG) ? sizeof(sig) - 1 :
	    sizeof(sig));
	free(hs);
	free(ps);
	json_decref(hdr);
	json_decref(claims);
	return (const char *)b->p;
}

static json_t *
hdr_std(const char *alg)
{
	return json_pack("{s:s, s:s}", "typ", "dpop+jwt", "alg", alg);
}

static json_t *
claims_std(long long iat)
{
	return json_pack("{s:s, s:s, s:s, s:I}", "jti", "k3fz9a1q0x",
	    "htm", "POST", "htu", HTU, "iat", (json_int_t)iat);
}

static struct dpop_expect
exp_std(void)
{
	struct dpop_expect	 e;

	memset(&e, 0, sizeof(e));
	e.htm = "POST";
	e.htu = HTU;
	e.now = NOW;
	e.iat_past = DPOP_IAT_PAST;
	e.iat_future = DPOP_IAT_FUTURE;
	return e;
}

static int
ver(const char *proof, const struct dpop_expect *e, const char **why)
{
	struct dpop_proof	 p;

	*why = "";
	return dpop_verify(&p, proof, strlen(proof), e, why);
}

static void
test_rfc(void)
{
	struct dpop_proof	 p;
	struct dpop_expect	 e = exp_std();
	const char		*why = NULL;

	t_group("rfc9449 example");
	e.htu = "https://server.example.com/token";
	e.now = 1562262616;
	CHECK(dpop_verify(&p, rfc_proof, strlen(rfc_proof), &e, &why) ==
	    PDS_OK, "%s", why);
	CHECK(strcmp(p.jkt, rfc_jkt) == 0, "jkt %s", p.jkt);
	CHECK(strcmp(p.jti, "-BwC3ESc6acc2lTc") == 0, "jti %s", p.jti);
	CHECK(p.iat == 1562262616 && !p.has_nonce && p.nonce[0] == '\0',
	    "iat, no nonce");
	e.now += 191;
	CHECK(dpop_verify(&p, rfc_proof, strlen(rfc_proof), &e, &why) ==
	    PDS_EEXPIRED, "191 s later");
	t_group_end();
}

static void
test_good(const struct pds_key *k, const struct pds_key *k1)
{
	struct buf		 b;
	struct dpop_proof	 p;
	struct dpop_expect	 e = exp_std();
	json_t			*c;
	char			 jkt[JWK_THUMB_SIZE], ath[64];
	uint8_t			 dg[32];
	const char		*why = NULL, *s;

	buf_init(&b, 65536);
	t_group("accepted");
	jwk_thumbprint(k, jkt);
	c = claims_std(NOW);
	json_object_set_new(c, "nonce", json_string("n0nce-value"));
	s = mk(&b, k, hdr_std("ES256"), c, 0);
	CHECK(dpop_verify(&p, s, b.len, &e, &why) == PDS_OK, "%s", why);
	CHECK(strcmp(p.jkt, jkt) == 0, "jkt");
	CHECK(strcmp(p.jti, "k3fz9a1q0x") == 0, "jti");
	CHECK(p.iat == NOW, "iat");
	CHECK(p.has_nonce && strcmp(p.nonce, "n0nce-value") == 0, "nonce");

	CHECK(ver(mk(&b, k, hdr_std("ES256"), claims_std(NOW), MK_HIGHS),
	    &e, &why) == PDS_OK, "high-S signature: %s", why);
	CHECK(ver(mk(&b, k1, hdr_std("ES256K"), claims_std(NOW), 0),
	    &e, &why) == PDS_OK, "ES256K: %s", why);

	c = claims_std(NOW);
	json_object_set_new(c, "htu", json_string("https://pds.example.com/"
	    "xrpc/com.atproto.repo.createRecord?x=1#frag"));
	CHECK(ver(mk(&b, k, hdr_std("ES256"), c, 0), &e, &why) == PDS_OK,
	    "query and fragment ignored: %s", why);
	c = claims_std(NOW);
	json_object_set_new(c, "htu", json_string("HTTPS://PDS.Example.COM:443"
	    "/xrpc/com.atproto.repo.createRecord"));
	CHECK(ver(mk(&b, k, hdr_std("ES256"), c, 0), &e, &why) == PDS_OK,
	    "scheme, host case and default port: %s", why);
	e.htu = HTU "?y=2";
	CHECK(ver(mk(&b, k, hdr_std("ES256"), claims_std(NOW), 0), &e,
	    &why) == PDS_OK, "query on the expected side: %s", why);
	e = exp_std();

	CHECK(ver(mk(&b, k, hdr_std("ES256"), claims_std(NOW - 190), 0), &e,
	    &why) == PDS_OK, "iat now-190: %s", why);
	CHECK(ver(mk(&b, k, hdr_std("ES256"), claims_std(NOW + 180), 0), &e,
	    &why) == PDS_OK, "iat now+180: %s", why);

	sha256(dg, TOKEN, strlen(TOKEN));
	b64url_encode(ath, sizeof(ath), dg, sizeof(dg));
	c = claims_std(NOW);
	json_object_set_new(c, "ath", json_string(ath));
	e.access_token = TOKEN;
	e.access_token_len = strlen(TOKEN);
	CHECK(ver(mk(&b, k, hdr_std("ES256"), c, 0), &e, &why) == PDS_OK,
	    "ath: %s", why);
	t_group_end();
	buf_clear(&b);
}

/* A refusal as expected: the code and, when want is non-NULL, the reason. */
static int
refused(int rc, const char *why, int code, const char *want)
{
	return rc == code && (want == NULL || strcmp(why, want) == 0);
}

#define REFUSE(proof, e, code, want_why, what) do {			\
	const char *w_ = "";						\
	int r_ = ver((proof), (e), &w_);				\
	CHECK(refused(r_, w_, (code), (want_why)), "%s: rc %d, %s",	\
	    (what), r_, w_);						\
} while (0)

static void
test_refusals(const struct pds_key *k, const struct pds_key *k1)
{
	struct buf		 b;
	struct dpop_expect	 e = exp_std();
	json_t			*c, *h, *jwk;
	char			*big, ath[64];
	uint8_t			 dg[32], priv[KEY_PRIV_LEN];
	size_t			 n;

	buf_init(&b, 65536);
	t_group("refused");
	REFUSE(mk(&b, k, hdr_std("ES256"), claims_std(NOW), 0), &e, PDS_OK,
	    NULL, "control");

	c = claims_std(NOW);
	json_object_set_new(c, "htm", json_string("GET"));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EMISMATCH,
	    "DPoP htm mismatch", "wrong htm");
	c = claims_std(NOW);
	json_object_set_new(c, "htm", json_string("post"));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EMISMATCH, NULL,
	    "htm case");
	c = claims_std(NOW);
	json_object_del(c, "htm");
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL, NULL,
	    "no htm");

	c = claims_std(NOW);
	json_object_set_new(c, "htu", json_string("https://pds.example.com/"
	    "xrpc/com.atproto.repo.deleteRecord"));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EMISMATCH,
	    "DPoP htu mismatch", "wrong htu path");
	c = claims_std(NOW);
	json_object_set_new(c, "htu", json_string("http://pds.example.com/"
	    "xrpc/com.atproto.repo.createRecord"));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EMISMATCH, NULL,
	    "http for https");
	c = claims_std(NOW);
	json_object_set_new(c, "htu", json_string("https://pds.example.com:"
	    "8443/xrpc/com.atproto.repo.createRecord"));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EMISMATCH, NULL,
	    "other port");
	c = claims_std(NOW);
	json_object_set_new(c, "htu", json_string("pds.example.com/xrpc"));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL, NULL,
	    "htu not a URL");
	c = claims_std(NOW);
	json_object_set_new(c, "htu", json_integer(1));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL, NULL,
	    "htu a number");

	REFUSE(mk(&b, k, hdr_std("ES256"), claims_std(NOW - 191), 0), &e,
	    PDS_EEXPIRED, "iat claim timestamp check failed (too far in the "
	    "past)", "stale iat");
	REFUSE(mk(&b, k, hdr_std("ES256"), claims_std(NOW + 181), 0), &e,
	    PDS_EEXPIRED, NULL, "future iat");
	c = claims_std(NOW);
	json_object_del(c, "iat");
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL,
	    "DPoP iat missing", "no iat");
	c = claims_std(NOW);
	json_object_set_new(c, "iat", json_string("1767225600"));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL, NULL,
	    "iat a string");

	c = claims_std(NOW);
	json_object_del(c, "jti");
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL, NULL,
	    "no jti");
	c = claims_std(NOW);
	json_object_set_new(c, "jti", json_string(""));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL, NULL,
	    "empty jti");
	big = malloc(DPOP_JTI_MAX + 2);
	memset(big, 'j', DPOP_JTI_MAX + 1);
	big[DPOP_JTI_MAX + 1] = '\0';
	c = claims_std(NOW);
	json_object_set_new(c, "jti", json_string(big));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL,
	    "jti too long", "long jti");
	big[DPOP_JTI_MAX] = '\0';
	c = claims_std(NOW);
	json_object_set_new(c, "jti", json_string(big));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_OK, NULL,
	    "jti of the longest length");
	free(big);
	c = claims_std(NOW);
	json_object_set_new(c, "nonce", json_integer(7));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL, NULL,
	    "nonce a number");

	/* ath */
	sha256(dg, TOKEN, strlen(TOKEN));
	b64url_encode(ath, sizeof(ath), dg, sizeof(dg));
	c = claims_std(NOW);
	json_object_set_new(c, "ath", json_string(ath));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EINVAL,
	    "DPoP ath claim not allowed", "ath without a token");
	e.access_token = TOKEN;
	e.access_token_len = strlen(TOKEN);
	REFUSE(mk(&b, k, hdr_std("ES256"), claims_std(NOW), 0), &e,
	    PDS_EINVAL, "DPoP ath claim missing", "token without ath");
	c = claims_std(NOW);
	ath[5] = ath[5] == 'A' ? 'B' : 'A';
	json_object_set_new(c, "ath", json_string(ath));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_EMISMATCH,
	    "DPoP ath mismatch", "wrong ath");
	e = exp_std();

	/* header */
	h = json_pack("{s:s, s:s}", "typ", "JWT", "alg", "ES256");
	REFUSE(mk(&b, k, h, claims_std(NOW), 0), &e, PDS_EINVAL,
	    "typ is not dpop+jwt", "typ JWT");
	h = json_pack("{s:s}", "alg", "ES256");
	REFUSE(mk(&b, k, h, claims_std(NOW), 0), &e, PDS_EINVAL, NULL,
	    "no typ");
	h = json_pack("{s:s, s:s}", "typ", "DPoP+JWT", "alg", "ES256");
	REFUSE(mk(&b, k, h, claims_std(NOW), 0), &e, PDS_EINVAL, NULL,
	    "typ case");
	REFUSE(mk(&b, k, hdr_std("none"), claims_std(NOW), 0), &e,
	    PDS_EUNSUPP, "alg none refused", "alg none");
	REFUSE(mk(&b, k, hdr_std("HS256"), claims_std(NOW), 0), &e,
	    PDS_EUNSUPP, NULL, "alg HS256");
	REFUSE(mk(&b, k, hdr_std("RS256"), claims_std(NOW), 0), &e,
	    PDS_EUNSUPP, NULL, "alg RS256");
	REFUSE(mk(&b, k, hdr_std("ES256K"), claims_std(NOW), 0), &e,
	    PDS_ECRYPTO, NULL, "ES256K with a P-256 jwk");
	REFUSE(mk(&b, k1, hdr_std("ES256"), claims_std(NOW), 0), &e,
	    PDS_ECRYPTO, NULL, "ES256 with a k256 jwk");
	h = hdr_std("ES256");
	json_object_set_new(h, "jwk", json_string("x"));
	REFUSE(mk(&b, k, h, claims_std(NOW), 0), &e, PDS_EINVAL, NULL,
	    "jwk a string");
	h = hdr_std("ES256");
	jwk_export_public(&jwk, k);
	key_export_private(k, priv);
	b64url_encode(ath, sizeof(ath), priv, sizeof(priv));
	json_object_set_new(jwk, "d", json_string(ath));
	json_object_set_new(h, "jwk", jwk);
	REFUSE(mk(&b, k, h, claims_std(NOW), 0), &e, PDS_EINVAL,
	    "jwk holds a private key", "private jwk");
	h = hdr_std("ES256");
	json_object_set_new(h, "crit", json_pack("[s]", "exp"));
	REFUSE(mk(&b, k, h, claims_std(NOW), 0), &e, PDS_EUNSUPP, NULL,
	    "crit");
	/* Signed by k1, but the header names k's key. */
	h = hdr_std("ES256K");
	jwk_export_public(&jwk, k);
	json_object_set_new(h, "jwk", jwk);
	REFUSE(mk(&b, k1, h, claims_std(NOW), 0), &e, PDS_ECRYPTO, NULL,
	    "signed by another key");

	/* signature */
	REFUSE(mk(&b, k, hdr_std("ES256"), claims_std(NOW), MK_BADSIG), &e,
	    PDS_ECRYPTO, "bad signature", "bad signature");
	REFUSE(mk(&b, k, hdr_std("ES256"), claims_std(NOW), MK_SHORTSIG), &e,
	    PDS_ECRYPTO, "bad signature length", "short signature");
	/* The signature of one proof on the claims of another. */
	mk(&b, k, hdr_std("ES256"), claims_std(NOW), 0);
	big = strdup(strrchr((const char *)b.p, '.'));
	mk(&b, k, hdr_std("ES256"), claims_std(NOW + 1), 0);
	n = (size_t)(strrchr((const char *)b.p, '.') - (const char *)b.p);
	b.len = n;
	buf_puts(&b, big);
	free(big);
	REFUSE((const char *)b.p, &e, PDS_ECRYPTO, "bad signature",
	    "claims changed");

	/* size */
	c = claims_std(NOW);
	big = malloc(DPOP_MAX_LEN);
	memset(big, 'p', DPOP_MAX_LEN - 1);
	big[DPOP_MAX_LEN - 1] = '\0';
	json_object_set_new(c, "pad", json_string(big));
	REFUSE(mk(&b, k, hdr_std("ES256"), c, 0), &e, PDS_ETOOBIG,
	    "DPoP proof too long", "oversize");
	free(big);
	REFUSE("", &e, PDS_EINVAL, NULL, "empty");
	REFUSE("a.b", &e, PDS_EINVAL, NULL, "two parts");
	t_group_end();
	buf_clear(&b);
}

static int
htu(const char *in, const char *want)
{
	char	 out[DPOP_HTU_MAX];
	long	 n;

	n = dpop_htu_normalize(out, sizeof(out), in, strlen(in));
	if (want == NULL)
		return n < 0;
	return n >= 0 && (size_t)n == strlen(want) && strcmp(out, want) == 0;
}

static void
test_htu(void)
{
	char	 tiny[12];

	t_group("htu");
	CHECK(htu("https://a.example/x", "https://a.example/x"), "plain");
	CHECK(htu("HTTPS://A.Example/X", "https://a.example/X"),
	    "path case kept");
	CHECK(htu("https://a.example", "https://a.example/"), "empty path");
	CHECK(htu("https://a.example?q", "https://a.example/"), "query only");
	CHECK(htu("https://a.example:443/x", "https://a.example/x"), "443");
	CHECK(htu("http://a.example:80/x", "http://a.example/x"), "80");
	CHECK(htu("http://a.example:443/x", "http://a.example:443/x"),
	    "443 on http kept");
	CHECK(htu("https://a.example:/x", "https://a.example/x"),
	    "empty port");
	CHECK(htu("https://a.example:02583/x", "https://a.example:2583/x"),
	    "leading zero in port");
	CHECK(htu("http://localhost:2583/oauth/par#f",
	    "http://localhost:2583/oauth/par"), "fragment");
	CHECK(htu("http://[::1]:2583/x", "http://[::1]:2583/x"), "IPv6");
	CHECK(htu("ftp://a.example/x", NULL), "ftp");
	CHECK(htu("https:/a.example/x", NULL), "one slash");
	CHECK(htu("https:///x", NULL), "no host");
	CHECK(htu("https://u@a.example/x", NULL), "userinfo");
	CHECK(htu("https://a.example:99999/x", NULL), "port too big");
	CHECK(htu("https://a.example:4a3/x", NULL), "port not a number");
	CHECK(htu("https://a.example/x y", NULL), "space");
	CHECK(htu("http://[::1/x", NULL), "open bracket");
	CHECK(dpop_htu_normalize(tiny, sizeof(tiny), "https://a.example/",
	    18) == PDS_ETOOBIG, "small buffer");
	t_group_end();
}

static void
test_nonce(void)
{
	uint8_t		 s1[DPOP_NONCE_SECRET_LEN], s2[DPOP_NONCE_SECRET_LEN];
	char		 n[DPOP_NONCE_SIZE], m[DPOP_NONCE_SIZE];
	time_t		 t = NOW + 17;

	t_group("nonces");
	memset(s1, 0x11, sizeof(s1));
	memset(s2, 0x22, sizeof(s2));
	dpop_nonce_current(n, s1, t);
	CHECK(strlen(n) == DPOP_NONCE_LEN, "length %zu", strlen(n));
	dpop_nonce_make(m, s1, dpop_nonce_counter(t) + 1);
	CHECK(strcmp(n, m) == 0, "current is counter + 1");
	dpop_nonce_current(m, s1, t + 30);
	CHECK(strcmp(n, m) == 0, "same within a step");
	dpop_nonce_current(m, s1, t + DPOP_NONCE_STEP);
	CHECK(strcmp(n, m) != 0, "rotates each step");
	CHECK(dpop_nonce_check(s1, n, strlen(n), t) == PDS_OK, "now");
	CHECK(dpop_nonce_check(s1, n, strlen(n), t + DPOP_NONCE_STEP) ==
	    PDS_OK, "one step later");
	CHECK(dpop_nonce_check(s1, n, strlen(n), t + 2 * DPOP_NONCE_STEP) ==
	    PDS_OK, "two steps later");
	CHECK(dpop_nonce_check(s1, n, strlen(n), t + 3 * DPOP_NONCE_STEP) ==
	    PDS_EMISMATCH, "three steps later");
	CHECK(dpop_nonce_check(s1, n, strlen(n), t - DPOP_NONCE_STEP) ==
	    PDS_EMISMATCH, "a step before it was handed out");
	CHECK(dpop_nonce_check(s2, n, strlen(n), t) == PDS_EMISMATCH,
	    "other secret");
	CHECK(dpop_nonce_check(s1, n, strlen(n) - 1, t) == PDS_EMISMATCH,
	    "truncated");
	CHECK(dpop_nonce_check(s1, "", 0, t) == PDS_EMISMATCH, "empty");
	n[3] = n[3] == 'A' ? 'B' : 'A';
	CHECK(dpop_nonce_check(s1, n, strlen(n), t) == PDS_EMISMATCH,
	    "one character changed");
	dpop_nonce_make(m, s1, 0);
	CHECK(dpop_nonce_check(s1, m, strlen(m), 0) == PDS_OK, "counter 0");
	t_group_end();
}

int
main(void)
{
	struct pds_key	*k = NULL, *k1 = NULL;

	if (key_generate(&k, KEY_P256) != PDS_OK ||
	    key_generate(&k1, KEY_K256) != PDS_OK) {
		fprintf(stderr, "key_generate failed\n");
		return 1;
	}
	test_rfc();
	test_good(k, k1);
	test_refusals(k, k1);
	test_htu();
	test_nonce();
	key_free(k);
	key_free(k1);
	return t_done("test_dpop");
}
