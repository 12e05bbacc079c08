/* Unit tests: multibase, varints, SHA-256 and CIDs (atproto-notes §2, §14). */
#include <stdint.h>
#include <string.h>

#include "cid.h"
#include "err.h"
#include "multibase.h"
#include "t.h"

static void
test_cid_vectors(void)
{
	struct cid	 c, d;
	char		 s[CID_STR_MAX];
	uint8_t		 raw[64];
	const char	*why = NULL;
	const char	*link =
	    "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";

	t_group("cid vectors");
	CHECK(cid_parse(&c, link, strlen(link), &why) == PDS_OK, "%s", why);
	t_unhex(raw, sizeof(raw), "0171122065062a5a5a00fc16d73c6944237ccbc15b1c4a7234489336891d091741a239d0");
	CHECK(c.len == 36 && memcmp(c.b, raw, 36) == 0, "binary form");
	CHECK(cid_is_blessed(&c), "blessed");
	CHECK(cid_format(&c, s, sizeof(s)) == 59 && strcmp(s, link) == 0, "%s", s);

	cid_compute(&c, CID_CODEC_RAW, "hello world", 11);
	cid_format(&c, s, sizeof(s));
	CHECK(strcmp(s, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e") == 0, "%s", s);
	cid_compute(&c, CID_CODEC_RAW, "", 0);
	cid_format(&c, s, sizeof(s));
	CHECK(strcmp(s, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku") == 0, "%s", s);
	CHECK(cid_matches(&c, "", 0) && !cid_matches(&c, "x", 1), "matches");

	t_unhex(raw, sizeof(raw), "a16568656c6c6f65776f726c64");
	cid_compute(&c, CID_CODEC_DAGCBOR, raw, 13);
	cid_format(&c, s, sizeof(s));
	CHECK(strcmp(s, "bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae") == 0, "%s", s);
	CHECK(cid_parse(&d, s, strlen(s), NULL) == PDS_OK && cid_equal(&c, &d), "round trip");

	/* Refusals. */
	CHECK(cid_parse(&c, "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", 46, &why) != PDS_OK, "v0");
	CHECK(cid_parse(&c, link, strlen(link) - 1, &why) != PDS_OK, "truncated");
	CHECK(cid_parse(&c, "Bafy", 4, &why) != PDS_OK, "upper B");
	CHECK(cid_parse(&c, "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2aa", 60, &why) != PDS_OK, "trailing");
	CHECK(cid_parse(&c, "b", 1, &why) != PDS_OK, "empty");
	t_group_end();
}

static void
test_bases(void)
{
	uint8_t		 out[64], in[3] = { 0, 0, 1 };
	char		 s[128];
	uint64_t	 v;
	size_t		 n;
	long		 r;

	t_group("bases and varints");
	CHECK(b58_encode(s, sizeof(s), in, 3) == 3 && strcmp(s, "112") == 0, "%s", s);
	CHECK(b58_decode(out, sizeof(out), "112", 3) == 3 && memcmp(out, in, 3) == 0, "b58 zeros");
	CHECK(b58_decode(out, sizeof(out), "10l", 3) < 0, "b58 bad char");
	CHECK(b64_encode(s, sizeof(s), (const uint8_t *)"hello", 5) == 7 && strcmp(s, "aGVsbG8") == 0, "%s", s);
	CHECK(b64_decode(out, sizeof(out), "aGVsbG8=", 8) == 5, "padded ok");
	CHECK(b64_decode(out, sizeof(out), "aGVsbG9", 7) < 0, "nonzero pad bits");
	CHECK(b64url_decode(out, sizeof(out), "aGVsbG8=", 8) < 0, "url refuses =");
	CHECK(b64url_encode(s, sizeof(s), (const uint8_t *)"\xfb\xff", 2) == 3 && strcmp(s, "-_8") == 0, "%s", s);
	r = b32_encode(s, sizeof(s), (const uint8_t *)"f", 1);
	CHECK(r == 2 && strcmp(s, "my") == 0, "%s", s);
	CHECK(b32_decode(out, sizeof(out), "mz", 2) < 0, "b32 nonzero pad bits");
	CHECK(b32_decode(out, sizeof(out), "MY", 2) < 0, "b32 upper");
	{
		/* every length, whole groups of 8 and the rest, round trip */
		uint8_t	 raw[80], back[80];
		char	 e[160];
		size_t	 len, k;
		int	 good = 0, bad = 0, small = 0;
		long	 el;

		for (k = 0; k < sizeof(raw); k++)
			raw[k] = (uint8_t)(k * 37 + 11);
		for (len = 0; len <= sizeof(raw); len++) {
			el = b32_encode(e, sizeof(e), raw, len);
			if (el >= 0 && b32_decode(back, sizeof(back), e,
			    (size_t)el) == (long)len &&
			    memcmp(back, raw, len) == 0)
				good++;
			if (el >= 8) {
				e[el - 8] = 'A';	/* a bad symbol late */
				if (b32_decode(back, sizeof(back), e,
				    (size_t)el) == PDS_EINVAL)
					bad++;
				e[el - 8] = 'a';
				if (b32_decode(back, len - 1, e, (size_t)el) ==
				    PDS_ETOOBIG)
					small++;
			}
		}
		CHECK(good == (int)sizeof(raw) + 1 && bad == small &&
		    bad == (int)sizeof(raw) - 4, "b32 lengths 0-%zu: %d %d %d",
		    sizeof(raw), good, bad, small);
	}
	n = varint_encode(out, 300);
	CHECK(n == 2 && out[0] == 0xac && out[1] == 0x02, "varint 300");
	CHECK(varint_decode(out, n, &v) == 2 && v == 300, "varint back");
	out[0] = 0x80; out[1] = 0x00;
	CHECK(varint_decode(out, 2, &v) == PDS_ENONCANON, "varint overlong");
	CHECK(varint_decode(out, 1, &v) == PDS_ETRUNC, "varint truncated");
	t_group_end();
}

int
main(void)
{
	test_bases();
	test_cid_vectors();
	return t_done("test_cid");
}
