/*
 * fuzz_diddoc: arbitrary bytes as a DID document and as a PLC operation.
 *
 * The document is read as the document of its own `id` (so that the id
 * check passes when it can) and of a fixed DID.  Whatever diddoc_parse()
 * accepts must hold a usable key, a valid handle and a valid endpoint.
 * Whatever plc_op_from_json() accepts must survive JSON and CBOR round
 * trips unchanged, and its DID document must parse back.  The raw bytes
 * also go through the resolution text readers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "diddoc.h"
#include "err.h"
#include "keys.h"
#include "plc.h"
#include "syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_doc(const json_t *doc, const char *did)
{
	struct diddoc	 d;
	struct pds_key	*k = NULL;
	json_t		*j = NULL;
	char		 ep[DIDDOC_ENDPOINT_MAX + 1], dk[KEY_DIDKEY_MAX];
	static const char *const ids[] = { "atproto_pds", "#atproto_pds",
	    "bsky_appview", "#atproto_labeler", "" };
	size_t		 i;

	if (diddoc_parse(doc, did, &d, NULL) == PDS_OK) {
		if (d.signing_key != NULL) {
			if (key_from_didkey(&k, d.signing_key,
			    strlen(d.signing_key), NULL) != PDS_OK)
				abort();
			key_free(k);
		}
		if (d.handle != NULL &&
		    !syntax_is_handle(d.handle, strlen(d.handle)))
			abort();
		if (d.pds != NULL &&
		    diddoc_check_endpoint(d.pds, NULL, 0, NULL) != PDS_OK)
			abort();
		diddoc_require_atproto(&d, NULL);
		if (diddoc_atproto_data_json(&d, &j) != PDS_OK)
			abort();
		json_decref(j);
		diddoc_clear(&d);
	}
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		diddoc_get_service(doc, did, ids[i], NULL, ep, sizeof(ep),
		    NULL);
	diddoc_get_didkey(doc, did, "atproto", dk, sizeof(dk), NULL);
	diddoc_get_didkey(doc, did, "#atproto_label", dk, sizeof(dk), NULL);
}

static void
check_op(const json_t *j)
{
	struct plc_op	*op = NULL, *op2 = NULL, *n = NULL;
	json_t		*j2 = NULL, *doc = NULL;
	struct buf	 b1, b2;
	char		 did[PLC_DID_BUF];

	if (plc_op_from_json(j, &op, NULL) != PDS_OK)
		return;
	buf_init(&b1, 0);
	buf_init(&b2, 0);
	if (plc_op_to_json(op, &j2) != PDS_OK ||
	    plc_op_from_json(j2, &op2, NULL) != PDS_OK ||
	    plc_op_encode(op, true, &b1) != PDS_OK ||
	    plc_op_encode(op2, true, &b2) != PDS_OK || b1.len != b2.len ||
	    memcmp(b1.p, b2.p, b1.len) != 0)
		abort();
	if (op->prev == NULL && plc_op_did(op, did) != PDS_OK)
		abort();
	plc_op_check_submit(op, NULL);
	plc_op_verify(op, (const char *const *)op->rotation_keys,
	    op->n_rotation_keys, NULL, NULL);
	if (op->type != PLC_OP_TOMBSTONE) {
		if (plc_op_next(op, &n) != PDS_OK)
			abort();
		if (diddoc_from_plc_op(op, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa",
		    &doc) != PDS_OK)
			abort();
		check_doc(doc, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa");
		json_decref(doc);
	}
	plc_op_free(n);
	buf_clear(&b1);
	buf_clear(&b2);
	json_decref(j2);
	plc_op_free(op2);
	plc_op_free(op);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	json_t		*j;
	json_error_t	 err;
	const char	*id;
	char		*s;
	char		 out[DID_MAX + 1];

	if (len > DIDDOC_MAX_BYTES)
		return 0;
	diddoc_parse_atproto_did((const char *)data, len, out, sizeof(out));
	if ((s = malloc(len + 1)) != NULL) {
		memcpy(s, data, len);
		s[len] = '\0';
		diddoc_check_endpoint(s, out, sizeof(out), NULL);
		diddoc_web_url(s, out, sizeof(out));
		free(s);
	}
	if ((j = json_loadb((const char *)data, len, 0, &err)) == NULL)
		return 0;
	id = json_string_value(json_object_get(j, "id"));
	if (id != NULL && strlen(id) < 4096)
		check_doc(j, id);
	check_doc(j, "did:plc:7vxiehmfhw7obmh6vhv6vgvp");
	check_op(j);
	json_decref(j);
	return 0;
}
