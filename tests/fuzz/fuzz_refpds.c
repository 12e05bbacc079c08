/*
 * fuzz_refpds: what pdsctl import-reference and the login path parse
 * out of a reference PDS's files (libcommon/refpds.c).  The first byte
 * picks the parser: 0 a password hash string ("<salt>:<hash>", which
 * must format back to itself when accepted), 1 a sequencer event body
 * (seq and time added; the result must decode, be a map and hold both),
 * 2 a stored preference (name, NUL, JSON).  Must never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cbor.h"
#include "err.h"
#include "refpds.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
one_hash(const uint8_t *p, size_t n)
{
	struct refpds_hash	 h;
	char			 s[REFPDS_HASH_STR + 1];

	if (refpds_hash_parse((const char *)p, n, &h) != PDS_OK)
		return;
	refpds_hash_format(&h, s);
	if (n != REFPDS_HASH_STR || memcmp(s, p, n) != 0)
		abort();
}

static void
one_event(const uint8_t *p, size_t n)
{
	struct dm_arena	*a;
	struct dm_value	*m, *seq;
	struct buf	 out;
	const char	*why = NULL;

	buf_init(&out, 0);
	if (refpds_event_convert(p, n, 12345, "2026-01-02T03:04:05.678Z",
	    &out, &why) == PDS_OK) {
		if ((a = dm_arena_new()) == NULL)
			abort();
		if (dm_decode(a, out.p, out.len, &m, &why) != PDS_OK ||
		    m->type != DM_MAP || (seq = dm_map_get(m, "seq")) ==
		    NULL || seq->type != DM_INT || seq->u.i != 12345 ||
		    dm_map_get(m, "time") == NULL)
			abort();
		dm_arena_free(a);
	}
	buf_clear(&out);
}

static void
one_pref(const uint8_t *p, size_t n)
{
	const uint8_t	*nul = memchr(p, '\0', n);
	const char	*why = NULL;

	if (nul == NULL)
		return;
	(void)refpds_pref_check((const char *)p, (const char *)nul + 1,
	    n - (size_t)(nul - p) - 1, &why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		one_hash(data + 1, len - 1);
		break;
	case 1:
		one_event(data + 1, len - 1);
		break;
	default:
		one_pref(data + 1, len - 1);
		break;
	}
	return 0;
}
