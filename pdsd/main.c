/*
 * pdsd: entry point.  (Being built: see the project's issues.)
 */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "pdsd: not implemented yet\n");
	return 1;
}
