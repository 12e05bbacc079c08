/*
 * report: `pdsctl report [--since DATE] [--json|--html]', a period's
 * facts for the coop's governance checkpoints: as text, as the JSON
 * pdsd sends (--json), or as one self-contained HTML page with small
 * inline SVG charts (--html) for the coop's forum.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "pdsctl.h"

#define CHART_W		560
#define CHART_H		120

static bool	want_html;

int
prepare_report(const struct ctl_cmd *c, json_t *args, const char **cmd)
{
	(void)c;
	(void)cmd;
	want_html = json_is_true(json_object_get(args, "html"));
	json_object_del(args, "html");
	if (want_html && ctl_json) {
		fprintf(stderr, "pdsctl: report: --json or --html, not both\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static long long
num(const json_t *o, const char *k)
{
	const json_t	*v = json_object_get(o, k);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* A store timestamp to Unix seconds (0 if it does not parse). */
static time_t
iso_time(const char *s)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

static void
bytes(char *out, size_t cap, double b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t	 u = 0;
	bool	 neg = b < 0;

	if (neg)
		b = -b;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(out, cap, u == 0 ? "%s%.0f %s" : "%s%.1f %s",
	    neg ? "-" : "", b, unit[u]);
}

/* What the report derives from the runs: uptime and restarts. */
struct uptime {
	double	 up, period, pct;
	long	 starts, unclean;
};

static void
uptime_of(const json_t *r, struct uptime *u)
{
	const json_t	*runs = json_object_get(r, "runs"), *run;
	time_t		 since = iso_time(out_str(r, "since"));
	time_t		 until = iso_time(out_str(r, "until"));
	time_t		 s, e;
	size_t		 i, n = json_array_size(runs);

	memset(u, 0, sizeof(*u));
	u->period = until > since ? (double)(until - since) : 0;
	json_array_foreach(runs, i, run) {
		s = iso_time(out_str(run, "startedAt"));
		e = iso_time(json_is_string(json_object_get(run, "stoppedAt")) ?
		    out_str(run, "stoppedAt") : out_str(run, "lastSeenAt"));
		if (s >= since)
			u->starts++;
		if (!json_is_string(json_object_get(run, "stoppedAt")) &&
		    i + 1 < n)
			u->unclean++;
		if (s < since)
			s = since;
		if (e > until)
			e = until;
		if (e > s)
			u->up += (double)(e - s);
	}
	u->pct = u->period > 0 ? 100 * u->up / u->period : 0;
	if (u->pct > 100)
		u->pct = 100;
}

static long long
growth(const json_t *r)
{
	const json_t	*st = json_object_get(r, "storage");

	if (!json_is_integer(json_object_get(st, "startBytes")))
		return 0;
	return num(st, "databaseBytes") + num(st, "blobBytes") -
	    num(st, "startBytes");
}

/* ---- text ------------------------------------------------------------ */

static void
print_text(const json_t *r)
{
	const json_t	*m = json_object_get(r, "members");
	const json_t	*c = json_object_get(r, "content");
	const json_t	*st = json_object_get(r, "storage");
	const json_t	*t = json_object_get(r, "traffic");
	const json_t	*mod = json_object_get(r, "moderation"), *e;
	struct uptime	 u;
	char		 b1[32], b2[32], b3[32];
	size_t		 i;
	long long	 nmod = 0;

	uptime_of(r, &u);
	printf("Report for %s, %.10s to %.10s\n\n", out_str(r, "hostname"),
	    out_str(r, "since"), out_str(r, "until"));
	printf("Members\n");
	printf("  total %lld (active accounts %lld, taken down %lld)\n",
	    num(m, "total"), num(m, "current"), num(m, "takendown"));
	printf("  joined %lld, wrote something %lld, deactivated %lld\n",
	    num(m, "joined"), num(m, "active"), num(m, "deactivated"));
	printf("  migrated in %lld, migrated out %lld\n",
	    num(m, "migratedIn"), num(m, "migratedOut"));
	bytes(b1, sizeof(b1), (double)num(c, "blobBytes"));
	printf("Content written\n");
	printf("  posts %lld (records %lld), blobs %lld (%s)\n",
	    num(c, "posts"), num(c, "records"), num(c, "blobs"), b1);
	bytes(b1, sizeof(b1), (double)num(st, "databaseBytes"));
	bytes(b2, sizeof(b2), (double)num(st, "blobBytes"));
	bytes(b3, sizeof(b3), (double)growth(r));
	printf("Storage\n");
	printf("  database %s, blobs %s; growth in the period %s\n", b1, b2,
	    b3);
	printf("Traffic\n");
	printf("  requests %lld (errors %lld); peak %lld requests in a "
	    "minute%s%s\n", num(t, "requests"), num(t, "errors"),
	    num(t, "peakRequestsPerMinute"), json_is_string(json_object_get(
	    t, "peakDay")) ? " on " : "", out_str(t, "peakDay"));
	printf("Moderation actions\n");
	json_array_foreach(mod, i, e) {
		printf("  %-28s %lld\n", out_str(e, "kind"), num(e, "count"));
		nmod += num(e, "count");
	}
	if (nmod == 0)
		printf("  none\n");
	printf("Uptime\n");
	printf("  %.2f%% of the period; %ld starts, %ld without a clean "
	    "stop\n", u.pct, u.starts, u.unclean);
}

/* ---- HTML ------------------------------------------------------------ */

static void
html_text(const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", stdout);
			break;
		case '>':
			fputs("&gt;", stdout);
			break;
		case '&':
			fputs("&amp;", stdout);
			break;
		case '"':
			fputs("&quot;", stdout);
			break;
		default:
			putchar(*s);
		}
	}
}

/* A bar chart of key over the daily series. */
static void
chart(const json_t *daily, const char *key, const char *title,
    const char *color, bool as_bytes, bool per_day)
{
	const json_t	*d;
	double		 max = 0, v, w, h, x;
	size_t		 i, n = json_array_size(daily);
	char		 b[32];

	json_array_foreach(daily, i, d)
		if ((v = (double)num(d, key)) > max)
			max = v;
	printf("<figure><figcaption>");
	html_text(title);
	if (as_bytes)
		bytes(b, sizeof(b), max);
	else
		snprintf(b, sizeof(b), "%.0f", max);
	printf(" <small>(max %s%s)</small></figcaption>\n", b,
	    per_day ? " a day" : "");
	printf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
	    CHART_W, CHART_H + 16, CHART_W, CHART_H + 16);
	printf("<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#999\"/>\n", CHART_H, CHART_W, CHART_H);
	w = n > 0 ? (double)CHART_W / (double)n : CHART_W;
	json_array_foreach(daily, i, d) {
		v = (double)num(d, key);
		h = max > 0 ? v / max * (CHART_H - 4) : 0;
		x = (double)i * w;
		printf("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" fill=\"%s\"><title>%s: %.0f</title>"
		    "</rect>\n", x + w * 0.1, CHART_H - h, w * 0.8, h, color,
		    out_str(d, "day"), v);
	}
	if (n > 0) {
		printf("<text x=\"0\" y=\"%d\" font-size=\"11\">%s</text>\n",
		    CHART_H + 13, out_str(json_array_get(daily, 0), "day"));
		printf("<text x=\"%d\" y=\"%d\" font-size=\"11\" "
		    "text-anchor=\"end\">%s</text>\n", CHART_W, CHART_H + 13,
		    out_str(json_array_get(daily, n - 1), "day"));
	}
	printf("</svg></figure>\n");
}

static void
tile(const char *label, const char *value)
{
	printf("<div class=\"tile\"><b>");
	html_text(value);
	printf("</b><span>");
	html_text(label);
	printf("</span></div>\n");
}

static void
tile_n(const char *label, long long v)
{
	char	 b[32];

	snprintf(b, sizeof(b), "%lld", v);
	tile(label, b);
}

static void
print_html(const json_t *r)
{
	const json_t	*m = json_object_get(r, "members");
	const json_t	*c = json_object_get(r, "content");
	const json_t	*st = json_object_get(r, "storage");
	const json_t	*t = json_object_get(r, "traffic");
	const json_t	*mod = json_object_get(r, "moderation"), *e;
	const json_t	*daily = json_object_get(r, "daily");
	struct uptime	 u;
	char		 b[64];
	size_t		 i;

	uptime_of(r, &u);
	printf("<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\">\n<title>Report: ");
	html_text(out_str(r, "hostname"));
	printf("</title>\n<style>\n"
	    "body{font-family:system-ui,sans-serif;max-width:980px;"
	    "margin:2em auto;padding:0 1em;color:#222}\n"
	    "h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.1em;"
	    "border-bottom:1px solid #ddd;padding-bottom:.2em;"
	    "margin-top:1.6em}\n"
	    ".tiles{display:flex;flex-wrap:wrap;gap:.6em}\n"
	    ".tile{border:1px solid #ddd;border-radius:6px;padding:.5em .8em;"
	    "min-width:8em}.tile b{display:block;font-size:1.4em}\n"
	    ".tile span{color:#666;font-size:.85em}\n"
	    ".charts{display:grid;grid-template-columns:1fr 1fr;gap:1em;"
	    "margin-top:1.2em}\n"
	    "figure{margin:0}figcaption{font-size:.9em;margin-bottom:.2em}\n"
	    "svg{max-width:100%%;height:auto}\n"
	    "table{border-collapse:collapse}td,th{padding:.2em .8em;"
	    "border-bottom:1px solid #eee;text-align:left}\n"
	    "footer{color:#888;font-size:.8em;margin-top:2em}\n"
	    "</style></head><body>\n<h1>");
	html_text(out_str(r, "hostname"));
	printf("</h1>\n<p>Governance report, %.10s to %.10s</p>\n",
	    out_str(r, "since"), out_str(r, "until"));

	printf("<h2>Members</h2><div class=\"tiles\">\n");
	tile_n("members", num(m, "total"));
	tile_n("joined", num(m, "joined"));
	tile_n("wrote in the period", num(m, "active"));
	tile_n("deactivated", num(m, "deactivated"));
	tile_n("migrated in", num(m, "migratedIn"));
	tile_n("migrated out", num(m, "migratedOut"));
	printf("</div>\n<h2>Content, storage and traffic</h2>"
	    "<div class=\"tiles\">\n");
	tile_n("posts written", num(c, "posts"));
	tile_n("blobs written", num(c, "blobs"));
	bytes(b, sizeof(b), (double)(num(st, "databaseBytes") +
	    num(st, "blobBytes")));
	tile("storage used", b);
	bytes(b, sizeof(b), (double)growth(r));
	tile("growth", b);
	tile_n("requests", num(t, "requests"));
	tile_n("peak requests / minute", num(t, "peakRequestsPerMinute"));
	snprintf(b, sizeof(b), "%.2f%%", u.pct);
	tile("uptime", b);
	snprintf(b, sizeof(b), "%ld", u.starts);
	tile("starts", b);
	printf("</div>\n<div class=\"charts\">\n");
	chart(daily, "joined", "Members joined", "#3b7dd8", false, true);
	chart(daily, "posts", "Posts written", "#2a9d8f", false, true);
	chart(daily, "requests", "Requests", "#e9a03b", false, true);
	chart(daily, "blobBytes", "Blob storage", "#8e6bbf", true, false);
	printf("</div>\n<h2>Moderation actions</h2>\n");
	if (json_array_size(mod) == 0)
		printf("<p>None in the period.</p>\n");
	else {
		printf("<table><tr><th>kind</th><th>count</th></tr>\n");
		json_array_foreach(mod, i, e) {
			printf("<tr><td>");
			html_text(out_str(e, "kind"));
			printf("</td><td>%lld</td></tr>\n", num(e, "count"));
		}
		printf("</table>\n");
	}
	printf("<footer>pdsd ");
	html_text(out_str(r, "version"));
	printf(", generated %.19s UTC. Counts only: no member is named."
	    "</footer>\n</body></html>\n", out_str(r, "until"));
}

void
print_report(const struct ctl_cmd *c, const json_t *r)
{
	(void)c;
	if (want_html)
		print_html(r);
	else
		print_text(r);
}
