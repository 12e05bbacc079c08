/*
 * test_err: pds_strerror(), struct pds_error and pds_errf().
 */
#include <stdbool.h>
#include <string.h>

#include "err.h"

#include "t.h"

static void
test_strerror(void)
{
	int	 c;
	bool	 all = true;

	t_group("strerror");
	for (c = PDS_OK; c >= PDS_E__MIN; c--)
		if (strcmp(pds_strerror(c), "unknown error") == 0)
			all = false;
	CHECK(all, "every code has its text");
	CHECK(strcmp(pds_strerror(PDS_E__MIN - 1), "unknown error") == 0,
	    "one below the last code");
	CHECK(strcmp(pds_strerror(1), "unknown error") == 0, "positive");
	t_group_end();
}

static void
test_error_set(void)
{
	struct pds_error e;
	char		 big[2000];

	t_group("pds_error_set");
	memset(&e, 0, sizeof(e));
	CHECK(pds_error_set(&e, PDS_ENOTFOUND, "RecordNotFound",
	    "Could not locate record: %s", "at://x") == PDS_ENOTFOUND,
	    "returns the code");
	CHECK(e.code == PDS_ENOTFOUND && strcmp(e.name, "RecordNotFound") == 0 &&
	    strcmp(e.msg, "Could not locate record: at://x") == 0,
	    "fills code, name and message: %d %s", e.code, e.msg);
	CHECK(pds_error_set(&e, PDS_EINVAL, NULL, NULL) == PDS_EINVAL &&
	    e.code == PDS_EINVAL && e.name == NULL && e.msg[0] == '\0',
	    "no name, no message: the earlier ones are gone");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	(void)pds_error_set(&e, PDS_ETOOBIG, NULL, "%s", big);
	CHECK(strlen(e.msg) == sizeof(e.msg) - 1, "a long message is cut");
	CHECK(pds_error_set(NULL, PDS_EIO, "X", "y %d", 1) == PDS_EIO,
	    "NULL error: only the code");
	pds_error_clear(&e);
	CHECK(e.code == PDS_OK && e.name == NULL && e.msg[0] == '\0',
	    "clear");
	pds_error_clear(NULL);
	CHECK(1, "clear(NULL)");
	t_group_end();
}

static void
test_errf(void)
{
	char	 msg[8];

	t_group("pds_errf");
	memset(msg, 'x', sizeof(msg));
	CHECK(pds_errf(msg, sizeof(msg), PDS_EINVAL, "n=%d", 42) == PDS_EINVAL,
	    "returns rc");
	CHECK(strcmp(msg, "n=42") == 0, "formats: %s", msg);
	CHECK(pds_errf(msg, sizeof(msg), PDS_ETOOBIG, "%s", "far too long") ==
	    PDS_ETOOBIG && strcmp(msg, "far too") == 0,
	    "a long message is cut: %s", msg);
	CHECK(pds_errf(msg, 0, PDS_EIO, "%s", "none") == PDS_EIO &&
	    strcmp(msg, "far too") == 0, "errlen 0: nothing written");
	CHECK(pds_errf(NULL, 10, PDS_OK, "%s", "none") == PDS_OK,
	    "NULL buffer: only rc");
	t_group_end();
}

int
main(void)
{
	test_strerror();
	test_error_set();
	test_errf();
	return t_done("test_err");
}
