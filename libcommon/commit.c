/*
 * commit: encode, sign, decode and verify repository commits.
 */
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "cbor.h"
#include "commit.h"
#include "err.h"
#include "keys.h"
#include "syntax.h"
#include "tid.h"

int
commit_init(struct commit *c, const char *did, const char *rev,
    const struct cid *data)
{
	size_t	 dl = strlen(did), rl = strlen(rev);

	memset(c, 0, sizeof(*c));
	if (dl == 0 || dl > COMMIT_DID_MAX || !syntax_is_did(did, dl))
		return PDS_EINVAL;
	if (rl != COMMIT_REV_MAX || !tid_valid(rev, rl))
		return PDS_EINVAL;
	memcpy(c->did, did, dl + 1);
	memcpy(c->rev, rev, rl + 1);
	c->has_rev = true;
	c->version = 3;
	c->data = *data;
	return PDS_OK;
}

/* Both encodings: key order did, rev, [sig,] data, prev, version. */
static int
encode(const struct commit *c, struct buf *b, bool with_sig)
{
	size_t	 n = 4 + (c->has_rev ? 1 : 0) + (with_sig ? 1 : 0);

	cbor_put_map(b, n);
	cbor_put_text(b, "did", 3);
	cbor_put_str(b, c->did);
	if (c->has_rev) {
		cbor_put_text(b, "rev", 3);
		cbor_put_str(b, c->rev);
	}
	if (with_sig) {
		cbor_put_text(b, "sig", 3);
		cbor_put_bytes(b, c->sig, c->siglen);
	}
	cbor_put_text(b, "data", 4);
	cbor_put_link(b, &c->data);
	cbor_put_text(b, "prev", 4);
	if (c->has_prev)
		cbor_put_link(b, &c->prev);
	else
		cbor_put_null(b);
	cbor_put_text(b, "version", 7);
	cbor_put_int(b, c->version);
	return cbor_put_error(b);
}

int
commit_encode_unsigned(const struct commit *c, struct buf *b)
{
	return encode(c, b, false);
}

int
commit_sign(struct commit *c, const struct pds_key *k)
{
	struct buf	 b;
	int		 rc;

	buf_init(&b, 0);
	if ((rc = encode(c, &b, false)) == PDS_OK &&
	    (rc = key_sign(k, b.p, b.len, c->sig)) == PDS_OK)
		c->siglen = KEY_SIG_LEN;
	buf_clear(&b);
	return rc;
}

int
commit_encode(const struct commit *c, struct buf *b, struct cid *cid)
{
	size_t	 start = b->len;
	int	 rc;

	if (c->siglen == 0)
		return PDS_EINVAL;
	if ((rc = encode(c, b, true)) != PDS_OK)
		return rc;
	if (cid != NULL)
		cid_compute(cid, CID_CODEC_DAGCBOR, b->p + start,
		    b->len - start);
	return PDS_OK;
}

int
commit_verify(const struct commit *c, const struct pds_key *k)
{
	struct buf	 b;
	int		 rc;

	if (c->siglen != KEY_SIG_LEN)
		return PDS_ECRYPTO;
	buf_init(&b, 0);
	if ((rc = encode(c, &b, false)) == PDS_OK)
		rc = key_verify(k, b.p, b.len, c->sig, c->siglen) == PDS_OK ?
		    PDS_OK : PDS_ECRYPTO;
	buf_clear(&b);
	return rc;
}

static bool
text_is(const struct dm_entry *e, const char *s)
{
	return e->klen == strlen(s) && memcmp(e->key, s, e->klen) == 0;
}

/* The fields of a decoded commit v, into c (zeroed). */
static int
commit_read(void *arg, const struct dm_value *v, const char **why)
{
	struct commit		*c = arg;
	const struct dm_value	*f;
	size_t			 i;
	bool			 seen_did = false, seen_data = false;
	bool			 seen_prev = false, seen_ver = false;
	bool			 seen_sig = false;

	if (v->type != DM_MAP)
		return pds_fail(why, PDS_EINVAL, "commit is not a map");
	for (i = 0; i < v->u.map.n; i++) {
		const struct dm_entry *e = &v->u.map.e[i];
		f = e->val;
		if (text_is(e, "did")) {
			if (f->type != DM_STRING || f->u.s.len == 0 ||
			    f->u.s.len > COMMIT_DID_MAX ||
			    memchr(f->u.s.p, 0, f->u.s.len) != NULL)
				return pds_fail(why, PDS_EINVAL,
				    "commit did is not a DID");
			memcpy(c->did, f->u.s.p, f->u.s.len);
			c->did[f->u.s.len] = '\0';
			seen_did = true;
		} else if (text_is(e, "rev")) {
			if (f->type != DM_STRING ||
			    !tid_valid((const char *)f->u.s.p, f->u.s.len))
				return pds_fail(why, PDS_EINVAL,
				    "commit rev is not a TID");
			memcpy(c->rev, f->u.s.p, f->u.s.len);
			c->rev[f->u.s.len] = '\0';
			c->has_rev = true;
		} else if (text_is(e, "sig")) {
			if (f->type != DM_BYTES || f->u.s.len != KEY_SIG_LEN)
				return pds_fail(why, PDS_EINVAL,
				    "commit sig is not 64 bytes");
			memcpy(c->sig, f->u.s.p, f->u.s.len);
			c->siglen = f->u.s.len;
			seen_sig = true;
		} else if (text_is(e, "data")) {
			if (f->type != DM_LINK || !cid_is_blessed(&f->u.link) ||
			    cid_codec(&f->u.link) != CID_CODEC_DAGCBOR)
				return pds_fail(why, PDS_EINVAL,
				    "commit data is not a dag-cbor link");
			c->data = f->u.link;
			seen_data = true;
		} else if (text_is(e, "prev")) {
			if (f->type == DM_LINK) {
				c->has_prev = true;
				c->prev = f->u.link;
			} else if (f->type != DM_NULL)
				return pds_fail(why, PDS_EINVAL,
				    "commit prev is not a link or null");
			seen_prev = true;
		} else if (text_is(e, "version")) {
			if (f->type != DM_INT ||
			    (f->u.i != 2 && f->u.i != 3))
				return pds_fail(why, PDS_EUNSUPP,
				    "commit version is not 2 or 3");
			c->version = (int)f->u.i;
			seen_ver = true;
		} else
			return pds_fail(why, PDS_EINVAL,
			    "unknown key in commit");
	}
	if (!seen_did || !seen_data || !seen_ver || !seen_sig)
		return pds_fail(why, PDS_EINVAL,
		    "commit lacks did, data, version or sig");
	if (c->version == 3 && (!c->has_rev || !seen_prev))
		return pds_fail(why, PDS_EINVAL,
		    "version 3 commit lacks rev or prev");
	return PDS_OK;
}

int
commit_decode(struct commit *c, const uint8_t *in, size_t len,
    const char **why)
{
	memset(c, 0, sizeof(*c));
	return dm_decode_read(in, len, (size_t)1 << 20, commit_read, c, why);
}

int
commit_make(const char *did, const char *rev, const struct cid *data,
    const struct pds_key *k, struct buf *out, struct cid *cid)
{
	struct commit	 c;
	int		 rc;

	if ((rc = commit_init(&c, did, rev, data)) != PDS_OK ||
	    (rc = commit_sign(&c, k)) != PDS_OK)
		return rc;
	return commit_encode(&c, out, cid);
}
