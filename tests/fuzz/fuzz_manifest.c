/*
 * fuzz_manifest: arbitrary bytes as the manifest of a backup or an
 * export (read back by pdsctl restore and import).  Whatever
 * manifest_parse() accepts must have only plain relative paths, sorted
 * and distinct, sizes that add up, and every entry findable; entries
 * written back with manifest_entry() must parse to the same list.
 * The same bytes are also read as an export's signing key file
 * (exportkey.h): a key it accepts must be a key pair whose did:key is
 * the one it returned, and written back it must parse to the same key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "exportkey.h"
#include "keys.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct manifest *m)
{
	struct manifest	 again;
	json_t		*doc, *files;
	char		*s;
	int64_t		 sum = 0;
	size_t		 i;

	if ((files = json_array()) == NULL)
		return;
	for (i = 0; i < m->nfiles; i++) {
		if (!manifest_path_ok(m->files[i].path) ||
		    m->files[i].size < 0 ||
		    manifest_find(m, m->files[i].path) != &m->files[i])
			abort();
		if (i > 0 && strcmp(m->files[i - 1].path,
		    m->files[i].path) >= 0)
			abort();
		sum += m->files[i].size;
		json_array_append_new(files, manifest_entry(m->files[i].path,
		    m->files[i].size, m->files[i].sha256));
	}
	if (sum != m->bytes)
		abort();
	doc = json_pack("{s:s,s:i,s:o}", "format", "x", "version",
	    MANIFEST_VERSION, "files", files);
	if (doc == NULL || (s = json_dumps(doc, JSON_COMPACT)) == NULL) {
		json_decref(doc);
		return;
	}
	if (manifest_parse(s, strlen(s), "x", &again, NULL, 0) != PDS_OK ||
	    again.nfiles != m->nfiles || again.bytes != m->bytes)
		abort();
	for (i = 0; i < m->nfiles; i++)
		if (strcmp(again.files[i].path, m->files[i].path) != 0 ||
		    memcmp(again.files[i].sha256, m->files[i].sha256, 32) != 0)
			abort();
	manifest_clear(&again);
	free(s);
	json_decref(doc);
}

static void
check_key(const uint8_t *data, size_t len)
{
	struct pds_key	*key, *again;
	char		 didkey[KEY_DIDKEY_MAX], d2[KEY_DIDKEY_MAX], err[256];
	char		*text;
	size_t		 tlen;

	if (exportkey_parse((const char *)data, len, NULL, &key, didkey, err,
	    sizeof(err)) != PDS_OK) {
		if (key != NULL || didkey[0] != '\0')
			abort();
		return;
	}
	if (!key_has_private(key) || key_to_didkey(key, d2, sizeof(d2)) < 0 ||
	    strcmp(d2, didkey) != 0)
		abort();
	if (exportkey_format("did:plc:x", key, &text, &tlen) != PDS_OK) {
		key_free(key);
		return;
	}
	if (exportkey_parse(text, tlen, "did:plc:x", &again, d2, err,
	    sizeof(err)) != PDS_OK || !key_equal(key, again) ||
	    strcmp(d2, didkey) != 0)
		abort();
	free(text);
	key_free(again);
	key_free(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct manifest	 m;
	char		 err[256];

	check_key(data, len);
	if (manifest_parse((const char *)data, len, NULL, &m, err,
	    sizeof(err)) == PDS_OK)
		check(&m);
	manifest_clear(&m);
	return 0;
}
