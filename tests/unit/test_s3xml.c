/* Unit tests: reading S3's XML answers (libcommon/s3xml.c). */
#include <string.h>

#include "err.h"
#include "s3xml.h"
#include "t.h"

static void
test_answers(void)
{
	const char	*list = "<?xml version=\"1.0\"?><ListBucketResult>"
	    "<IsTruncated>true</IsTruncated><Contents><Key>blocks/did:plc:a/"
	    "b1</Key></Contents><Contents><Key>a&amp;b&lt;&#x41;&#66;"
	    "</Key></Contents><NextContinuationToken>1ue/x=</Next"
	    "ContinuationToken></ListBucketResult>";
	char		 out[64];
	size_t		 pos = 0;

	t_group("answers");
	CHECK(s3xml_next(list, strlen(list), "Key", &pos, out,
	    sizeof(out)) == PDS_OK && strcmp(out, "blocks/did:plc:a/b1") == 0,
	    "first key: %s", out);
	CHECK(s3xml_next(list, strlen(list), "Key", &pos, out,
	    sizeof(out)) == PDS_OK && strcmp(out, "a&b<AB") == 0,
	    "entities: %s", out);
	CHECK(s3xml_next(list, strlen(list), "Key", &pos, out,
	    sizeof(out)) == PDS_ENOTFOUND, "no third key");
	CHECK(s3xml_get(list, strlen(list), "NextContinuationToken", out,
	    sizeof(out)) == PDS_OK && strcmp(out, "1ue/x=") == 0, "token");
	CHECK(s3xml_get(list, strlen(list), "IsTruncated", out,
	    sizeof(out)) == PDS_OK && strcmp(out, "true") == 0, "truncated");
	CHECK(s3xml_get("<Error><Code>SignatureDoesNotMatch</Code></Error>",
	    49, "Code", out, sizeof(out)) == PDS_OK &&
	    strcmp(out, "SignatureDoesNotMatch") == 0, "error code");
	t_group_end();
}

static void
test_refusals(void)
{
	char	 out[8];

	t_group("refusals");
	CHECK(s3xml_get("<Key>abc", 8, "Key", out, sizeof(out)) ==
	    PDS_EINVAL, "no end tag");
	CHECK(s3xml_get("<Key>&bogus;</Key>", 18, "Key", out, sizeof(out)) ==
	    PDS_EINVAL, "unknown entity");
	CHECK(s3xml_get("<Key>&#0;</Key>", 15, "Key", out, sizeof(out)) ==
	    PDS_EINVAL, "NUL reference");
	CHECK(s3xml_get("<Key>&#xD800;</Key>", 19, "Key", out,
	    sizeof(out)) == PDS_EINVAL, "surrogate");
	CHECK(s3xml_get("<Key>12345678</Key>", 19, "Key", out,
	    sizeof(out)) == PDS_ETOOBIG, "too long for out");
	CHECK(s3xml_get("<Key>1234567</Key>", 18, "Key", out,
	    sizeof(out)) == PDS_OK && strcmp(out, "1234567") == 0, "just fits");
	CHECK(s3xml_get("<Key><a/></Key>", 15, "Key", out, sizeof(out)) ==
	    PDS_EINVAL, "not a text element");
	CHECK(s3xml_get("<Key>ab</Key>", 7, "Key", out, sizeof(out)) ==
	    PDS_EINVAL, "input cut before the end tag");
	CHECK(s3xml_get("<Ke", 3, "Key", out, sizeof(out)) == PDS_ENOTFOUND,
	    "input cut in the tag");
	t_group_end();
}

int
main(void)
{
	test_answers();
	test_refusals();
	return t_done("test_s3xml");
}
