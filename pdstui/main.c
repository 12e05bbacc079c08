/*
 * pdstui: entry point.  (Being built: see the project's issues.)
 */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "pdstui: not implemented yet\n");
	return 1;
}
