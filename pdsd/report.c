/*
 * report: governance checkpoints (`pdsctl report').
 *
 * pdsd keeps what a report needs and the rest of the store does not:
 * a row per run of the daemon (started, last seen alive each minute,
 * stopped cleanly or not) and a row per UTC day of traffic (requests,
 * errors, the busiest minute) with the accounts and storage sampled.
 * A job writes both every minute; the report command writes the
 * current minute first, so a report is up to date.
 *
 * The admin command "report" {since?} answers the period's numbers as
 * JSON (store_report.c); pdsctl prints them as text, JSON or one HTML
 * page.  Moderation is counted by kind from the audit log: no
 * subjects, reasons or actors, so the report can be shared.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "admin_service.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "jobs.h"
#include "log.h"
#include "module.h"
#include "report.h"
#include "stats.h"
#include "store.h"
#include "store_report.h"

#define SAMPLE_MS	60000
#define PERIOD_DAYS	30		/* the default period */

static const struct config	*rcfg;
static pthread_mutex_t		 sample_mu = PTHREAD_MUTEX_INITIALIZER;
static struct stats_counter	*c_req, *c_err;
static uint64_t			 last_req, last_err;
static int64_t			 run_id = -1;

/* Write the requests since the last sample to today's row. */
static void
report_sample(void *arg)
{
	char		 now[STORE_TS_LEN], day[11];
	uint64_t	 r, e;

	(void)arg;
	pthread_mutex_lock(&sample_mu);
	r = stats_get(c_req);
	e = stats_get(c_err);
	store_timestamp(now);
	memcpy(day, now, 10);
	day[10] = '\0';
	if (store_daily_add(day, (int64_t)(r - last_req),
	    (int64_t)(e - last_err)) == PDS_OK) {
		last_req = r;
		last_err = e;
	}
	if (run_id >= 0)
		(void)store_run_seen(run_id, now, false);
	pthread_mutex_unlock(&sample_mu);
}

/* "2026-01-31" or an ISO time into a store timestamp. */
static int
parse_since(const char *s, char out[STORE_TS_LEN])
{
	size_t	 n = strlen(s), i;

	if (n < 10 || n >= STORE_TS_LEN)
		return PDS_EINVAL;
	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return PDS_EINVAL;
	if (n == 10)
		snprintf(out, STORE_TS_LEN, "%sT00:00:00.000Z", s);
	else if (s[10] != 'T')
		return PDS_EINVAL;
	else
		snprintf(out, STORE_TS_LEN, "%s", s);
	return PDS_OK;
}

int
admin_report(struct admin_call *call)
{
	const char	*s = json_string_value(json_object_get(call->args,
			    "since"));
	char		 since[STORE_TS_LEN], until[STORE_TS_LEN];
	json_t		*out;
	int		 rc;

	if (s != NULL && parse_since(s, since) != PDS_OK) {
		call->err.name = AP_E_INVALID_ARGUMENT;
		snprintf(call->err.e.msg, sizeof(call->err.e.msg),
		    "since: a day (2026-01-31) or an ISO 8601 time");
		return PDS_EINVAL;
	}
	if (s == NULL)
		clock_ms_to_iso(clock_wall_ms() - (int64_t)PERIOD_DAYS *
		    86400000, since);
	report_sample(NULL);
	clock_ms_to_iso(clock_wall_ms() + 1, until);
	out = json_pack("{s:s,s:s,s:s,s:s,s:I}", "since", since, "until",
	    until, "hostname", rcfg->hostname, "version", PDSD_VERSION,
	    "uptimeSeconds", (json_int_t)stats_uptime_s());
	if (out == NULL)
		return PDS_ENOMEM;
	if ((rc = store_report(since, until, out)) != PDS_OK) {
		json_decref(out);
		call->err.name = AP_E_INTERNAL;
		return rc;
	}
	call->result = out;
	return PDS_OK;
}

static int
report_init(const struct config *cfg)
{
	char	 now[STORE_TS_LEN];

	rcfg = cfg;
	c_req = stats_counter("http.requests", STATS_RATE);
	c_err = stats_counter("http.errors", STATS_RATE);
	last_req = stats_get(c_req);
	last_err = stats_get(c_err);
	store_timestamp(now);
	if (store_run_start(now, PDSD_VERSION, &run_id) != PDS_OK)
		log_warnx("report: cannot record this start");
	return jobs_add("report sample", SAMPLE_MS, report_sample, NULL) ==
	    PDS_OK ? 0 : -1;
}

static void
report_fini(void)
{
	char	 now[STORE_TS_LEN];

	report_sample(NULL);
	store_timestamp(now);
	if (run_id >= 0 && store_run_seen(run_id, now, true) != PDS_OK)
		log_warnx("report: cannot record this stop");
	run_id = -1;
	rcfg = NULL;
}

PDSD_MODULE(report, report_init, report_fini)
