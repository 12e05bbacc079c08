/*
 * output: how pdsctl shows answers.  With --json every result (and every
 * stream event) is printed as one line of JSON, exactly as pdsd sent it;
 * otherwise the command's formatter below writes text for people.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "pdsctl.h"

bool	ctl_json;

void
out_json(const json_t *v)
{
	char	*s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    CTL_JSON_REAL);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

const char *
out_str(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

const char *
out_str_or(const json_t *o, const char *key, const char *dflt)
{
	const char	*s = out_str(o, key);

	return *s != '\0' ? s : dflt;
}

static long long
num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* A byte count in the largest unit that keeps it >= 1. */
static void
human_bytes(char *out, size_t cap, long long n)
{
	static const char	*unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double			 d = (double)n;
	int			 u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, cap, "%lld B", n);
	else
		snprintf(out, cap, "%.1f %s", d, unit[u]);
}

void
print_generic(const struct ctl_cmd *c, const json_t *r)
{
	char	*s = json_dumps(r, JSON_INDENT(2) | JSON_ENCODE_ANY |
	    CTL_JSON_REAL);

	(void)c;
	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

void
print_done(const struct ctl_cmd *c, const json_t *r)
{
	(void)r;
	printf("ok: %s %s\n", c->words[0], c->words[1] ? c->words[1] : "");
}

void
print_accounts(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*arr = json_object_get(r, "accounts"), *a;
	size_t		 i;

	(void)c;
	if (json_array_size(arr) == 0) {
		printf("no accounts\n");
		return;
	}
	printf("%-30s %-11s %-32s %-24s %s\n", "HANDLE", "STATUS", "DID",
	    "CREATED", "EMAIL");
	json_array_foreach(arr, i, a)
		printf("%-30s %-11s %-32s %-24s %s\n", out_str(a, "handle"),
		    out_str(a, "status"), out_str(a, "did"),
		    out_str(a, "indexedAt"), out_str_or(a, "email", "-"));
	printf("(%zu account%s)\n", json_array_size(arr),
	    json_array_size(arr) == 1 ? "" : "s");
	if (json_object_get(r, "cursor") != NULL)
		printf("more: --cursor '%s'\n", out_str(r, "cursor"));
}

static void
kv(const char *k, const char *v)
{
	if (v != NULL && *v != '\0')
		printf("%-18s %s\n", k, v);
}

void
print_account(const struct ctl_cmd *c, const json_t *a)
{
	const json_t	*inv = json_object_get(a, "invites"), *e, *by;
	const json_t	*repo, *blobs;
	char		 b[32], line[128];
	size_t		 i;

	(void)c;
	kv("did:", out_str(a, "did"));
	kv("handle:", out_str(a, "handle"));
	kv("email:", out_str_or(a, "email", "-"));
	kv("status:", out_str(a, "status"));
	kv("created:", out_str(a, "indexedAt"));
	kv("email confirmed:", out_str(a, "emailConfirmedAt"));
	kv("deactivated:", out_str(a, "deactivatedAt"));
	kv("takedown ref:", out_str(a, "takedownRef"));
	kv("invites:", json_is_true(json_object_get(a, "invitesDisabled")) ?
	    "disabled" : "enabled");
	if ((repo = json_object_get(a, "repo")) != NULL) {
		human_bytes(b, sizeof(b), num(repo, "bytes"));
		snprintf(line, sizeof(line), "%lld records, %lld blocks, %s",
		    num(repo, "records"), num(repo, "blocks"), b);
		kv("repo:", line);
	}
	if ((blobs = json_object_get(a, "blobs")) != NULL) {
		human_bytes(b, sizeof(b), num(blobs, "bytes"));
		snprintf(line, sizeof(line), "%lld (%s)", num(blobs, "count"),
		    b);
		kv("blobs:", line);
	}
	if ((by = json_object_get(a, "invitedBy")) != NULL)
		kv("invited with:", out_str(by, "code"));
	json_array_foreach(inv, i, e)
		printf("%-18s %s (%lld of %lld used%s)\n", i == 0 ?
		    "invite codes:" : "", out_str(e, "code"),
		    (long long)json_array_size(json_object_get(e, "uses")),
		    num(e, "available"), json_is_true(json_object_get(e,
		    "disabled")) ? ", disabled" : "");
}

void
print_created(const struct ctl_cmd *c, const json_t *r)
{
	(void)c;
	kv("did:", out_str(r, "did"));
	kv("handle:", out_str(r, "handle"));
	if (json_object_get(r, "password") != NULL)
		printf("%-18s %s\n%-18s %s\n", "password:",
		    out_str(r, "password"), "",
		    "(shown only now; give it to the member)");
}

void
print_password(const struct ctl_cmd *c, const json_t *r)
{
	(void)c;
	if (json_object_get(r, "password") != NULL)
		printf("new password: %s\n", out_str(r, "password"));
	else
		printf("password changed; every session was ended\n");
}

void
print_status(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*s = json_object_get(r, "subject");
	const json_t	*td = json_object_get(r, "takedown");
	const json_t	*de = json_object_get(r, "deactivated");
	const char	*type = out_str(s, "$type");

	(void)c;
	if (strstr(type, "repoRef") != NULL)
		printf("account %s", out_str(s, "did"));
	else if (strstr(type, "strongRef") != NULL)
		printf("record %s", out_str(s, "uri"));
	else
		printf("blob %s %s", out_str(s, "did"), out_str(s, "cid"));
	if (json_is_true(json_object_get(td, "applied")))
		printf(": taken down (ref %s)", out_str(td, "ref"));
	else
		printf(": not taken down");
	if (de != NULL)
		printf(", %s", json_is_true(json_object_get(de, "applied")) ?
		    "deactivated" : "not deactivated");
	printf("\n");
}

void
print_codes(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*e;
	size_t		 i;

	(void)c;
	json_array_foreach(json_object_get(r, "codes"), i, e)
		printf("%s\n", json_string_value(e));
}

void
print_invites(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*arr = json_object_get(r, "codes"), *e;
	size_t		 i;

	(void)c;
	if (json_array_size(arr) == 0) {
		printf("no invite codes\n");
		return;
	}
	printf("%-36s %5s %5s %-8s %-32s %s\n", "CODE", "USED", "OF",
	    "STATE", "FOR", "CREATED");
	json_array_foreach(arr, i, e)
		printf("%-36s %5zu %5lld %-8s %-32s %s\n", out_str(e, "code"),
		    json_array_size(json_object_get(e, "uses")),
		    num(e, "available"), json_is_true(json_object_get(e,
		    "disabled")) ? "disabled" : "enabled",
		    out_str(e, "forAccount"), out_str(e, "createdAt"));
}

void
print_migrations(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*in = json_object_get(r, "inbound");
	const json_t	*out = json_object_get(r, "outbound"), *e;
	char		 recs[48], blobs[48];
	size_t		 i;

	(void)c;
	if (json_array_size(in) == 0 && json_array_size(out) == 0) {
		printf("no accounts in migration\n");
		return;
	}
	if (json_array_size(in) > 0) {
		printf("moving here:\n%-32s %-28s %-10s %-12s %-9s %s\n",
		    "DID", "HANDLE", "STATE", "RECORDS", "BLOBS", "FROM");
		json_array_foreach(in, i, e) {
			if (json_is_integer(json_object_get(e,
			    "recordsExpected")))
				snprintf(recs, sizeof(recs), "%lld/%lld",
				    num(e, "records"),
				    num(e, "recordsExpected"));
			else
				snprintf(recs, sizeof(recs), "%lld",
				    num(e, "records"));
			snprintf(blobs, sizeof(blobs), "%lld/%lld",
			    num(e, "blobs"), num(e, "blobsExpected"));
			printf("%-32s %-28s %-10s %-12s %-9s %s\n",
			    out_str(e, "did"), out_str(e, "handle"),
			    out_str(e, "state"), recs, blobs,
			    out_str_or(e, "from", "-"));
		}
	}
	if (json_array_size(out) > 0) {
		printf("%smoving away:\n%-32s %-28s %-11s %s\n",
		    json_array_size(in) > 0 ? "\n" : "", "DID", "HANDLE",
		    "STATE", "DID DOCUMENT NAMES");
		json_array_foreach(out, i, e)
			printf("%-32s %-28s %-11s %s\n", out_str(e, "did"),
			    out_str(e, "handle"), out_str(e, "state"),
			    json_object_get(e, "didError") != NULL ?
			    out_str(e, "didError") :
			    out_str_or(e, "didPds", "-"));
	}
}

void
print_purged(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*arr = json_object_get(r, "purged"), *e;
	size_t		 i;

	(void)c;
	if (json_array_size(arr) == 0) {
		printf("nothing to purge: no account has moved away\n");
		return;
	}
	json_array_foreach(arr, i, e)
		printf("purged %s\n", json_string_value(e));
}

void
print_token(const struct ctl_cmd *c, const json_t *r)
{
	(void)c;
	kv("did:", out_str(r, "did"));
	kv("purpose:", out_str(r, "purpose"));
	kv("token:", out_str(r, "token"));
	kv("expires:", out_str(r, "expiresAt"));
}

void
print_sessions(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*s = json_object_get(r, "sessions");
	const json_t	*ap = json_object_get(r, "appPasswords");
	const json_t	*g = json_object_get(r, "oauthGrants"), *e, *d;
	size_t		 i;

	(void)c;
	printf("%s (%s)\n", out_str(r, "handle"), out_str(r, "did"));
	printf("\npassword sessions: %zu\n", json_array_size(s));
	if (json_array_size(s) > 0)
		printf("  %-44s %-24s %-24s %s\n", "ID", "ISSUED", "EXPIRES",
		    "APP PASSWORD");
	json_array_foreach(s, i, e)
		printf("  %-44s %-24s %-24s %s\n", out_str(e, "id"),
		    out_str_or(e, "issuedAt", "-"), out_str(e, "expiresAt"),
		    out_str_or(e, "appPassword", "-"));
	printf("\napp passwords: %zu\n", json_array_size(ap));
	if (json_array_size(ap) > 0)
		printf("  %-32s %-10s %s\n", "NAME", "PRIVILEGED", "CREATED");
	json_array_foreach(ap, i, e)
		printf("  %-32s %-10s %s\n", out_str(e, "name"),
		    json_is_true(json_object_get(e, "privileged")) ? "yes" :
		    "no", out_str(e, "createdAt"));
	printf("\nOAuth grants: %zu\n", json_array_size(g));
	if (json_array_size(g) > 0)
		printf("  %-6s %-24s %-24s %-24s %s\n", "ID", "CREATED",
		    "LAST REFRESHED", "SCOPE", "CLIENT");
	json_array_foreach(g, i, e) {
		printf("  %-6s %-24s %-24s %-24s %s\n", out_str(e, "id"),
		    out_str(e, "createdAt"), out_str(e, "updatedAt"),
		    out_str(e, "scope"), out_str(e, "clientId"));
		if ((d = json_object_get(e, "device")) != NULL)
			printf("  %-6s device %s%s%s%s%s\n", "",
			    out_str(d, "id"),
			    json_object_get(d, "ip") ? ", " : "",
			    out_str(d, "ip"), json_object_get(d, "userAgent") ?
			    ", " : "", out_str(d, "userAgent"));
	}
}

void
print_revoked(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*n = json_object_get(r, "revoked");

	(void)c;
	printf("ended for %s: %lld session%s, %lld app password%s, "
	    "%lld OAuth grant%s\n", out_str(r, "did"), num(n, "sessions"),
	    num(n, "sessions") == 1 ? "" : "s", num(n, "appPasswords"),
	    num(n, "appPasswords") == 1 ? "" : "s", num(n, "oauthGrants"),
	    num(n, "oauthGrants") == 1 ? "" : "s");
}

static double
counter_rate(const json_t *r, const char *name)
{
	return json_number_value(json_object_get(json_object_get(
	    json_object_get(r, "counters"), name), "rate"));
}

/* Seconds as "3d 4h 5m 6s", leaving out the leading zero units. */
static void
duration(char *out, size_t cap, long long s)
{
	long long	 d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;

	if (d > 0)
		snprintf(out, cap, "%lldd %lldh %lldm %llds", d, h, m, s % 60);
	else if (h > 0)
		snprintf(out, cap, "%lldh %lldm %llds", h, m, s % 60);
	else if (m > 0)
		snprintf(out, cap, "%lldm %llds", m, s % 60);
	else
		snprintf(out, cap, "%llds", s);
}

/* The blob store's line, and S3's health when it is in use. */
static void
print_blobstore(const json_t *b)
{
	const json_t	*s3 = json_object_get(b, "s3");

	if (b == NULL)
		return;
	printf("blob store:   %s", out_str(b, "store"));
	if (s3 != NULL)
		printf(" (S3 %s at %s: %lld ok, %lld failed, %lld retried, "
		    "last %lld ms, avg %lld ms)", out_str(s3, "bucket"),
		    out_str(s3, "endpoint"), num(s3, "ok"), num(s3, "failed"),
		    num(s3, "retries"), num(s3, "lastMs"), num(s3, "avgMs"));
	printf("\n");
	if (json_object_get(s3, "lastError") != NULL)
		printf("  last error: %s: %s\n", out_str(s3, "lastErrorAt"),
		    out_str(s3, "lastError"));
}

void
print_stats(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*a = json_object_get(r, "accounts");
	const json_t	*repo = json_object_get(r, "repo");
	const json_t	*blobs = json_object_get(r, "blobs");
	const json_t	*fh = json_object_get(r, "firehose");
	const json_t	*ctr = json_object_get(r, "counters"), *v;
	const char	*k;
	char		 b1[32], b2[32], up[48];

	(void)c;
	human_bytes(b1, sizeof(b1), num(repo, "bytes"));
	human_bytes(b2, sizeof(b2), num(blobs, "bytes"));
	printf("pdsd %s at %s\n", out_str(r, "version"), out_str(r, "at"));
	if (json_is_integer(json_object_get(r, "uptime"))) {
		duration(up, sizeof(up), num(r, "uptime"));
		printf("uptime:       %s\n", up);
	}
	if (json_object_get(r, "lastCrawl") != NULL)
		printf("last crawl:   %s\n",
		    out_str_or(r, "lastCrawl", "never"));
	if (json_object_get(ctr, "http.requests") != NULL)
		printf("http:         %lld requests (%.1f/s), %lld errors "
		    "(%.1f/s)\n", num(json_object_get(ctr, "http.requests"),
		    "value"), counter_rate(r, "http.requests"),
		    num(json_object_get(ctr, "http.errors"), "value"),
		    counter_rate(r, "http.errors"));
	printf("accounts:     %lld (%lld active, %lld deactivated, "
	    "%lld taken down)\n", num(a, "total"), num(a, "active"),
	    num(a, "deactivated"), num(a, "takendown"));
	printf("repositories: %s in %lld blocks, %lld records\n", b1,
	    num(repo, "blocks"), num(repo, "records"));
	printf("blobs:        %s in %lld blobs\n", b2, num(blobs, "count"));
	print_blobstore(json_object_get(r, "blobstore"));
	printf("firehose:     %lld subscribers, %lld events (last seq %lld)"
	    "\n", num(fh, "subscribers"), num(fh, "events"),
	    num(fh, "lastSeq"));
	printf("invite codes: %lld open\n", num(r, "invitesOpen"));
	printf("audit log:    %lld entries\n", num(r, "auditEntries"));
	if (json_object_size(ctr) > 0) {
		printf("counters:\n");
		json_object_foreach((json_t *)ctr, k, v) {
			if (json_object_get(v, "rate") != NULL)
				printf("  %-28s %12lld  %8.1f/s\n", k,
				    num(v, "value"), json_number_value(
				    json_object_get(v, "rate")));
			else
				printf("  %-28s %12lld\n", k, num(v, "value"));
		}
	}
}

void
event_stats(const struct ctl_cmd *c, const json_t *r)
{
	(void)c;
	printf("%s accounts=%lld repo=%lldB blobs=%lldB subscribers=%lld "
	    "events=%lld http=%.1f/s errors=%.1f/s firehose=%.1f/s "
	    "admin=%.1f/s\n",
	    out_str(r, "at"), num(json_object_get(r, "accounts"), "total"),
	    num(json_object_get(r, "repo"), "bytes"),
	    num(json_object_get(r, "blobs"), "bytes"),
	    num(json_object_get(r, "firehose"), "subscribers"),
	    num(json_object_get(r, "firehose"), "events"),
	    counter_rate(r, "http.requests"),
	    counter_rate(r, "http.errors"),
	    counter_rate(r, "firehose.events"),
	    counter_rate(r, "admin.requests"));
}

void
print_subscribers(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*arr = json_object_get(r, "subscribers"), *e;
	size_t		 i;

	(void)c;
	if (json_array_size(arr) == 0) {
		printf("no firehose subscribers\n");
		return;
	}
	printf("%6s %-40s %10s %10s %10s %12s %10s\n", "ID", "REMOTE",
	    "CURSOR", "SEQ", "EVENTS", "BYTES", "QUEUED");
	json_array_foreach(arr, i, e)
		printf("%6lld %-40s %10lld %10lld %10lld %12lld %10lld\n",
		    num(e, "id"), out_str(e, "remote"), num(e, "cursor"),
		    num(e, "seq"), num(e, "events"), num(e, "bytes"),
		    num(e, "queued"));
}

void
print_crawl(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*e;
	size_t		 i;

	(void)c;
	json_array_foreach(json_object_get(r, "relays"), i, e) {
		if (json_is_true(json_object_get(e, "ok")))
			printf("%s: ok\n", out_str(e, "relay"));
		else
			printf("%s: failed: %s\n", out_str(e, "relay"),
			    out_str(e, "error"));
	}
}

void
print_audit(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*arr = json_object_get(r, "entries"), *e;
	size_t		 i;

	(void)c;
	if (json_array_size(arr) == 0) {
		printf("no audit entries\n");
		return;
	}
	printf("%-24s %-24s %-8s %-24s %-34s %s\n", "TIME", "ACTOR",
	    "OUTCOME", "ACTION", "SUBJECT", "REASON");
	json_array_foreach(arr, i, e)
		printf("%-24s %-24s %-8s %-24s %-34s %s\n", out_str(e, "at"),
		    out_str(e, "actor"), out_str_or(e, "outcome", "ok"),
		    out_str(e, "action"), out_str_or(e, "subject", "-"),
		    out_str_or(e, "reason", "-"));
}

void
print_backup(const struct ctl_cmd *c, const json_t *r)
{
	char	 b[32];

	(void)c;
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\n");
	human_bytes(b, sizeof(b), num(r, "bytes"));
	printf("backup written to %s (%s, %lld pages, %.1f s)\n",
	    out_str(r, "dest"), b, num(r, "pages"),
	    json_number_value(json_object_get(r, "seconds")));
	if (json_object_get(r, "manifest") != NULL) {
		human_bytes(b, sizeof(b), num(r, "blobBytes"));
		printf("%lld blobs (%s) beside it; manifest %s\n",
		    num(r, "blobs"), b, out_str(r, "manifest"));
		if (num(r, "missingBlobs") > 0)
			fprintf(stderr, "pdsctl: backup: warning: %lld blobs "
			    "had lost their files before this backup (listed "
			    "in the manifest as missingBlobs)\n",
			    num(r, "missingBlobs"));
	}
}

void
event_backup(const struct ctl_cmd *c, const json_t *e)
{
	bool	 tty = isatty(STDERR_FILENO);

	(void)c;
	if (json_object_get(e, "filesTotal") != NULL)
		fprintf(stderr, "%sbackup: %s %3lld%% (%lld/%lld files)%s",
		    tty ? "\r" : "", out_str(e, "phase"), num(e, "percent"),
		    num(e, "filesDone"), num(e, "filesTotal"),
		    tty ? "" : "\n");
	else
		fprintf(stderr, "%sbackup: %s %3lld%% (%lld/%lld pages)%s",
		    tty ? "\r" : "", out_str(e, "phase"), num(e, "percent"),
		    num(e, "pagesDone"), num(e, "pagesTotal"),
		    tty ? "" : "\n");
	fflush(stderr);
}

/* One firehose event: seq, time, type, DID, then what it says. */
void
event_tail(const struct ctl_cmd *c, const json_t *e)
{
	const json_t	*ops = json_object_get(e, "ops"), *op, *v;
	const char	*type = out_str(e, "type");
	size_t		 i;

	(void)c;
	printf("%-8lld %-24s %-8s %s", num(e, "seq"), out_str(e, "time"), type,
	    out_str(e, "did"));
	if (strcmp(type, "identity") == 0)
		printf(" handle=%s", out_str_or(e, "handle", "-"));
	else if (strcmp(type, "account") == 0) {
		v = json_object_get(e, "active");
		printf(" %s", json_is_true(v) ? "active" : "inactive");
		if (json_object_get(e, "status") != NULL)
			printf(" status=%s", out_str(e, "status"));
	} else if (strcmp(type, "sync") == 0)
		printf(" rev=%s", out_str(e, "rev"));
	else if (strcmp(type, "commit") == 0) {
		printf(" rev=%s", out_str(e, "rev"));
		json_array_foreach(ops, i, op)
			printf("%s %s %s", i == 0 ? "" : ",",
			    out_str(op, "action"), out_str(op, "path"));
		if (json_object_get(e, "opsTotal") != NULL)
			printf(" (%lld ops in all)", num(e, "opsTotal"));
		if (json_is_true(json_object_get(e, "tooBig")))
			printf(" (tooBig)");
	}
	printf("\n");
}

/* blobstore migrate: the counts at the end, a progress bar meanwhile. */
void
print_blobstore_migrate(const struct ctl_cmd *c, const json_t *r)
{
	char	 b[32];

	(void)c;
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\n");
	human_bytes(b, sizeof(b), num(r, "bytes"));
	printf("blobs moved from %s to %s: %lld of %lld (%s): %lld copied "
	    "and verified, %lld there already, %lld missing, %lld failed "
	    "(%.1f s)\n", out_str(r, "from"), out_str(r, "to"), num(r, "done"),
	    num(r, "total"), b, num(r, "copied"), num(r, "already"),
	    num(r, "missing"), num(r, "failed"),
	    json_number_value(json_object_get(r, "seconds")));
	if (json_object_get(r, "lastError") != NULL)
		printf("last failure: %s\n", out_str(r, "lastError"));
}

void
event_blobstore_migrate(const struct ctl_cmd *c, const json_t *e)
{
	bool		 tty = isatty(STDERR_FILENO);
	char		 bar[31];
	long long	 pct = num(e, "percent"), i, fill;

	(void)c;
	fill = pct * 30 / 100;
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "%sblobs to %s [%s] %3lld%% (%lld/%lld, %lld failed)%s",
	    tty ? "\r" : "", out_str(e, "to"), bar, pct, num(e, "done"),
	    num(e, "total"), num(e, "failed"), tty ? "" : "\n");
	fflush(stderr);
}
