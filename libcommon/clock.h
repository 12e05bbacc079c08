/*
 * clock: the monotonic clock in milliseconds, for deadlines, timeouts
 * and ages (never for timestamps: see store_timestamp() and tid.h).
 */
#ifndef PDS_CLOCK_H
#define PDS_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
int64_t	clock_mono_ms(void);

#endif
