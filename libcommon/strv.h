/*
 * strv: arrays of heap strings, as a (char **, count) pair.
 */
#ifndef PDS_STRV_H
#define PDS_STRV_H

#include <stddef.h>

/* Free the n strings of v (v may be NULL), then v itself. */
void	strv_free(char **v, size_t n);

#endif
