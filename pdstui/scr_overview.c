/*
 * Overview: the server at a glance, from the stats stream (stats.watch,
 * or polled stats on a daemon without it).  Rates carry a sparkline of
 * the last minutes; a number the daemon does not report reads "n/a".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tui.h"

/*
 * The daemon's uptime: stats "uptime" (seconds) when it reports it,
 * else from the start time of the peer process (SO_PEERCRED pid) in
 * /proc, which works when pdstui and pdsd share a pid namespace.
 */
static bool
uptime_s(int64_t *out)
{
	const json_t	*u = json_object_get(tui.stats, "uptime");
	char		 path[64], line[1024], *p, *end;
	unsigned long long start;
	double		 boot;
	long		 hz = sysconf(_SC_CLK_TCK);
	FILE		*f;
	int		 field;

	if (json_is_integer(u)) {
		*out = json_integer_value(u);
		return true;
	}
	if (tui.daemon_pid <= 0 || hz <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", tui.daemon_pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	/* field 22 is the start time; the name (2) may hold spaces */
	if (p == NULL || (p = strrchr(line, ')')) == NULL)
		return false;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return false;
	start = strtoull(p + 1, &end, 10);
	if (end == p + 1)
		return false;
	if ((f = fopen("/proc/uptime", "r")) == NULL)
		return false;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (p == NULL)
		return false;
	boot = strtod(line, &end);
	if (end == line)
		return false;
	*out = (int64_t)(boot - (double)start / (double)hz);
	return true;
}

static void
rate_row(int y, int cols, const char *label, enum tui_series s, int prec)
{
	double	 v;
	int	 w = cols - 40;

	ui_put(y, 2, 20, C_NORMAL, "%s", label);
	if (ui_hist_last(&tui.hist[s], &v))
		ui_put(y, 22, 14, C_NORMAL, "%10.*f", prec, v);
	else
		ui_put(y, 22, 14, C_DIM, "%10s", "n/a");
	if (w > 8)
		ui_spark(y, 38, w, &tui.hist[s]);
}

/* The value of counter name in c (0 when absent). */
static long long
ctr(const json_t *c, const char *name)
{
	return (long long)ji(json_object_get(c, name), "value");
}

static void
overview_draw(int top, int rows, int cols)
{
	const json_t	*s = tui.stats, *a, *r, *b, *f, *c, *s3;
	char		 t1[64], t2[64];
	int64_t		 up, age;
	int		 y = top;
	double		 rq, er;

	if (s == NULL) {
		ui_put(y + 1, 2, cols - 4, C_DIM, "%s", tconn_up(tui.conn) ?
		    "waiting for the first stats sample..." :
		    "not connected to pdsd yet");
		return;
	}
	a = json_object_get(s, "accounts");
	r = json_object_get(s, "repo");
	b = json_object_get(s, "blobs");
	f = json_object_get(s, "firehose");
	c = json_object_get(s, "counters");

	ui_put(y++, 0, cols, C_HEAD, "%s", "Server");
	if (uptime_s(&up)) {
		ui_duration(t1, sizeof(t1), up);
		ui_put(y, 2, 36, C_NORMAL, "uptime        %s", t1);
	} else
		ui_put(y, 2, 36, C_DIM, "uptime        %s", "n/a");
	ui_time(t2, sizeof(t2), js(s, "at"));
	age = (tui_now_ms() - tui.stats_ms) / 1000;
	ui_put(y++, 38, cols - 38, age > 5 ? C_WARN : C_NORMAL,
	    "version %s   sample %s%s", js(s, "version"), t2,
	    age > 5 ? " (stale)" : "");

	y++;
	ui_put(y++, 0, cols, C_HEAD, "%s", "Accounts");
	ui_put(y++, 2, cols - 2, C_NORMAL, "active %-8lld deactivated %-6lld "
	    "taken down %-6lld total %-8lld open invites %lld",
	    (long long)ji(a, "active"), (long long)ji(a, "deactivated"),
	    (long long)ji(a, "takendown"), (long long)ji(a, "total"),
	    (long long)ji(s, "invitesOpen"));

	y++;
	ui_put(y++, 0, cols, C_HEAD, "%s", "Storage");
	ui_bytes(t1, sizeof(t1), ji(r, "bytes"));
	ui_put(y++, 2, cols - 2, C_NORMAL, "repos  %-12s %lld records, "
	    "%lld blocks", t1, (long long)ji(r, "records"),
	    (long long)ji(r, "blocks"));
	ui_bytes(t1, sizeof(t1), ji(b, "bytes"));
	ui_put(y++, 2, cols - 2, C_NORMAL, "blobs  %-12s %lld files", t1,
	    (long long)ji(b, "count"));
	s3 = json_object_get(json_object_get(s, "blobstore"), "s3");
	if (s3 != NULL) {	/* only with S3: disk screens stay as they were */
		ui_put(y++, 2, cols - 2, C_NORMAL, "store  %-12s %s/%s: %lld "
		    "ok, %lld failed, %lld retried, last %lld ms, avg %lld ms",
		    js(json_object_get(s, "blobstore"), "store"),
		    js(s3, "endpoint"), js(s3, "bucket"),
		    (long long)ji(s3, "ok"), (long long)ji(s3, "failed"),
		    (long long)ji(s3, "retries"), (long long)ji(s3, "lastMs"),
		    (long long)ji(s3, "avgMs"));
		if (json_object_get(s3, "lastError") != NULL) {
			ui_time(t2, sizeof(t2), js(s3, "lastErrorAt"));
			ui_put(y++, 2, cols - 2, C_WARN, "       last S3 error "
			    "%s: %s", t2, js(s3, "lastError"));
		}
	}

	y++;
	if (y >= top + rows)
		return;
	ui_put(y++, 0, cols, C_HEAD, "%-36s%s", "Traffic",
	    "last minutes (one column a sample)");
	rate_row(y++, cols, "requests/s", SER_RPS, 1);
	/* the error rate as a share of requests when both are known */
	if (ui_hist_last(&tui.hist[SER_RPS], &rq) &&
	    ui_hist_last(&tui.hist[SER_ERR], &er) && rq > 0)
		snprintf(t1, sizeof(t1), "errors/s (%.1f%%)", er / rq * 100);
	else
		snprintf(t1, sizeof(t1), "errors/s");
	rate_row(y++, cols, t1, SER_ERR, 1);
	rate_row(y++, cols, "firehose events/s", SER_EVENTS, 1);
	rate_row(y++, cols, "subscribers", SER_SUBS, 0);
	rate_row(y++, cols, "admin requests/s", SER_ADMIN, 1);
	if (y < top + rows)
		ui_put(y++, 2, cols - 2, C_NORMAL, "rate limited  %lld "
		    "requests, %lld admin passwords, %lld logins; bypassed "
		    "%lld", ctr(c, "ratelimit.limited"),
		    ctr(c, "ratelimit.admin_limited"),
		    ctr(c, "ratelimit.login_limited"),
		    ctr(c, "ratelimit.bypassed"));

	y++;
	if (y >= top + rows)
		return;
	ui_put(y++, 0, cols, C_HEAD, "%s", "Firehose");
	ui_put(y++, 2, cols - 2, C_NORMAL, "seq head %-10lld events in log "
	    "%-10lld too slow (dropped) %lld", (long long)ji(f, "lastSeq"),
	    (long long)ji(f, "events"), (long long)ji(json_object_get(c,
	    "firehose.too_slow"), "value"));
	if (y >= top + rows)
		return;
	if (json_is_null(json_object_get(s, "lastCrawl")))
		ui_put(y++, 2, cols - 2, C_DIM, "last relay crawl  %s",
		    "never (since pdsd started)");
	else if (json_object_get(s, "lastCrawl") != NULL) {
		ui_time(t1, sizeof(t1), js(s, "lastCrawl"));
		ui_put(y++, 2, cols - 2, C_NORMAL, "last relay crawl  %s", t1);
	} else
		ui_put(y++, 2, cols - 2, C_DIM, "last relay crawl  %s",
		    "n/a (not reported by this daemon)");
}

static const struct tui_keydef overview_keys[] = {
	{ 0, NULL, NULL, NULL, false, NULL },
};

const struct tui_screen scr_overview = {
	"Overview", overview_keys, 0, NULL, NULL, NULL, overview_draw, NULL,
};
