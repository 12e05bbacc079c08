/*
 * car: CAR v1 archives (application/vnd.ipld.car; atproto-notes §3, V10).
 *
 *   varint(len(H)) || H || { varint(len(cid) + len(data)) || cid || data }*
 *
 * where H is the DAG-CBOR map {"roots": [links], "version": 1}.
 *
 * The reader streams: it pulls bytes through a caller-supplied read
 * callback (a file, a socket, memory) and holds at most one block plus a
 * read-ahead buffer, so memory is bounded by the block size limit.  Each
 * block is checked against its CID before it is handed out: sha2-256
 * CIDs must match their bytes (PDS_EMISMATCH otherwise); CIDs with any
 * other hash function are refused (PDS_EUNSUPP) unless CAR_KEEP_UNVERIFIED
 * is set.  Duplicate and unreferenced blocks are passed through: whether
 * they matter is the caller's business.  Every error comes with a reason
 * in *why, and once car_next() has failed it keeps returning that error.
 *
 * The writer appends to a struct buf, or streams through a write
 * callback so that a large export never sits in memory.
 */
#ifndef PDS_CAR_H
#define PDS_CAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cid.h"

#define CAR_HEADER_MAX_DEFAULT	((size_t)64 << 10)
#define CAR_BLOCK_MAX_DEFAULT	((size_t)2 << 20)

/* car_opts.flags */
#define CAR_KEEP_UNVERIFIED	0x01	/* pass blocks whose hash is not sha2-256 */

struct car_opts {
	size_t		 header_max;	/* bytes of H; 0: CAR_HEADER_MAX_DEFAULT */
	size_t		 block_max;	/* bytes of a block's data; 0: default */
	uint64_t	 total_max;	/* bytes of the whole CAR; 0: no limit */
	unsigned	 flags;
};

/*
 * Read up to len bytes into buf.  Returns the count (> 0), 0 at end of
 * input, or a negative PDS_E* code (PDS_EIO with errno set, say).
 */
typedef long	(*car_read_fn)(void *arg, uint8_t *buf, size_t len);
/* Write all len bytes; returns PDS_OK or a negative PDS_E* code. */
typedef int	(*car_write_fn)(void *arg, const uint8_t *buf, size_t len);

/*
 * Reader state.  Public fields: roots and nroots (valid after a
 * successful open, until close) and total (bytes consumed so far).
 * Everything else is private.
 */
struct car_reader {
	struct cid	*roots;
	size_t		 nroots;
	uint64_t	 total;

	/* private */
	struct car_opts	 opts;
	car_read_fn	 read;
	void		*arg;
	const uint8_t	*mem;		/* in-memory input, or NULL */
	size_t		 memlen;
	uint8_t		*buf;		/* read-ahead and current block */
	size_t		 cap, off, end;
	bool		 eof;
	int		 err;		/* sticky error, or PDS_OK */
	const char	*errwhy;
};

/*
 * Open a reader on a read callback and read the header (version must be
 * 1; roots must be an array of CID links, possibly empty).  opts may be
 * NULL for the defaults.  On failure the reader holds nothing and needs
 * no close.
 */
int	car_reader_open(struct car_reader *, car_read_fn, void *arg,
	    const struct car_opts *, const char **why);
/* The same over bytes in memory, which must outlive the reader. */
int	car_reader_open_mem(struct car_reader *, const uint8_t *, size_t,
	    const struct car_opts *, const char **why);
/* Release the reader (safe to call twice, or after a failed open). */
void	car_reader_close(struct car_reader *);

/*
 * The next block: returns 1 and fills *cid, *data and *len (the data
 * stays valid until the next call or close), 0 at a clean end of input,
 * or a negative PDS_E* code with a reason in *why: PDS_ETRUNC (input
 * ended inside a section), PDS_EINVAL (zero-length section, bad CID),
 * PDS_ENONCANON (non-minimal varint), PDS_ETOOBIG (a limit),
 * PDS_EMISMATCH (bytes do not hash to the CID), PDS_EUNSUPP (hash
 * function), or the read callback's error.
 */
int	car_next(struct car_reader *, struct cid *, const uint8_t **data,
	    size_t *len, const char **why);

/* Read callbacks for a FILE * and for a file descriptor (int *). */
long	car_read_stdio(void *fp, uint8_t *buf, size_t len);
long	car_read_fd(void *fdp, uint8_t *buf, size_t len);

/* Append the header for these roots (n may be 0) to b. */
int	car_write_header(struct buf *b, const struct cid *roots, size_t n);
/* Append one block section to b. */
int	car_write_block(struct buf *b, const struct cid *, const uint8_t *,
	    size_t);
/* The same through a write callback, without copying the block. */
int	car_emit_header(car_write_fn, void *arg, const struct cid *roots,
	    size_t n);
int	car_emit_block(car_write_fn, void *arg, const struct cid *,
	    const uint8_t *, size_t);
/* Write callback for a FILE *; PDS_EIO on a short write. */
int	car_write_stdio(void *fp, const uint8_t *buf, size_t len);

#endif
