/*
 * test_pdsd_api: the helpers the XRPC handlers share that need no
 * request: api_parse_i64().
 */
#include <stdbool.h>
#include <stdint.h>

#include "../../pdsd/api.h"

#include "t.h"

static void
test_parse_i64(void)
{
	int64_t	 v = 7;

	t_group("api_parse_i64");
	CHECK(api_parse_i64("0", &v) && v == 0, "zero");
	CHECK(api_parse_i64("1700000000", &v) && v == 1700000000, "seconds");
	CHECK(api_parse_i64("-5", &v) && v == -5, "negative");
	CHECK(api_parse_i64("9223372036854775807", &v) && v == INT64_MAX,
	    "the largest");
	v = 7;
	CHECK(!api_parse_i64("9223372036854775808", &v) && v == 7,
	    "out of range, *out untouched");
	CHECK(!api_parse_i64(NULL, &v) && !api_parse_i64("", &v), "none");
	CHECK(!api_parse_i64("12x", &v) && !api_parse_i64("1 ", &v),
	    "more after the number");
	CHECK(!api_parse_i64("x", &v) && v == 7, "no digits");
	t_group_end();
}

int
main(void)
{
	test_parse_i64();
	return t_done("test_pdsd_api");
}
