#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

void
buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_MAX_DEFAULT;
	b->err = PDS_OK;
}

void
buf_clear(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = PDS_OK;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = PDS_OK;
	if (b->p != NULL)
		b->p[0] = '\0';
}

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t	 need, ncap;
	uint8_t	*np;

	if (extra > b->max || b->len > b->max - extra)
		return PDS_ETOOBIG;
	need = b->len + extra + 1;		/* room for the NUL */
	if (need <= b->cap)
		return PDS_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((np = realloc(b->p, ncap)) == NULL)
		return PDS_ENOMEM;
	b->p = np;
	b->cap = ncap;
	return PDS_OK;
}

int
buf_append(struct buf *b, const void *data, size_t n)
{
	int	 rc;

	if ((rc = buf_reserve(b, n)) != PDS_OK)
		return rc;
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return PDS_OK;
}

int
buf_putc(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 aq;
	int	 n, rc;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return PDS_EINVAL;
	if ((rc = buf_reserve(b, (size_t)n)) != PDS_OK)
		return rc;
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return PDS_OK;
}

uint8_t *
buf_detach(struct buf *b, size_t *lenp)
{
	uint8_t	*p = b->p;

	if (p == NULL && (p = calloc(1, 1)) == NULL)
		return NULL;
	if (lenp != NULL)
		*lenp = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = PDS_OK;
	return p;
}
