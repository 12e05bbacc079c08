/*
 * strv: arrays of heap strings.  See strv.h.
 */
#include <stdlib.h>

#include "strv.h"

void
strv_free(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}
