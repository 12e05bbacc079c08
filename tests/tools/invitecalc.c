/*
 * invitecalc: invites_due (pdsd/invites.c) on lines of standard input,
 * for tests/interop/test_invites_ref.mjs to hold against the reference
 * PDS's own computation.  Each line:
 *
 *	now_ms account_ms epoch_ms interval_ms n
 *	    [created_ms routine(0|1) open(0|1)] x n
 *
 * and one line out: the number of codes due.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../pdsd/invites.h"

#define CODES_MAX	64

int
main(void)
{
	struct invite_held	 h[CODES_MAX];
	long long		 now, acct, epoch, iv, c;
	int			 n, i, r, o;

	while (scanf("%lld %lld %lld %lld %d", &now, &acct, &epoch, &iv,
	    &n) == 5) {
		if (n < 0 || n > CODES_MAX || iv <= 0) {
			fprintf(stderr, "invitecalc: bad line\n");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (scanf("%lld %d %d", &c, &r, &o) != 3) {
				fprintf(stderr, "invitecalc: short line\n");
				return 1;
			}
			h[i].created_ms = c;
			h[i].routine = r != 0;
			h[i].open = o != 0;
		}
		printf("%lld\n", (long long)invites_due(now, acct, epoch, iv,
		    h, (size_t)n));
	}
	return 0;
}
