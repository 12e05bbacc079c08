/*
 * store_report: the tables governance reports keep (server_runs: every
 * start and stop of pdsd; daily_stats: traffic and storage per UTC day)
 * and the queries that read a period back.  Only report.c calls these.
 */
#ifndef PDSD_STORE_REPORT_H
#define PDSD_STORE_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/* A new run starting now; *id names it for store_run_seen(). */
int	store_run_start(const char *now, const char *version, int64_t *id);
/* The run is alive at now (stopped: and stopped cleanly). */
int	store_run_seen(int64_t id, const char *now, bool stopped);
/*
 * Add a minute's requests and errors to day (YYYY-MM-DD), raise its
 * busiest minute, and sample the accounts and storage.
 */
int	store_daily_add(const char *day, int64_t requests, int64_t errors);

/*
 * Into out: members, content, storage, traffic (objects), moderation
 * (by kind, counts only), runs and daily (arrays) for [since, until),
 * both store timestamps.
 */
int	store_report(const char *since, const char *until, json_t *out);

#endif
