/*
 * buf: a bounded, growable byte buffer.
 *
 * Every buffer has a maximum size set at init; an append that would pass
 * it fails with PDS_ETOOBIG and leaves the buffer as it was, and a failed
 * allocation fails with PDS_ENOMEM the same way.  The contents are always
 * followed by one NUL byte (not counted in len) once anything has been
 * appended, so text can be handed to C string functions.  A buf owns its
 * memory; buf_clear() releases it and leaves an empty buffer that may be
 * reused.  buf_detach() hands the memory to the caller.  err belongs to
 * the CBOR writer (cbor.h); buf_init(), buf_clear(), buf_reset() and
 * buf_detach() clear it and no buf_* function reads it.
 */
#ifndef PDS_BUF_H
#define PDS_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* the most len may ever become */
	int	 err;	/* the first failed cbor_put_* on it (cbor.h) */
};

#define BUF_MAX_DEFAULT ((size_t)64 << 20)

void	 buf_init(struct buf *, size_t max);
void	 buf_clear(struct buf *);
void	 buf_reset(struct buf *);		/* len = 0, keeps memory */
int	 buf_reserve(struct buf *, size_t extra);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_putc(struct buf *, uint8_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Returns the bytes (NUL-terminated; *lenp gets the length) and empties b. */
uint8_t	*buf_detach(struct buf *, size_t *lenp);

#endif
