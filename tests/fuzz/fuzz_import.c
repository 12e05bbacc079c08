/*
 * fuzz_import: repo_import() on arbitrary CAR bytes, without a key
 * check, with record checking on.  Must never crash or leak; when it
 * accepts, the counts must agree with the callbacks.
 */
#include <stdint.h>
#include <stdlib.h>

#include "car.h"
#include "err.h"
#include "repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
on_record(void *arg, const uint8_t *key, size_t klen, const struct cid *c,
    const uint8_t *d, size_t len)
{
	(*(size_t *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct car_reader	 r;
	struct repo_import	 info;
	const char		*why = NULL;
	size_t			 n = 0;

	if (car_reader_open_mem(&r, data, len, NULL, &why) != PDS_OK)
		return 0;
	if (repo_import(&r, NULL, NULL, REPO_IMPORT_CHECK_RECORDS, on_record,
	    &n, &info, &why) == PDS_OK && (n != info.records ||
	    info.missing != 0))
		abort();
	car_reader_close(&r);
	return 0;
}
