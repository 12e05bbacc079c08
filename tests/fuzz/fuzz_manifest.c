/*
 * fuzz_manifest: arbitrary bytes as the manifest of a backup or an
 * export (read back by pdsctl restore and import).  Whatever
 * manifest_parse() accepts must have only plain relative paths, sorted
 * and distinct, sizes that add up, and every entry findable; entries
 * written back with manifest_entry() must parse to the same list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct manifest	 m;
	char		 err[256];

	if (manifest_parse((const char *)data, len, NULL, &m, err,
	    sizeof(err)) == PDS_OK)
		check(&m);
	manifest_clear(&m);
	return 0;
}
