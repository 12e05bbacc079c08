/*
 * fuzz_car: read the input as a CAR through the in-memory reader and
 * iterate every block.  Must never crash or leak, whatever the bytes.
 * A second pass reads the same bytes through a callback that hands them
 * out a few at a time, and must reach the same outcome.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "car.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static volatile uint8_t	 sink;

struct src {
	const uint8_t	*p;
	size_t		 len, off;
};

static long
src_read(void *arg, uint8_t *buf, size_t len)
{
	struct src	*s = arg;
	size_t		 n = s->len - s->off;

	/* An awkward chunk size, to cross every boundary mid-item. */
	if (n > 13)
		n = 13;
	if (n > len)
		n = len;
	memcpy(buf, s->p + s->off, n);
	s->off += n;
	return (long)n;
}

/* Returns the final car_next() result and counts the blocks. */
static int
drain(struct car_reader *r, size_t *nblocks, uint64_t *bytes)
{
	struct cid	 c;
	const uint8_t	*d;
	size_t		 len;
	const char	*why = NULL;
	size_t		 i;
	int		 rc;

	*nblocks = 0;
	*bytes = 0;
	while ((rc = car_next(r, &c, &d, &len, &why)) == 1) {
		/* Touch every byte so ASan sees any bad pointer. */
		for (i = 0; i < len; i++)
			sink ^= d[i];
		(*nblocks)++;
		*bytes += len;
	}
	if (rc < 0 && why == NULL)
		abort();		/* every error names its reason */
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct car_reader r;
	struct car_opts	 o;
	struct src	 s = { data, size, 0 };
	const char	*why = NULL;
	size_t		 n1 = 0, n2 = 0;
	uint64_t	 b1 = 0, b2 = 0;
	int		 rc1, rc2, o1, o2;

	memset(&o, 0, sizeof(o));
	o.block_max = 1 << 16;
	o.flags = size > 0 && (data[size - 1] & 1) ? CAR_KEEP_UNVERIFIED : 0;

	o1 = car_reader_open_mem(&r, data, size, &o, &why);
	rc1 = o1;
	if (o1 == PDS_OK) {
		rc1 = drain(&r, &n1, &b1);
		car_reader_close(&r);
	} else if (why == NULL)
		abort();

	o2 = car_reader_open(&r, src_read, &s, &o, &why);
	rc2 = o2;
	if (o2 == PDS_OK) {
		rc2 = drain(&r, &n2, &b2);
		car_reader_close(&r);
	}
	/* Memory and stream readers must agree exactly. */
	if (o1 != o2 || rc1 != rc2 || n1 != n2 || b1 != b2)
		abort();
	return 0;
}
