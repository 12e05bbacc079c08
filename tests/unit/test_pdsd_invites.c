/*
 * test_pdsd_invites: the codes a member earns (pdsd/invites.c), by the
 * reference PDS's rules for getAccountInviteCodes with createAvailable:
 * one code per whole interval of the account's life, only intervals
 * after PDS_INVITE_EPOCH for accounts older than it, less the earned
 * codes made after the epoch, and at most five earned codes open; codes
 * given by the admin count for neither.  The cases are worked by hand
 * from those rules; tests/interop/test_invites_ref.mjs also runs the
 * reference's own function against invites_due on random inputs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../pdsd/invites.h"
#include "t.h"

#define I	1000	/* the interval of these cases, in ms */

static int64_t
due(int64_t now, int64_t created, int64_t epoch,
    const struct invite_held *h, size_t n)
{
	return invites_due(now, created, epoch, I, h, n);
}

static void
test_interval(void)
{
	struct invite_held	 h[12];
	size_t			 i;

	t_group("one code per whole interval");
	CHECK(due(999, 0, 0, NULL, 0) == 0, "none before the first interval");
	CHECK(due(1000, 0, 0, NULL, 0) == 1, "one at the first");
	CHECK(due(4500, 0, 0, NULL, 0) == 4, "four after 4.5 intervals");
	CHECK(due(10500, 0, 0, NULL, 0) == 5, "at most five at once: %lld",
	    (long long)due(10500, 0, 0, NULL, 0));
	for (i = 0; i < 5; i++)
		h[i] = (struct invite_held){ 100 + (int64_t)i, true, true };
	CHECK(due(10500, 0, 0, h, 5) == 0, "five open earned codes: none");
	h[0].open = h[1].open = false;	/* two used */
	CHECK(due(10500, 0, 0, h, 5) == 2, "two used: two more (%lld)",
	    (long long)due(10500, 0, 0, h, 5));
	CHECK(due(5500, 0, 0, h, 5) == 0, "... but not past the intervals "
	    "lived (5 made of 5 earned)");
	CHECK(due(7200, 0, 0, h, 5) == 2, "7 earned, 5 made, 3 open: 2");
	for (i = 0; i < 5; i++)
		h[i].open = false;
	CHECK(due(7200, 0, 0, h, 5) == 2, "all used: 7 earned less 5 made");
	t_group_end();

	t_group("admin codes count for neither");
	for (i = 0; i < 10; i++)
		h[i] = (struct invite_held){ 200, false, true };
	CHECK(due(4500, 0, 0, h, 10) == 4, "ten open admin codes: still 4");
	t_group_end();

	t_group("disabled codes");
	h[0] = (struct invite_held){ 300, true, false };	/* disabled */
	CHECK(due(4500, 0, 0, h, 1) == 3, "a disabled earned code is not "
	    "open, but was made: 3");
	t_group_end();
}

static void
test_epoch(void)
{
	struct invite_held	 h[3];

	t_group("epoch");
	/* created at 0, epoch 2500: 6 intervals lived, 2 before the epoch */
	CHECK(due(6000, 0, 2500, NULL, 0) == 4, "only intervals after the "
	    "epoch: %lld", (long long)due(6000, 0, 2500, NULL, 0));
	h[0] = (struct invite_held){ 1000, true, true };
	CHECK(due(6000, 0, 2500, h, 1) == 4, "an open code from before the "
	    "epoch is open (4 of 5 left) but not counted as made: 4");
	h[0] = (struct invite_held){ 1000, true, false };
	CHECK(due(6000, 0, 2500, h, 1) == 4, "a used one from before: 4");
	h[0] = (struct invite_held){ 2500, true, false };
	CHECK(due(6000, 0, 2500, h, 1) == 4, "made at the epoch itself: not "
	    "after it");
	h[0] = (struct invite_held){ 2501, true, false };
	CHECK(due(6000, 0, 2500, h, 1) == 3, "made just after: counted");
	/* created after the epoch: the epoch changes nothing */
	CHECK(due(5500, 3000, 1000, NULL, 0) == 2, "account after the epoch");
	CHECK(due(2999, 0, 3000, NULL, 0) == -1, "epoch in the future: "
	    "2 lived less 3 before it, nothing due (%lld)",
	    (long long)due(2999, 0, 3000, NULL, 0));
	CHECK(due(3500, 500, 3000, NULL, 0) == 1, "epoch 3000, born 500: "
	    "3 lived, 2 before: 1");
	t_group_end();
}

static void
test_edges(void)
{
	t_group("edges");
	CHECK(due(4000, 5000, 0, NULL, 0) < 0, "an account from the future "
	    "(clock stepped back) earns nothing");
	CHECK(invites_due(5000, 0, 0, 0, NULL, 0) == 0, "no interval: none");
	CHECK(due(INT64_C(1) << 52, 0, 0, NULL, 0) == 5, "a long life: 5");
	t_group_end();

	t_group("timestamps");
	CHECK(invites_iso_ms("1970-01-01T00:00:01.500Z") == 1500, "ms");
	CHECK(invites_iso_ms("2024-01-02T03:04:05Z") == INT64_C(1704164645000),
	    "no fraction: %lld",
	    (long long)invites_iso_ms("2024-01-02T03:04:05Z"));
	CHECK(invites_iso_ms("2024-01-02T03:04:05.7Z") ==
	    INT64_C(1704164645700), "one digit is tenths");
	CHECK(invites_iso_ms("2024-01-02 03:04:05Z") == -1, "refused: space");
	CHECK(invites_iso_ms("2024-01-02T03:04:05.000+01:00") == -1,
	    "refused: another zone");
	CHECK(invites_iso_ms(NULL) == -1, "refused: NULL");
	t_group_end();
}

int
main(void)
{
	test_interval();
	test_epoch();
	test_edges();
	return t_done("test_pdsd_invites");
}
