/*
 * blockstore: the block-source interface and its in-memory implementation.
 *
 * Each block is one record in an append-only chunk:
 *	u32 data length | u8 CID length | CID bytes | data
 * recs[] lists the records in insertion order; the hash table holds
 * (index + 1, 32 bits of hash) pairs with linear probing, kept at most
 * half full.
 */
#include <stdlib.h>
#include <string.h>

#include "blockstore.h"
#include "err.h"

/*
 * Chunks start small and double up to CHUNK_MAX: most stores hold one
 * commit's few kilobytes, and a chunk above the allocator's mmap
 * threshold would cost an mmap and an munmap (a TLB flush on every core)
 * per commit.
 */
#define CHUNK_MIN	((size_t)16 << 10)
#define CHUNK_MAX	((size_t)1 << 20)
#define BIG_BLOCK	((size_t)64 << 10)	/* own chunk above this */
#define REC_HDR		5

struct chunk {
	struct chunk	*next;
	size_t		 size, used;
	uint8_t		 data[];
};

struct slot {
	uint32_t	 idx;	/* recs index + 1; 0 = empty */
	uint32_t	 hash;
};

struct bs_mem {
	struct chunk	*chunks;	/* newest first */
	struct chunk	*cur;		/* where small records go */
	uint8_t		**recs;
	size_t		 nrecs, caprecs;
	struct slot	*tab;
	size_t		 tabsize;	/* power of two */
	size_t		 bytes;		/* block data held */
	size_t		 alloc;		/* chunk memory */
	size_t		 next_chunk;	/* size of the next standard chunk */
};

int
bs_get(const struct blockstore *bs, const struct cid *c, const uint8_t **data,
    size_t *len)
{
	return bs->get(bs->ctx, c, data, len);
}

int
bs_get_leaf(const struct blockstore *bs, const uint8_t *key, size_t klen,
    const struct cid *c, const uint8_t **data, size_t *len)
{
	if (bs->get_leaf == NULL)
		return bs->get(bs->ctx, c, data, len);
	return bs->get_leaf(bs->ctx, key, klen, c, data, len);
}

int
bs_put(const struct blockstore *bs, const struct cid *c, const uint8_t *data,
    size_t len)
{
	if (bs->put == NULL)
		return PDS_EUNSUPP;
	return bs->put(bs->ctx, c, data, len);
}

/* sha2-256 digests are uniform already; anything else gets FNV-1a. */
static uint64_t
cid_hash(const struct cid *c)
{
	uint64_t	 h = 1469598103934665603ULL;
	size_t		 i;

	if (c->len == 36 && c->b[2] == MH_SHA2_256 && c->b[3] == 32) {
		memcpy(&h, c->b + 28, sizeof(h));
		return h ^ c->b[1];
	}
	for (i = 0; i < c->len; i++) {
		h ^= c->b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
rec_read(const uint8_t *r, struct cid *c, const uint8_t **data, size_t *len)
{
	uint32_t	 n;

	memcpy(&n, r, 4);
	if (c != NULL) {
		c->len = r[4];
		memcpy(c->b, r + REC_HDR, c->len);
	}
	*data = r + REC_HDR + r[4];
	*len = n;
}

static bool
rec_is(const uint8_t *r, const struct cid *c)
{
	return r[4] == c->len && memcmp(r + REC_HDR, c->b, c->len) == 0;
}

struct bs_mem *
bs_mem_new(void)
{
	return calloc(1, sizeof(struct bs_mem));
}

static void
chunks_free(struct bs_mem *m)
{
	struct chunk	*c, *n;

	for (c = m->chunks; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	m->chunks = m->cur = NULL;
	m->alloc = 0;
}

void
bs_mem_free(struct bs_mem *m)
{
	if (m == NULL)
		return;
	chunks_free(m);
	free(m->recs);
	free(m->tab);
	free(m);
}

void
bs_mem_release(struct bs_mem *m)
{
	chunks_free(m);
	free(m->recs);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

void
bs_mem_clear(struct bs_mem *m)
{
	struct chunk	*keep = NULL, *c, *n;

	/*
	 * Keep the newest (largest) standard chunk: write sets are cleared
	 * per commit.
	 */
	for (c = m->chunks; c != NULL; c = n) {
		n = c->next;
		if (c == m->cur)
			keep = c;
		else
			free(c);
	}
	m->chunks = m->cur = keep;
	m->alloc = 0;
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = 0;
		m->alloc = sizeof(*keep) + keep->size;
	}
	m->nrecs = 0;
	m->bytes = 0;
	if (m->tab != NULL)
		memset(m->tab, 0, m->tabsize * sizeof(*m->tab));
}

/* Index into recs of the block, or -1; *slotp gets its slot or the free one. */
static long
lookup(const struct bs_mem *m, const struct cid *c, uint64_t h, size_t *slotp)
{
	size_t		 mask = m->tabsize - 1, i;
	uint32_t	 h32 = (uint32_t)(h >> 32);

	if (m->tabsize == 0)
		return -1;
	for (i = (size_t)h & mask;; i = (i + 1) & mask) {
		const struct slot *s = &m->tab[i];
		if (s->idx == 0) {
			if (slotp != NULL)
				*slotp = i;
			return -1;
		}
		if (s->hash == h32 && rec_is(m->recs[s->idx - 1], c)) {
			if (slotp != NULL)
				*slotp = i;
			return (long)s->idx - 1;
		}
	}
}

static int
grow_table(struct bs_mem *m)
{
	size_t		 nsize = m->tabsize ? m->tabsize * 2 : 1024, i, j;
	struct slot	*nt;
	struct cid	 c;
	const uint8_t	*d;
	size_t		 len;

	if ((nt = calloc(nsize, sizeof(*nt))) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < m->nrecs; i++) {
		uint64_t h;
		rec_read(m->recs[i], &c, &d, &len);
		h = cid_hash(&c);
		for (j = (size_t)h & (nsize - 1); nt[j].idx != 0;
		    j = (j + 1) & (nsize - 1))
			;
		nt[j].idx = (uint32_t)(i + 1);
		nt[j].hash = (uint32_t)(h >> 32);
	}
	free(m->tab);
	m->tab = nt;
	m->tabsize = nsize;
	return PDS_OK;
}

static uint8_t *
rec_alloc(struct bs_mem *m, size_t need)
{
	struct chunk	*c;
	size_t		 size;
	uint8_t		*p;

	if (need <= BIG_BLOCK && m->cur != NULL &&
	    m->cur->size - m->cur->used >= need) {
		p = m->cur->data + m->cur->used;
		m->cur->used += need;
		return p;
	}
	if (need > BIG_BLOCK)
		size = need;
	else {
		size = m->next_chunk != 0 ? m->next_chunk : CHUNK_MIN;
		while (size < need)
			size *= 2;
	}
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	if (need <= BIG_BLOCK)
		m->next_chunk = size < CHUNK_MAX ? size * 2 : size;
	c->size = size;
	c->used = need;
	c->next = m->chunks;
	m->chunks = c;
	m->alloc += sizeof(*c) + size;
	if (need <= BIG_BLOCK)
		m->cur = c;
	return c->data;
}

int
bs_mem_put(struct bs_mem *m, const struct cid *c, const uint8_t *data,
    size_t len)
{
	uint64_t	 h = cid_hash(c);
	size_t		 slot, need;
	uint32_t	 n32;
	uint8_t		*r;
	int		 rc;

	if (len > UINT32_MAX || m->nrecs >= UINT32_MAX - 1)
		return PDS_ETOOBIG;
	if (lookup(m, c, h, &slot) >= 0)
		return PDS_OK;
	if ((m->nrecs + 1) * 2 > m->tabsize) {
		if ((rc = grow_table(m)) != PDS_OK)
			return rc;
		(void)lookup(m, c, h, &slot);
	}
	if (m->nrecs == m->caprecs) {
		size_t ncap = m->caprecs ? m->caprecs * 2 : 256;
		uint8_t **nr = realloc(m->recs, ncap * sizeof(*nr));
		if (nr == NULL)
			return PDS_ENOMEM;
		m->recs = nr;
		m->caprecs = ncap;
	}
	need = REC_HDR + c->len + len;
	if ((r = rec_alloc(m, need)) == NULL)
		return PDS_ENOMEM;
	n32 = (uint32_t)len;
	memcpy(r, &n32, 4);
	r[4] = c->len;
	memcpy(r + REC_HDR, c->b, c->len);
	if (len > 0)
		memcpy(r + REC_HDR + c->len, data, len);
	m->recs[m->nrecs++] = r;
	m->tab[slot].idx = (uint32_t)m->nrecs;
	m->tab[slot].hash = (uint32_t)(h >> 32);
	m->bytes += len;
	return PDS_OK;
}

int
bs_mem_get(const struct bs_mem *m, const struct cid *c, const uint8_t **data,
    size_t *len)
{
	long	 i = lookup(m, c, cid_hash(c), NULL);

	if (i < 0)
		return PDS_ENOTFOUND;
	rec_read(m->recs[i], NULL, data, len);
	return PDS_OK;
}

bool
bs_mem_has(const struct bs_mem *m, const struct cid *c)
{
	return lookup(m, c, cid_hash(c), NULL) >= 0;
}

size_t
bs_mem_count(const struct bs_mem *m)
{
	return m->nrecs;
}

size_t
bs_mem_bytes(const struct bs_mem *m)
{
	return m->bytes;
}

size_t
bs_mem_footprint(const struct bs_mem *m)
{
	return sizeof(*m) + m->alloc + m->caprecs * sizeof(*m->recs) +
	    m->tabsize * sizeof(*m->tab);
}

int
bs_mem_foreach(const struct bs_mem *m, bs_mem_cb cb, void *arg)
{
	struct cid	 c;
	const uint8_t	*d;
	size_t		 i, len;
	int		 rc;

	for (i = 0; i < m->nrecs; i++) {
		rec_read(m->recs[i], &c, &d, &len);
		if ((rc = cb(arg, &c, d, len)) != 0)
			return rc;
	}
	return 0;
}

static int
merge_cb(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	return bs_mem_put(arg, c, d, len);
}

int
bs_mem_merge(struct bs_mem *dst, const struct bs_mem *src)
{
	return bs_mem_foreach(src, merge_cb, dst);
}

static int
mem_get(void *ctx, const struct cid *c, const uint8_t **data, size_t *len)
{
	return bs_mem_get(ctx, c, data, len);
}

static int
mem_put(void *ctx, const struct cid *c, const uint8_t *data, size_t len)
{
	return bs_mem_put(ctx, c, data, len);
}

struct blockstore
bs_mem_store(struct bs_mem *m)
{
	struct blockstore bs = { mem_get, mem_put, m, NULL };

	return bs;
}
