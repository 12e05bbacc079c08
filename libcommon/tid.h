/*
 * tid: timestamp identifiers (atproto-notes §7, V4).
 *
 * A TID is 13 characters of the base32-sortable alphabet
 * "234567abcdefghijklmnopqrstuvwxyz" encoding the 64-bit value
 * micros << 10 | clock, most significant digit first, with bit 63 clear
 * (micros < 2^53, clock < 1024).  String order is numeric order.
 *
 * The generator is per process and thread-safe: microseconds since the
 * epoch from CLOCK_REALTIME, forced strictly above the last value handed
 * out (so it never goes backwards when the clock does), with a clock id
 * in 0-31 picked at random once per process.
 */
#ifndef PDS_TID_H
#define PDS_TID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TID_LEN		13
#define TID_MICROS_MAX	(((uint64_t)1 << 53) - 1)
#define TID_CLOCK_MAX	1023

/* A fresh TID, greater than every TID this process made before. */
void	tid_next(char out[TID_LEN + 1]);

/*
 * A fresh TID that is also greater than prev (a repo's previous rev,
 * which may be ahead of this clock).  prev may be NULL; otherwise it must
 * be a valid NUL-terminated TID, or PDS_EINVAL is returned.  A prev more
 * than an hour ahead of the wall clock is stepped past without dragging
 * the process's generator along with it.
 */
int	tid_next_after(char out[TID_LEN + 1], const char *prev);

/* Encode; PDS_EINVAL if micros > TID_MICROS_MAX or clock > 1023. */
int	tid_from_parts(char out[TID_LEN + 1], uint64_t micros, unsigned clock);

/*
 * Decode a NUL-terminated TID; PDS_EINVAL if it is not one.  The syntax
 * (first digit '2'-'j') admits bit 63, so *micros may reach 2^54 - 1.
 */
int	tid_parse(const char *s, uint64_t *micros, unsigned *clock);
/* The same for a counted string. */
int	tid_parse_len(const char *s, size_t len, uint64_t *micros,
	    unsigned *clock);

bool	tid_valid(const char *s, size_t len);

#endif
