/* Unit tests: CAR v1 reader and writer (atproto-notes §3, V5, V6, V9, V10). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "car.h"
#include "cid.h"
#include "err.h"
#include "multibase.h"
#include "t.h"

/* V9: signed commit (188 bytes). */
static const char commit_hex[] =
    "a66364696478206469643a706c633a65777669376e787a796f756e367a6878726873"
    "36346f697a637265766d336b6875776334346332323237637369675840966bf24b76"
    "b984bc0456a41bedbbddb90a3333f4b868f17096462bc5e09a91aa467c32a94805ca"
    "a35930a361c7401f807c95351661682302a89e2d0285d3caea6464617461d82a5825"
    "000171122059c9c2fcac488eacc787a1f836252d2d6c2d2903c07515828a64a2e94c"
    "1e48886470726576f66776657273696f6e03";
static const char commit_cid[] =
    "bafyreia5bproms2p4fiwschs6a6yh2tiqxfcd5towup7xtn4swzlrdylau";
/* V6: one-entry MST node (93 bytes). */
static const char node_hex[] =
    "a2616581a4616b58206170702e62736b792e666565642e706f73742f336b68757763"
    "343463323232326170006174f66176d82a5825000171122080b4d87f9ec58c1e0641"
    "4e1e41d8fb41094f223c9a4629299ae7304e8f074b2a616cf6";
static const char node_cid[] =
    "bafyreiczzhbpzlcir2wmpb5b7a3ckljnnqwssa6aoukyfcteuluuyhsira";
/* V5: record (79 bytes). */
static const char record_hex[] =
    "a364746578746b68656c6c6f20776f726c64652474797065726170702e62736b792e"
    "666565642e706f7374696372656174656441747818323032342d30312d3031543030"
    "3a30303a30302e3030305a";
static const char record_cid[] =
    "bafyreieawtmh7hwfrqpamqkodza5r62bbfhsepe2iyustgxhgbhi6b2lfi";
/* V10: the header, after its varint 3a. */
static const char header_hex[] =
    "a265726f6f747381d82a582500017112201d0be2e64b4fe1516908f2f03d83ea6885"
    "ca21f66eb51ffbcdbc95b2b88f0b056776657273696f6e01";

struct block {
	uint8_t		 data[256];
	size_t		 len;
	struct cid	 cid;
};

static struct block	 blocks[3];	/* commit, node, record */
static uint8_t		 car[1024];
static size_t		 carlen;

static void
setup(void)
{
	const char	*hex[3] = { commit_hex, node_hex, record_hex };
	const char	*cids[3] = { commit_cid, node_cid, record_cid };
	const size_t	 lens[3] = { 188, 93, 79 };
	char		 s[CID_STR_MAX];
	struct cid	 want;
	const char	*why = NULL;
	int		 i;

	t_group("V5/V6/V9 blocks");
	for (i = 0; i < 3; i++) {
		blocks[i].len = (size_t)t_unhex(blocks[i].data,
		    sizeof(blocks[i].data), hex[i]);
		CHECK(blocks[i].len == lens[i], "block %d is %zu bytes", i,
		    blocks[i].len);
		cid_compute(&blocks[i].cid, CID_CODEC_DAGCBOR, blocks[i].data,
		    blocks[i].len);
		CHECK(cid_parse(&want, cids[i], strlen(cids[i]), &why) ==
		    PDS_OK && cid_equal(&want, &blocks[i].cid),
		    "block %d CID %s", i,
		    (cid_format(&blocks[i].cid, s, sizeof(s)), s));
	}
	t_group_end();
}

static void
test_v10_write(void)
{
	struct buf	 b;
	uint8_t		 hdr[128];
	long		 hl;
	int		 i;

	t_group("V10 write");
	buf_init(&b, 0);
	hl = t_unhex(hdr, sizeof(hdr), header_hex);
	CHECK(hl == 58, "header hex is %ld bytes", hl);
	CHECK(car_write_header(&b, &blocks[0].cid, 1) == PDS_OK, "header");
	CHECK(b.len == 59 && b.p[0] == 0x3a && memcmp(b.p + 1, hdr, 58) == 0,
	    "header bytes (%zu)", b.len);
	for (i = 0; i < 3; i++)
		CHECK(car_write_block(&b, &blocks[i].cid, blocks[i].data,
		    blocks[i].len) == PDS_OK, "block %d", i);
	CHECK(b.len == 532, "CAR is %zu bytes, want 532", b.len);
	CHECK(b.len == 532 && b.p[59] == 0xe0 && b.p[60] == 0x01 &&
	    memcmp(b.p + 61, blocks[0].cid.b, 36) == 0 &&
	    memcmp(b.p + 97, blocks[0].data, 188) == 0, "commit section");
	CHECK(b.len == 532 && b.p[285] == 0x81 && b.p[286] == 0x01 &&
	    memcmp(b.p + 287, blocks[1].cid.b, 36) == 0 &&
	    memcmp(b.p + 323, blocks[1].data, 93) == 0, "node section");
	CHECK(b.len == 532 && b.p[416] == 0x73 &&
	    memcmp(b.p + 417, blocks[2].cid.b, 36) == 0 &&
	    memcmp(b.p + 453, blocks[2].data, 79) == 0, "record section");
	if (b.len <= sizeof(car)) {
		memcpy(car, b.p, b.len);
		carlen = b.len;
	}
	buf_clear(&b);

	/* A too-small buffer fails and is left as it was. */
	buf_init(&b, 100);
	CHECK(car_write_header(&b, &blocks[0].cid, 1) == PDS_OK, "small hdr");
	CHECK(car_write_block(&b, &blocks[0].cid, blocks[0].data,
	    blocks[0].len) == PDS_ETOOBIG && b.len == 59, "over max");
	buf_clear(&b);
	t_group_end();
}

/* Read a whole CAR; returns blocks read, or the error. */
static int
read_all(struct car_reader *r, int *nblocks, const char **why)
{
	struct cid	 c;
	const uint8_t	*d;
	size_t		 len;
	int		 rc;

	*nblocks = 0;
	while ((rc = car_next(r, &c, &d, &len, why)) == 1) {
		if (*nblocks < 3 && (!cid_equal(&c, &blocks[*nblocks].cid) ||
		    len != blocks[*nblocks].len ||
		    memcmp(d, blocks[*nblocks].data, len) != 0))
			return PDS_EINTERNAL;
		(*nblocks)++;
	}
	return rc;
}

struct chunked {
	const uint8_t	*p;
	size_t		 len, off, step;
	int		 fail_at;	/* return PDS_EIO at this offset, or -1 */
};

/* A read callback handing out at most `step` bytes per call. */
static long
chunked_read(void *arg, uint8_t *buf, size_t len)
{
	struct chunked	*c = arg;
	size_t		 n = c->len - c->off;

	if (c->fail_at >= 0 && c->off >= (size_t)c->fail_at)
		return PDS_EIO;
	if (n > len)
		n = len;
	if (n > c->step)
		n = c->step;
	memcpy(buf, c->p + c->off, n);
	c->off += n;
	return (long)n;
}

static void
test_v10_read(void)
{
	struct car_reader r;
	struct chunked	 ch;
	const char	*why = NULL;
	size_t		 steps[] = { 1, 2, 7, 36, 100, 4096 };
	size_t		 i;
	int		 n, rc;

	t_group("V10 read");
	CHECK(car_reader_open_mem(&r, car, carlen, NULL, &why) == PDS_OK,
	    "open: %s", why);
	CHECK(r.nroots == 1 && cid_equal(&r.roots[0], &blocks[0].cid), "root");
	rc = read_all(&r, &n, &why);
	CHECK(rc == 0 && n == 3, "rc %d n %d: %s", rc, n, rc ? why : "");
	CHECK(r.total == 532, "total %llu", (unsigned long long)r.total);
	car_reader_close(&r);
	car_reader_close(&r);	/* twice is fine */

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		memset(&ch, 0, sizeof(ch));
		ch.p = car;
		ch.len = carlen;
		ch.step = steps[i];
		ch.fail_at = -1;
		rc = car_reader_open(&r, chunked_read, &ch, NULL, &why);
		CHECK(rc == PDS_OK && r.nroots == 1, "stream open step %zu", steps[i]);
		if (rc != PDS_OK)
			continue;
		rc = read_all(&r, &n, &why);
		CHECK(rc == 0 && n == 3, "stream step %zu: rc %d n %d",
		    steps[i], rc, n);
		car_reader_close(&r);
	}
	t_group_end();
}

static int
buf_sink(void *arg, const uint8_t *p, size_t len)
{
	return buf_append(arg, p, len);
}

static void
test_streaming_io(void)
{
	struct car_reader r;
	struct buf	 b;
	FILE		*f;
	const char	*why = NULL;
	int		 i, n, rc;

	t_group("callback and stdio");
	buf_init(&b, 0);
	CHECK(car_emit_header(buf_sink, &b, &blocks[0].cid, 1) == PDS_OK, "hdr");
	for (i = 0; i < 3; i++)
		CHECK(car_emit_block(buf_sink, &b, &blocks[i].cid,
		    blocks[i].data, blocks[i].len) == PDS_OK, "block %d", i);
	CHECK(b.len == carlen && memcmp(b.p, car, carlen) == 0,
	    "emit matches write");
	buf_clear(&b);

	f = tmpfile();
	CHECK(f != NULL, "tmpfile");
	if (f == NULL) {
		t_group_end();
		return;
	}
	CHECK(car_emit_header(car_write_stdio, f, &blocks[0].cid, 1) == PDS_OK,
	    "file hdr");
	for (i = 0; i < 3; i++)
		car_emit_block(car_write_stdio, f, &blocks[i].cid,
		    blocks[i].data, blocks[i].len);
	CHECK(ftell(f) == 532, "file size %ld", ftell(f));
	rewind(f);
	rc = car_reader_open(&r, car_read_stdio, f, NULL, &why);
	CHECK(rc == PDS_OK, "file open: %s", why);
	if (rc == PDS_OK) {
		rc = read_all(&r, &n, &why);
		CHECK(rc == 0 && n == 3, "file read rc %d n %d", rc, n);
		car_reader_close(&r);
	}
	fclose(f);
	t_group_end();
}

static void
test_corruption(void)
{
	struct car_reader r;
	uint8_t		 bad[1024];
	const char	*why = NULL;
	size_t		 cut;
	int		 n, rc, errs = 0, clean = 0, wrong = 0;

	t_group("corruption");
	/* A flipped bit in the record's data, then in the node's CID. */
	memcpy(bad, car, carlen);
	bad[500] ^= 0x01;
	CHECK(car_reader_open_mem(&r, bad, carlen, NULL, &why) == PDS_OK, "open");
	rc = read_all(&r, &n, &why);
	CHECK(rc == PDS_EMISMATCH && n == 2, "data flip: rc %d n %d", rc, n);
	/* The error sticks. */
	{
		struct cid c;
		const uint8_t *d;
		size_t len;
		CHECK(car_next(&r, &c, &d, &len, &why) == PDS_EMISMATCH,
		    "sticky");
	}
	car_reader_close(&r);

	memcpy(bad, car, carlen);
	bad[300] ^= 0x80;		/* inside the node CID's digest */
	CHECK(car_reader_open_mem(&r, bad, carlen, NULL, &why) == PDS_OK, "open");
	rc = read_all(&r, &n, &why);
	CHECK(rc == PDS_EMISMATCH && n == 1, "CID flip: rc %d n %d", rc, n);
	car_reader_close(&r);

	/*
	 * Truncation at every length: an error, except at a section
	 * boundary, where it is a shorter but well-formed CAR.
	 */
	for (cut = 0; cut < carlen; cut++) {
		memcpy(bad, car, cut);
		rc = car_reader_open_mem(&r, bad, cut, NULL, &why);
		if (rc == PDS_OK) {
			rc = read_all(&r, &n, &why);
			car_reader_close(&r);
		}
		if (rc < 0 && rc != PDS_EINTERNAL)
			errs++;
		else if (rc == 0 && (cut == 59 || cut == 285 || cut == 416))
			clean++;
		else
			wrong++;
	}
	CHECK(errs == 529 && clean == 3 && wrong == 0,
	    "truncations: %d errors, %d clean, %d wrong", errs, clean, wrong);

	/* The same through a stream, one byte at a time. */
	errs = clean = wrong = 0;
	for (cut = 0; cut < carlen; cut++) {
		struct chunked ch = { car, cut, 0, 1, -1 };

		rc = car_reader_open(&r, chunked_read, &ch, NULL, &why);
		if (rc == PDS_OK) {
			rc = read_all(&r, &n, &why);
			car_reader_close(&r);
		}
		if (rc < 0 && rc != PDS_EINTERNAL)
			errs++;
		else if (rc == 0 && (cut == 59 || cut == 285 || cut == 416))
			clean++;
		else
			wrong++;
	}
	CHECK(errs == 529 && clean == 3 && wrong == 0,
	    "stream truncations: %d errors, %d clean, %d wrong", errs, clean,
	    wrong);

	/* A read error surfaces as the callback's code. */
	{
		struct chunked ch = { car, carlen, 0, 64, 300 };

		rc = car_reader_open(&r, chunked_read, &ch, NULL, &why);
		CHECK(rc == PDS_OK, "open");
		if (rc == PDS_OK) {
			rc = read_all(&r, &n, &why);
			CHECK(rc == PDS_EIO, "read error: rc %d", rc);
			car_reader_close(&r);
		}
	}
	t_group_end();
}

/* Open hdr||tail in memory and return the first car_next result. */
static int
first_block(const uint8_t *tail, size_t tlen, const struct car_opts *o,
    const char **why)
{
	struct car_reader r;
	uint8_t		 in[512];
	struct cid	 c;
	const uint8_t	*d;
	size_t		 len;
	int		 rc;

	memcpy(in, car, 59);
	memcpy(in + 59, tail, tlen);
	if ((rc = car_reader_open_mem(&r, in, 59 + tlen, o, why)) != PDS_OK)
		return rc;
	rc = car_next(&r, &c, &d, &len, why);
	car_reader_close(&r);
	return rc;
}

static void
test_sections(void)
{
	struct car_opts	 o;
	struct car_reader r;
	uint8_t		 t[256];
	const char	*why = NULL;
	int		 n, rc;

	t_group("bad sections");
	t[0] = 0x00;
	CHECK(first_block(t, 1, NULL, &why) == PDS_EINVAL, "zero-length section");
	t[0] = 0x80; t[1] = 0x00;
	CHECK(first_block(t, 2, NULL, &why) == PDS_ENONCANON, "overlong varint");
	t[0] = 0x80;
	CHECK(first_block(t, 1, NULL, &why) == PDS_ETRUNC, "varint cut");
	memset(t, 0xff, 10);
	CHECK(first_block(t, 10, NULL, &why) == PDS_ETOOBIG, "varint too long");
	/* CIDv0 multihash in place of a CID. */
	t[0] = 35; t[1] = 0x12; t[2] = 0x20;
	memset(t + 3, 0, 32);
	CHECK(first_block(t, 35, NULL, &why) < 0, "CIDv0");
	/* A section shorter than its CID. */
	t[0] = 10; memcpy(t + 1, blocks[2].cid.b, 10);
	CHECK(first_block(t, 11, NULL, &why) == PDS_EINVAL, "short CID: %s", why);
	/* CID version 2. */
	t[0] = 5; t[1] = 0x02; t[2] = 0x55; t[3] = 0x00; t[4] = 0x01; t[5] = 'a';
	CHECK(first_block(t, 6, NULL, &why) == PDS_EUNSUPP, "CID version");
	/* Empty data is a block: the raw CID of no bytes. */
	cid_compute(&blocks[0].cid, CID_CODEC_RAW, "", 0);
	t[0] = 36; memcpy(t + 1, blocks[0].cid.b, 36);
	CHECK(first_block(t, 37, NULL, &why) == 1, "empty block: %s", why);
	cid_compute(&blocks[0].cid, CID_CODEC_DAGCBOR, blocks[0].data,
	    blocks[0].len);
	/* An identity-hash CID: refused, or kept with the flag. */
	t[0] = 9; t[1] = 0x01; t[2] = 0x55; t[3] = 0x00; t[4] = 0x05;
	memcpy(t + 5, "hello", 5);
	CHECK(first_block(t, 10, NULL, &why) == PDS_EUNSUPP, "identity hash");
	memset(&o, 0, sizeof(o));
	o.flags = CAR_KEEP_UNVERIFIED;
	CHECK(first_block(t, 10, &o, &why) == 1, "kept: %s", why);
	/* A sha2-256 CID with a two-byte codec varint (dag-json 0x0129). */
	{
		uint8_t	 d[32];
		sha256(d, "{}", 2);
		t[0] = 39; t[1] = 0x01; t[2] = 0xa9; t[3] = 0x02; t[4] = 0x12;
		t[5] = 0x20; memcpy(t + 6, d, 32); memcpy(t + 38, "{}", 2);
		CHECK(first_block(t, 40, NULL, &why) == 1, "2-byte codec: %s",
		    why);
		t[39] = ']';
		CHECK(first_block(t, 40, NULL, &why) == PDS_EMISMATCH,
		    "2-byte codec mismatch");
	}
	t_group_end();

	t_group("limits");
	memset(&o, 0, sizeof(o));
	o.block_max = 100;
	CHECK(car_reader_open_mem(&r, car, carlen, &o, &why) == PDS_OK, "open");
	rc = read_all(&r, &n, &why);
	CHECK(rc == PDS_ETOOBIG && n == 0, "block_max: rc %d n %d", rc, n);
	car_reader_close(&r);
	o.block_max = 188;
	CHECK(car_reader_open_mem(&r, car, carlen, &o, &why) == PDS_OK, "open");
	rc = read_all(&r, &n, &why);
	CHECK(rc == 0 && n == 3, "block_max exact: rc %d n %d", rc, n);
	car_reader_close(&r);
	memset(&o, 0, sizeof(o));
	o.total_max = 531;
	CHECK(car_reader_open_mem(&r, car, carlen, &o, &why) == PDS_OK, "open");
	rc = read_all(&r, &n, &why);
	CHECK(rc == PDS_ETOOBIG && n == 2, "total_max: rc %d n %d", rc, n);
	car_reader_close(&r);
	o.total_max = 532;
	CHECK(car_reader_open_mem(&r, car, carlen, &o, &why) == PDS_OK, "open");
	rc = read_all(&r, &n, &why);
	CHECK(rc == 0 && n == 3, "total_max exact: rc %d n %d", rc, n);
	car_reader_close(&r);
	o.total_max = 50;
	CHECK(car_reader_open_mem(&r, car, carlen, &o, &why) == PDS_ETOOBIG,
	    "total_max < header");
	memset(&o, 0, sizeof(o));
	o.header_max = 57;
	CHECK(car_reader_open_mem(&r, car, carlen, &o, &why) == PDS_ETOOBIG,
	    "header_max");
	t_group_end();
}

static int
open_hex(const char *hex, struct car_reader *r, const char **why)
{
	uint8_t	 in[512];
	long	 n = t_unhex(in, sizeof(in), hex);

	if (n < 0)
		return PDS_EINTERNAL;
	return car_reader_open_mem(r, in, (size_t)n, NULL, why);
}

static void
test_headers(void)
{
	struct car_reader r;
	struct buf	 b;
	struct cid	 roots[3];
	const char	*why = NULL;
	int		 rc;

	t_group("headers");
	roots[0] = blocks[2].cid;
	roots[1] = blocks[0].cid;
	roots[2] = blocks[1].cid;
	buf_init(&b, 0);
	CHECK(car_write_header(&b, roots, 3) == PDS_OK, "write 3 roots");
	rc = car_reader_open_mem(&r, b.p, b.len, NULL, &why);
	CHECK(rc == PDS_OK && r.nroots == 3 &&
	    cid_equal(&r.roots[0], &roots[0]) &&
	    cid_equal(&r.roots[1], &roots[1]) &&
	    cid_equal(&r.roots[2], &roots[2]), "3 roots listed in order");
	if (rc == PDS_OK)
		car_reader_close(&r);
	buf_reset(&b);
	CHECK(car_write_header(&b, NULL, 0) == PDS_OK, "write 0 roots");
	/* {"roots":[],"version":1} */
	CHECK(b.len == 18 && b.p[0] == 17 && b.p[1] == 0xa2 && b.p[8] == 0x80,
	    "0-root bytes");
	rc = car_reader_open_mem(&r, b.p, b.len, NULL, &why);
	CHECK(rc == PDS_OK && r.nroots == 0, "0 roots read");
	if (rc == PDS_OK) {
		struct cid c;
		const uint8_t *d;
		size_t len;
		CHECK(car_next(&r, &c, &d, &len, &why) == 0, "no blocks");
		car_reader_close(&r);
	}
	buf_clear(&b);

	CHECK(car_reader_open_mem(&r, NULL, 0, NULL, &why) == PDS_ETRUNC, "empty");
	CHECK(open_hex("00", &r, &why) == PDS_EINVAL, "zero header length");
	CHECK(open_hex("05a1", &r, &why) == PDS_ETRUNC, "header cut");
	/* CARv2 pragma: {"version":2}. */
	CHECK(open_hex("0aa16776657273696f6e02", &r, &why) == PDS_EUNSUPP,
	    "version 2");
	/* {"roots":[],"version":"1"} */
	CHECK(open_hex("12a265726f6f7473806776657273696f6e6131", &r, &why) ==
	    PDS_EINVAL, "string version");
	/* {"version":1} (no roots) */
	CHECK(open_hex("0aa16776657273696f6e01", &r, &why) == PDS_EINVAL,
	    "no roots");
	/* {"roots":[1],"version":1} */
	CHECK(open_hex("12a265726f6f7473810167" "76657273696f6e01", &r, &why) ==
	    PDS_EINVAL, "root not a link");
	/* [] */
	CHECK(open_hex("0180", &r, &why) == PDS_EINVAL, "not a map");
	/* Trailing byte inside the header length. */
	CHECK(open_hex("12a265726f6f7473806776657273696f6e0100", &r, &why) < 0,
	    "trailing header byte");
	/* Non-canonical key order: version before roots. */
	CHECK(open_hex("11a26776657273696f6e0165726f6f747380", &r, &why) < 0,
	    "key order");
	t_group_end();
}

int
main(void)
{
	setup();
	test_v10_write();
	test_v10_read();
	test_streaming_io();
	test_corruption();
	test_sections();
	test_headers();
	return t_done("test_car");
}
