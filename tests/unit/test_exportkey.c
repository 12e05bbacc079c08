/*
 * Unit tests: an export's signing key file (libcommon/exportkey.c).
 * The vector's did:key was made by @atproto/crypto from its private
 * key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "exportkey.h"
#include "keys.h"
#include "t.h"

#define DID	"did:plc:abcdefghijklmnopqrstuvwx"
#define PRIV	"f9a225a95f02efb3354376c000208b8e1386c2f8f71021a1d99cd08e9b024e9d"
#define PUB	"did:key:zQ3shuJp5Fax7eEbK25niUx1fksxLMQcZVNpCuA7ksCyZrovS"

static int
parse(const char *doc, const char *did, char *err, size_t errlen)
{
	struct pds_key	*k;
	char		 dk[KEY_DIDKEY_MAX];
	int		 rc;

	rc = exportkey_parse(doc, strlen(doc), did, &k, dk, err, errlen);
	if (rc != PDS_OK && (k != NULL || dk[0] != '\0'))
		rc = PDS_EINTERNAL;	/* a refusal leaves nothing */
	key_free(k);
	return rc;
}

static void
test_vector(void)
{
	struct pds_key	*k, *again;
	char		 doc[1024], dk[KEY_DIDKEY_MAX], dk2[KEY_DIDKEY_MAX];
	char		*text;
	size_t		 len;

	t_group("vector and round trip");
	snprintf(doc, sizeof(doc), "{\"did\":\"%s\",\"type\":\"secp256k1\","
	    "\"privateKeyHex\":\"%s\",\"publicKey\":\"%s\"}", DID, PRIV, PUB);
	CHECK(exportkey_parse(doc, strlen(doc), DID, &k, dk, NULL, 0) ==
	    PDS_OK && strcmp(dk, PUB) == 0 && key_has_private(k),
	    "@atproto/crypto's key");
	CHECK(exportkey_format(DID, k, &text, &len) == PDS_OK &&
	    strlen(text) == len, "formatted");
	CHECK(exportkey_parse(text, len, DID, &again, dk2, NULL, 0) ==
	    PDS_OK && key_equal(k, again) && strcmp(dk2, PUB) == 0 &&
	    strstr(text, PRIV) != NULL, "read back");
	free(text);
	key_free(again);
	key_free(k);
	t_group_end();
}

static void
test_refusals(void)
{
	struct pds_key	*k, *pub;
	char		 doc[1024], err[256], *text, *p;
	size_t		 len;
	const char	*why;

	t_group("refusals");
	snprintf(doc, sizeof(doc), "{\"did\":\"%s\",\"type\":\"secp256k1\","
	    "\"privateKeyHex\":\"%s\",\"publicKey\":\"%s\"}", DID, PRIV, PUB);
	CHECK(parse(doc, "did:plc:other", err, sizeof(err)) == PDS_EINVAL &&
	    strstr(err, "another DID") != NULL, "%s", err);
	p = strstr(doc, PRIV) + 10;	/* a digit of the private key */
	*p = *p == '1' ? '2' : '1';
	CHECK(parse(doc, DID, err, sizeof(err)) == PDS_EINVAL &&
	    strstr(err, "damaged") != NULL, "%s", err);
	snprintf(doc, sizeof(doc), "{\"did\":\"%s\",\"type\":\"p256\","
	    "\"privateKeyHex\":\"%s\",\"publicKey\":\"%s\"}", DID, PRIV, PUB);
	CHECK(parse(doc, DID, err, sizeof(err)) == PDS_EINVAL &&
	    strstr(err, "type") != NULL, "%s", err);
	snprintf(doc, sizeof(doc), "{\"did\":\"%s\",\"type\":\"secp256k1\","
	    "\"privateKeyHex\":\"%.62s\",\"publicKey\":\"%s\"}", DID, PRIV,
	    PUB);
	CHECK(parse(doc, DID, err, sizeof(err)) == PDS_EINVAL &&
	    strstr(err, "64 hex") != NULL, "%s", err);
	snprintf(doc, sizeof(doc), "{\"did\":\"%s\",\"type\":\"secp256k1\","
	    "\"privateKeyHex\":\"%064d\",\"publicKey\":\"%s\"}", DID, 0, PUB);
	CHECK(parse(doc, DID, err, sizeof(err)) == PDS_EINVAL, "zero key");
	snprintf(doc, sizeof(doc), "{\"did\":\"%s\",\"type\":\"secp256k1\","
	    "\"privateKeyHex\":\"%s\"}", DID, PRIV);
	CHECK(parse(doc, DID, err, sizeof(err)) == PDS_EINVAL &&
	    strstr(err, "required") != NULL, "%s", err);
	snprintf(doc, sizeof(doc), "{\"did\":\"%s\",\"did\":\"%s\","
	    "\"type\":\"secp256k1\",\"privateKeyHex\":\"%s\","
	    "\"publicKey\":\"%s\"}", DID, DID, PRIV, PUB);
	CHECK(parse(doc, DID, err, sizeof(err)) == PDS_EINVAL,
	    "a key twice");
	CHECK(parse("[1]", DID, err, sizeof(err)) == PDS_EINVAL, "an array");
	CHECK(parse("{", DID, err, sizeof(err)) == PDS_EINVAL &&
	    strstr(err, "not JSON") != NULL, "%s", err);
	text = calloc(1, EXPORTKEY_MAX_BYTES + 2);
	memset(text, ' ', EXPORTKEY_MAX_BYTES + 1);
	CHECK(text != NULL && parse(text, DID, err, sizeof(err)) ==
	    PDS_ETOOBIG, "too big");
	free(text);
	/* a public key alone is never written */
	CHECK(key_from_didkey(&pub, PUB, strlen(PUB), &why) == PDS_OK &&
	    exportkey_format(DID, pub, &text, &len) == PDS_EINVAL &&
	    text == NULL, "public only");
	key_free(pub);
	CHECK(key_generate(&k, KEY_P256) == PDS_OK &&
	    exportkey_format(DID, k, &text, &len) == PDS_EINVAL, "P-256");
	key_free(k);
	t_group_end();
}

int
main(void)
{
	test_vector();
	test_refusals();
	return t_done("test_exportkey");
}
