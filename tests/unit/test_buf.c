/* Unit tests: the bounded buffer's printf (buf_printf on buf_vprintf). */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "t.h"

static void
test_printf(void)
{
	struct buf	 b;

	t_group("printf");
	buf_init(&b, 16);
	CHECK(buf_printf(&b, "%s", "") == PDS_OK && b.len == 0 && b.p != NULL &&
	    b.p[0] == '\0', "empty into a fresh buffer");
	CHECK(buf_printf(&b, "%s-%d", "ab", 12) == PDS_OK && b.len == 5 &&
	    strcmp((char *)b.p, "ab-12") == 0, "first: %.*s", (int)b.len,
	    (char *)b.p);
	CHECK(buf_printf(&b, "+%03u", 7u) == PDS_OK && b.len == 9 &&
	    strcmp((char *)b.p, "ab-12+007") == 0, "appended: %.*s",
	    (int)b.len, (char *)b.p);
	CHECK(buf_printf(&b, "%s", "0123456789") == PDS_ETOOBIG && b.len == 9 &&
	    strcmp((char *)b.p, "ab-12+007") == 0, "past max leaves it");
	CHECK(buf_printf(&b, "%s", "") == PDS_OK && b.len == 9, "empty");
	buf_clear(&b);
	t_group_end();
}

int
main(void)
{
	test_printf();
	return t_done("test_buf");
}
