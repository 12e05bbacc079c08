/*
 * dns: handles on a domain whose apex runs something else.
 *
 *   pdsctl dns zone [--origin DOMAIN]
 *	the _atproto TXT record of every account, as zone-file lines
 *   pdsctl dns check [HANDLE] [--nameserver ADDR[:PORT]] [--via URL]
 *	whether each handle resolves to its account's DID, by DNS and
 *	by https://HANDLE/.well-known/atproto-did
 *
 * The accounts come from pdsd (account.list, account.show); the lookups
 * are made here: DNS with libresolv's res_nquery (the system's
 * resolv.conf, or --nameserver), HTTPS with libcurl.  Both answers are
 * read by libcommon/handleres.c.  One handle at a time, each lookup
 * bounded in time and size; progress goes to a terminal's stderr.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "handleres.h"
#include "pdsctl.h"
#include "syntax.h"

#define DNS_ANSWER_MAX		65536
#define DNS_TIMEOUT_S		2	/* per try, per server */
#define DNS_TRIES		2
#define HTTP_TIMEOUT_MS		5000L
#define HTTP_CONNECT_MS		3000L
#define HTTP_BODY_MAX		4096	/* a DID and a newline, generously */
#define HTTP_REDIRECTS		3L
#define LIST_PAGE		500
#define TXT_STRING_MAX		255	/* one character-string */

struct member {
	char	*handle;
	char	*did;
};

struct members {
	struct member	*v;
	size_t		 n;
};

static void
members_free(struct members *ms)
{
	size_t	 i;

	for (i = 0; i < ms->n; i++) {
		free(ms->v[i].handle);
		free(ms->v[i].did);
	}
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}

/* Keep an account with a real handle and a DID. */
static int
members_add(struct members *ms, const json_t *a)
{
	const char	*h = json_string_value(json_object_get(a, "handle"));
	const char	*d = json_string_value(json_object_get(a, "did"));
	struct member	*nv;

	if (h == NULL || d == NULL || strcmp(h, "handle.invalid") == 0 ||
	    !syntax_is_handle(h, strlen(h)) || !syntax_is_did(d, strlen(d)))
		return EXIT_OK;
	if ((nv = reallocarray(ms->v, ms->n + 1, sizeof(*nv))) == NULL)
		return EXIT_FAIL;
	ms->v = nv;
	nv[ms->n].handle = strdup(h);
	nv[ms->n].did = strdup(d);
	if (nv[ms->n].handle == NULL || nv[ms->n].did == NULL) {
		free(nv[ms->n].handle);
		free(nv[ms->n].did);
		return EXIT_FAIL;
	}
	for (char *p = nv[ms->n].handle; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	ms->n++;
	return EXIT_OK;
}

/* Every account, page by page; or the one named. */
static int
members_fetch(struct ctl_conn *c, const char *one, struct members *ms,
    struct adminproto_msg *m)
{
	json_t		*args, *page = NULL, *a;
	const char	*cursor;
	size_t		 i;
	int		 rc;

	if (one != NULL) {
		args = json_pack("{s:s}", "account", one);
		rc = ctl_request(c, "account.show", args, NULL, NULL, &page, m);
		json_decref(args);
		if (rc == EXIT_OK)
			rc = members_add(ms, page);
		json_decref(page);
		return rc;
	}
	args = json_pack("{s:i}", "limit", LIST_PAGE);
	for (;;) {
		rc = ctl_request(c, "account.list", args, NULL, NULL, &page, m);
		if (rc != EXIT_OK)
			break;
		json_array_foreach(json_object_get(page, "accounts"), i, a)
			if ((rc = members_add(ms, a)) != EXIT_OK)
				break;
		cursor = json_string_value(json_object_get(page, "cursor"));
		if (rc != EXIT_OK || cursor == NULL ||
		    json_array_size(json_object_get(page, "accounts")) == 0)
			break;
		json_object_set_new(args, "cursor", json_string(cursor));
		json_decref(page);
		page = NULL;
	}
	json_decref(page);
	json_decref(args);
	return rc;
}

/* ---- dns zone ---- */

/* The record's name: absolute, or relative to origin; NULL: not under it. */
static const char *
zone_name(const char *handle, const char *origin, char *buf, size_t cap)
{
	size_t	 hl = strlen(handle), ol;

	if (origin == NULL) {
		snprintf(buf, cap, "_atproto.%s.", handle);
		return buf;
	}
	ol = strlen(origin);
	if (strcasecmp(handle, origin) == 0) {
		snprintf(buf, cap, "_atproto");
		return buf;
	}
	if (hl > ol + 1 && handle[hl - ol - 1] == '.' &&
	    strcasecmp(handle + hl - ol, origin) == 0) {
		snprintf(buf, cap, "_atproto.%.*s", (int)(hl - ol - 1), handle);
		return buf;
	}
	return NULL;
}

/* "did=DID" as one or more quoted character-strings. */
static void
print_txt(const char *did)
{
	char	 v[4 + HANDLERES_DID_MAX + 1];
	size_t	 n, off;

	n = (size_t)snprintf(v, sizeof(v), "did=%s", did);
	for (off = 0; off < n; off += TXT_STRING_MAX)
		printf("%s\"%.*s\"", off ? " " : "", (int)(n - off <
		    TXT_STRING_MAX ? n - off : TXT_STRING_MAX), v + off);
}

static int
run_dns_zone(struct ctl_conn *c, const struct ctl_parsed *p,
    struct adminproto_msg *m)
{
	const char	*origin = json_string_value(json_object_get(p->args,
			    "origin"));
	struct members	 ms = { NULL, 0 };
	json_t		*out = NULL, *recs = NULL;
	char		 name[HANDLE_MAX + 16], o[HANDLE_MAX + 1];
	size_t		 i, skipped = 0;
	int		 rc;

	if (origin != NULL) {
		snprintf(o, sizeof(o), "%s", origin);
		if (o[0] != '\0' && o[strlen(o) - 1] == '.')
			o[strlen(o) - 1] = '\0';
		if (!syntax_is_handle(o, strlen(o))) {
			fprintf(stderr, "pdsctl: --origin %s: not a domain "
			    "name\n", origin);
			return EXIT_USAGE;
		}
		origin = o;
	}
	if ((rc = members_fetch(c, NULL, &ms, m)) != EXIT_OK) {
		members_free(&ms);
		return rc;
	}
	if (ctl_json) {
		out = json_object();
		recs = json_array();
		json_object_set_new(out, "records", recs);
	} else
		printf("; atproto handle records for %zu account%s "
		    "(pdsctl dns zone)\n", ms.n, ms.n == 1 ? "" : "s");
	for (i = 0; i < ms.n; i++) {
		if (zone_name(ms.v[i].handle, origin, name, sizeof(name)) ==
		    NULL) {
			skipped++;
			continue;
		}
		if (ctl_json) {
			json_array_append_new(recs, json_pack("{s:s,s:s,s:o,s:s,"
			    "s:s}", "name", name, "type", "TXT", "value",
			    json_sprintf("did=%s", ms.v[i].did), "handle",
			    ms.v[i].handle, "did", ms.v[i].did));
			continue;
		}
		printf("%s TXT ", name);
		print_txt(ms.v[i].did);
		putchar('\n');
	}
	if (skipped > 0)
		fprintf(stderr, "pdsctl: %zu handle%s not under %s left out\n",
		    skipped, skipped == 1 ? "" : "s", origin);
	if (ctl_json) {
		out_json(out);
		json_decref(out);
	}
	members_free(&ms);
	return EXIT_OK;
}

/* ---- dns check ---- */

struct lookup {
	enum handleres_result	 r;
	bool			 error;		/* no answer at all */
	char			 why[160];	/* for an error */
	long			 status;	/* HTTP */
	char			 did[HANDLERES_DID_MAX + 1];
};

struct checker {
	struct __res_state	 rs;
	bool			 rs_ok;
	CURL			*curl;
	const char		*via;
	unsigned char		*answer;
};

/* ADDR or ADDR:PORT (IPv4) as the one name server to ask. */
static int
set_nameserver(struct __res_state *rs, const char *spec)
{
	char		 host[INET_ADDRSTRLEN + 1];
	const char	*colon = strchr(spec, ':');
	char		*end;
	long		 port = 53;
	struct in_addr	 a;
	size_t		 hl = colon ? (size_t)(colon - spec) : strlen(spec);

	if (hl >= sizeof(host))
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == colon + 1 || port < 1 ||
		    port > 65535)
			return -1;
	}
	if (inet_pton(AF_INET, host, &a) != 1)
		return -1;
	rs->nscount = 1;
	memset(&rs->nsaddr_list[0], 0, sizeof(rs->nsaddr_list[0]));
	rs->nsaddr_list[0].sin_family = AF_INET;
	rs->nsaddr_list[0].sin_addr = a;
	rs->nsaddr_list[0].sin_port = htons((uint16_t)port);
	return 0;
}

static void
dns_lookup(struct checker *k, const char *handle, struct lookup *l)
{
	char	 q[HANDLE_MAX + 16];
	int	 n;

	snprintf(q, sizeof(q), "_atproto.%s", handle);
	n = res_nquery(&k->rs, q, ns_c_in, ns_t_txt, k->answer,
	    DNS_ANSWER_MAX);
	if (n < 0) {
		switch (k->rs.res_h_errno) {
		case HOST_NOT_FOUND:
		case NO_DATA:
			l->r = HANDLERES_NONE;
			return;
		case TRY_AGAIN:
			snprintf(l->why, sizeof(l->why), "no answer (timeout "
			    "or server failure)");
			break;
		default:
			snprintf(l->why, sizeof(l->why), "lookup failed");
			break;
		}
		l->error = true;
		return;
	}
	l->r = handleres_dns(k->answer, (size_t)n, q, l->did, NULL);
	if (l->r == HANDLERES_MALFORMED) {
		l->error = true;
		snprintf(l->why, sizeof(l->why), "malformed answer");
	}
}

struct body {
	char	 b[HTTP_BODY_MAX];
	size_t	 n;
	bool	 over;
};

static size_t
body_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct body	*b = arg;
	size_t		 n = size * nmemb;

	if (n > sizeof(b->b) - b->n) {
		b->over = true;
		return 0;		/* ends the transfer */
	}
	memcpy(b->b + b->n, p, n);
	b->n += n;
	return n;
}

static void
https_lookup(struct checker *k, const char *handle, struct lookup *l)
{
	struct curl_slist	*hdr = NULL;
	struct body		 b;
	char			 url[HANDLE_MAX + 2048], host[HANDLE_MAX + 8];
	CURLcode		 cc;

	b.n = 0;
	b.over = false;
	if (k->via != NULL) {
		snprintf(url, sizeof(url), "%s/.well-known/atproto-did",
		    k->via);
		snprintf(host, sizeof(host), "Host: %s", handle);
		hdr = curl_slist_append(NULL, host);
	} else
		snprintf(url, sizeof(url), "https://%s/.well-known/atproto-did",
		    handle);
	curl_easy_reset(k->curl);
	curl_easy_setopt(k->curl, CURLOPT_URL, url);
	curl_easy_setopt(k->curl, CURLOPT_PROTOCOLS_STR, k->via != NULL ?
	    "http,https" : "https");
	curl_easy_setopt(k->curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(k->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(k->curl, CURLOPT_MAXREDIRS, HTTP_REDIRECTS);
	curl_easy_setopt(k->curl, CURLOPT_TIMEOUT_MS, HTTP_TIMEOUT_MS);
	curl_easy_setopt(k->curl, CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_MS);
	curl_easy_setopt(k->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->curl, CURLOPT_USERAGENT, "pdsctl (dns check)");
	curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, &b);
	if (hdr != NULL)
		curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, hdr);
	cc = curl_easy_perform(k->curl);
	curl_slist_free_all(hdr);
	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &l->status);
	if (b.over) {
		l->error = true;
		snprintf(l->why, sizeof(l->why), "body over %d bytes",
		    HTTP_BODY_MAX);
		return;
	}
	if (cc != CURLE_OK) {
		l->error = true;
		snprintf(l->why, sizeof(l->why), "%s", curl_easy_strerror(cc));
		return;
	}
	if (l->status < 200 || l->status > 299) {
		l->r = HANDLERES_NONE;
		return;
	}
	l->r = handleres_wellknown(b.b, b.n, l->did);
}

/* One method's word for the table. */
static const char *
method_word(const struct lookup *l, const char *want, char *buf, size_t cap)
{
	if (l->error)
		return "error";
	if (l->r == HANDLERES_OK)
		return strcmp(l->did, want) == 0 ? "ok" : "wrong";
	if (l->r == HANDLERES_NONE && l->status > 0 && (l->status < 200 ||
	    l->status > 299)) {
		snprintf(buf, cap, "http %ld", l->status);
		return buf;
	}
	return handleres_name(l->r);
}

static json_t *
method_json(const struct lookup *l, const char *want, bool http)
{
	char	 w[32];
	json_t	*o = json_pack("{s:s}", "result", method_word(l, want, w,
		    sizeof(w)));

	if (l->r == HANDLERES_OK && !l->error)
		json_object_set_new(o, "did", json_string(l->did));
	if (l->error)
		json_object_set_new(o, "error", json_string(l->why));
	if (http && l->status > 0)
		json_object_set_new(o, "status", json_integer(l->status));
	return o;
}

/*
 * What a resolver would conclude: the DNS record when there is exactly
 * one, else the well-known answer.
 */
static const char *
resolved_by(const struct lookup *dns, const struct lookup *web,
    const char **did)
{
	if (!dns->error && dns->r == HANDLERES_OK) {
		*did = dns->did;
		return "dns";
	}
	if (!web->error && web->r == HANDLERES_OK) {
		*did = web->did;
		return "https";
	}
	*did = NULL;
	return NULL;
}

static void
check_print(const struct member *mb, const struct lookup *dns,
    const struct lookup *web, const char *by, const char *got, bool ok)
{
	char	 w1[32], w2[32];
	const char *res;

	res = ok ? "ok" : got == NULL ? "unresolved" :
	    strcmp(by, "dns") == 0 ? "wrong DID by DNS" : "wrong DID by HTTPS";
	printf("%-34s %-9s %-9s %s\n", mb->handle,
	    method_word(dns, mb->did, w1, sizeof(w1)),
	    method_word(web, mb->did, w2, sizeof(w2)), res);
	if (dns->error)
		printf("    dns: %s\n", dns->why);
	else if (dns->r == HANDLERES_OK && strcmp(dns->did, mb->did) != 0)
		printf("    dns: %s, want %s\n", dns->did, mb->did);
	if (web->error)
		printf("    https: %s\n", web->why);
	else if (web->r == HANDLERES_OK && strcmp(web->did, mb->did) != 0)
		printf("    https: %s, want %s\n", web->did, mb->did);
}

static int
checker_init(struct checker *k, const json_t *args)
{
	const char	*ns = json_string_value(json_object_get(args,
			    "nameserver"));

	memset(k, 0, sizeof(*k));
	k->via = json_string_value(json_object_get(args, "via"));
	if (k->via != NULL && strncmp(k->via, "http://", 7) != 0 &&
	    strncmp(k->via, "https://", 8) != 0) {
		fprintf(stderr, "pdsctl: --via %s: not an http(s) URL\n",
		    k->via);
		return EXIT_USAGE;
	}
	if (res_ninit(&k->rs) != 0) {
		fprintf(stderr, "pdsctl: cannot set up the DNS resolver\n");
		return EXIT_FAIL;
	}
	k->rs_ok = true;
	k->rs.retrans = DNS_TIMEOUT_S;
	k->rs.retry = DNS_TRIES;
	if (ns != NULL && set_nameserver(&k->rs, ns) != 0) {
		fprintf(stderr, "pdsctl: --nameserver %s: expected an IPv4 "
		    "address, with :PORT if not 53\n", ns);
		return EXIT_USAGE;
	}
	if ((k->answer = malloc(DNS_ANSWER_MAX)) == NULL ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (k->curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "pdsctl: cannot set up libcurl\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static void
checker_fini(struct checker *k)
{
	if (k->curl != NULL)
		curl_easy_cleanup(k->curl);
	if (k->rs_ok)
		res_nclose(&k->rs);
	free(k->answer);
}

static int
run_dns_check(struct ctl_conn *c, const struct ctl_parsed *p,
    struct adminproto_msg *m)
{
	const char	*one = json_string_value(json_object_get(p->args,
			    "handle"));
	struct members	 ms = { NULL, 0 };
	struct checker	 k;
	struct lookup	 dns, web;
	json_t		*out = NULL, *arr = NULL, *o;
	const char	*by, *got;
	size_t		 i, good = 0;
	bool		 ok, progress;
	int		 rc;

	if ((rc = checker_init(&k, p->args)) != EXIT_OK)
		goto out;
	if ((rc = members_fetch(c, one, &ms, m)) != EXIT_OK)
		goto out;
	if (one != NULL && ms.n == 0) {
		fprintf(stderr, "pdsctl: %s has no handle to check\n", one);
		rc = EXIT_NOTFOUND;
		goto out;
	}
	progress = !ctl_json && isatty(STDERR_FILENO) && ms.n > 1;
	if (ctl_json) {
		out = json_object();
		arr = json_array();
	} else
		printf("%-34s %-9s %-9s %s\n", "HANDLE", "DNS", "HTTPS",
		    "RESULT");
	for (i = 0; i < ms.n; i++) {
		if (progress) {
			fprintf(stderr, "\rchecking %zu of %zu", i + 1, ms.n);
			fflush(stderr);
		}
		memset(&dns, 0, sizeof(dns));
		memset(&web, 0, sizeof(web));
		dns_lookup(&k, ms.v[i].handle, &dns);
		https_lookup(&k, ms.v[i].handle, &web);
		by = resolved_by(&dns, &web, &got);
		ok = got != NULL && strcmp(got, ms.v[i].did) == 0;
		good += ok;
		if (progress)
			fprintf(stderr, "\r\033[K");
		if (!ctl_json) {
			check_print(&ms.v[i], &dns, &web, by, got, ok);
			continue;
		}
		o = json_pack("{s:s,s:s,s:b,s:o,s:o}", "handle",
		    ms.v[i].handle, "did", ms.v[i].did, "ok", ok, "dns",
		    method_json(&dns, ms.v[i].did, false), "https",
		    method_json(&web, ms.v[i].did, true));
		json_object_set_new(o, "resolvedBy", by ? json_string(by) :
		    json_null());
		json_object_set_new(o, "resolvedDid", got ?
		    json_string(got) : json_null());
		json_array_append_new(arr, o);
	}
	if (ctl_json) {
		json_object_set_new(out, "checked", json_integer(
		    (json_int_t)ms.n));
		json_object_set_new(out, "resolved", json_integer(
		    (json_int_t)good));
		json_object_set_new(out, "handles", arr);
		out_json(out);
		json_decref(out);
	} else
		printf("(%zu of %zu handle%s resolve to their DID)\n", good,
		    ms.n, ms.n == 1 ? "" : "s");
	rc = good == ms.n ? EXIT_OK : EXIT_FAIL;
out:
	checker_fini(&k);
	members_free(&ms);
	return rc;
}

int
ctl_run(struct ctl_conn *c, const struct ctl_parsed *p,
    struct adminproto_msg *m)
{
	if (strcmp(p->cmd->cmd, "dns.zone") == 0)
		return run_dns_zone(c, p, m);
	if (strcmp(p->cmd->cmd, "dns.check") == 0)
		return run_dns_check(c, p, m);
	fprintf(stderr, "pdsctl: %s: not a local command\n", p->cmd->cmd);
	return EXIT_FAIL;
}
