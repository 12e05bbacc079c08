/*
 * dpoptool: our DPoP, JWK and PKCE code driven line by line, so that the
 * interop tests can check it against an independent implementation
 * (Node's crypto).  Reads one JSON object per line on stdin and writes
 * one JSON object per line on stdout:
 *
 *   {"op":"verify","htm":M,"htu":U,"now":T,"proof":P[,"token":A]}
 *	-> {"ok":true,"jkt":…,"jti":…,"iat":…[,"nonce":…]}
 *   {"op":"jkt","jwk":{…}}	-> {"ok":true,"jkt":…}
 *   {"op":"pkce","verifier":V,"challenge":C}	-> {"ok":true}
 *   {"op":"sign","crv":"P-256"|"secp256k1","msg":TEXT}
 *	-> {"ok":true,"jwk":{…},"jkt":…,"sig":base64url(r||s)}
 *	   (a fresh key, signing TEXT, to check our JWK export)
 *
 * A refusal is {"ok":false,"err":CODE,"why":REASON}.  Exit status 0 at
 * the end of input, 2 on a line that is not a request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dpop.h"
#include "err.h"
#include "jwk.h"
#include "keys.h"
#include "multibase.h"
#include "pkce.h"

#define LINE_MAX_LEN	65536

static json_t *
refusal(int rc, const char *why)
{
	return json_pack("{s:b, s:i, s:s}", "ok", 0, "err", rc,
	    "why", why != NULL ? why : pds_strerror(rc));
}

static const char *
str(const json_t *req, const char *name)
{
	const char	*s = json_string_value(json_object_get(req, name));

	return s != NULL ? s : "";
}

static json_t *
op_verify(const json_t *req)
{
	struct dpop_expect	 e;
	struct dpop_proof	 p;
	const char		*why = NULL, *proof = str(req, "proof");
	json_t			*r;
	int			 rc;

	memset(&e, 0, sizeof(e));
	e.htm = str(req, "htm");
	e.htu = str(req, "htu");
	e.now = (time_t)json_integer_value(json_object_get(req, "now"));
	e.iat_past = DPOP_IAT_PAST;
	e.iat_future = DPOP_IAT_FUTURE;
	if (json_is_string(json_object_get(req, "token"))) {
		e.access_token = str(req, "token");
		e.access_token_len = strlen(e.access_token);
	}
	if ((rc = dpop_verify(&p, proof, strlen(proof), &e, &why)) != PDS_OK)
		return refusal(rc, why);
	r = json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "jkt", p.jkt,
	    "jti", p.jti, "iat", (json_int_t)p.iat);
	if (r != NULL && p.has_nonce)
		json_object_set_new(r, "nonce", json_string(p.nonce));
	return r;
}

static json_t *
op_jkt(const json_t *req)
{
	struct pds_key	*k = NULL;
	char		 jkt[JWK_THUMB_SIZE];
	const char	*why = NULL;
	int		 rc;

	if ((rc = jwk_parse_public(&k, jkt, json_object_get(req, "jwk"),
	    &why)) != PDS_OK)
		return refusal(rc, why);
	key_free(k);
	return json_pack("{s:b, s:s}", "ok", 1, "jkt", jkt);
}

static json_t *
op_pkce(const json_t *req)
{
	const char	*v = str(req, "verifier"), *c = str(req, "challenge");
	const char	*why = NULL;
	int		 rc;

	if ((rc = pkce_verify_s256(v, strlen(v), c, strlen(c), &why)) !=
	    PDS_OK)
		return refusal(rc, why);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *
op_sign(const json_t *req)
{
	struct pds_key	*k = NULL;
	json_t		*jwk = NULL;
	uint8_t		 sig[KEY_SIG_LEN];
	char		 jkt[JWK_THUMB_SIZE];
	char		 s64[B64_ENC_LEN(KEY_SIG_LEN) + 1];
	const char	*msg = str(req, "msg");
	int		 rc;

	rc = key_generate(&k, strcmp(str(req, "crv"), "secp256k1") == 0 ?
	    KEY_K256 : KEY_P256);
	if (rc == PDS_OK)
		rc = jwk_export_public(&jwk, k);
	if (rc == PDS_OK)
		rc = jwk_thumbprint(k, jkt);
	if (rc == PDS_OK)
		rc = key_sign(k, msg, strlen(msg), sig);
	key_free(k);
	if (rc != PDS_OK) {
		json_decref(jwk);
		return refusal(rc, NULL);
	}
	if (b64url_encode(s64, sizeof(s64), sig, sizeof(sig)) < 0) {
		json_decref(jwk);
		return refusal(PDS_EINTERNAL, NULL);
	}
	return json_pack("{s:b, s:o, s:s, s:s}", "ok", 1, "jwk", jwk,
	    "jkt", jkt, "sig", s64);
}

int
main(void)
{
	static char	 line[LINE_MAX_LEN];
	json_t		*req, *res;
	const char	*op;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		if ((req = json_loads(line, 0, NULL)) == NULL ||
		    (op = json_string_value(json_object_get(req, "op"))) ==
		    NULL) {
			fprintf(stderr, "dpoptool: not a request\n");
			return 2;
		}
		if (strcmp(op, "verify") == 0)
			res = op_verify(req);
		else if (strcmp(op, "jkt") == 0)
			res = op_jkt(req);
		else if (strcmp(op, "pkce") == 0)
			res = op_pkce(req);
		else if (strcmp(op, "sign") == 0)
			res = op_sign(req);
		else
			res = refusal(PDS_EINVAL, "unknown op");
		json_decref(req);
		if (res == NULL || json_dumpf(res, stdout, JSON_COMPACT) != 0)
			return 2;
		json_decref(res);
		putchar('\n');
		fflush(stdout);
	}
	return 0;
}
