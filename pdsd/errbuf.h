/*
 * errbuf: a failure's reason as text in the caller's buffer, for the
 * functions that report it through a `char *err, size_t errlen' pair
 * (configuration files, reference imports, lexicon resolution).
 */
#ifndef PDSD_ERRBUF_H
#define PDSD_ERRBUF_H

#include <stddef.h>

/*
 * Format the reason into err (cut to errlen - 1 bytes; nothing is
 * written when err is NULL or errlen 0) and return rc, for
 * `return errbuf_set(err, errlen, PDS_EINVAL, ...)'.
 */
int	errbuf_set(char *err, size_t errlen, int rc, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#endif
