/*
 * test_pdsd_http: pdsd's HTTP layer, through the real server on
 * 127.0.0.1 and plain sockets: the request accessors (method, path,
 * headers, query parameters, client address, Host), body collection,
 * streaming and limits, every kind of reply, extra headers and their
 * refusals, CORS, deferred replies and the per-request userdata.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../../pdsd/http.h"
#include "err.h"
#include "log.h"

#include "t.h"

static char	 tmpdir[] = "/tmp/test_pdsd_http.XXXXXX";
static uint16_t	 port;

static atomic_int	 n_stream_free, n_sink_free, n_ud_free, n_handled;
static char		 sink_data[64];
static atomic_size_t	 sink_len;

/* ---- the server side ---- */

static void
query_pair(void *arg, const char *k, const char *v)
{
	json_array_append_new(arg, json_pack("[s,s]", k, v));
}

static void
h_echo(struct http_req *r, const void *arg)
{
	const char	*all[4], *hv;
	json_t		*o, *a, *each;
	size_t		 n, i, blen;
	const uint8_t	*b;

	a = json_array();
	n = http_req_query_all(r, "a", all, 2);
	for (i = 0; i < n && i < 2; i++)
		json_array_append_new(a, json_string(all[i]));
	each = json_array();
	http_req_query_each(r, query_pair, each);
	b = http_req_body(r, &blen);
	hv = http_req_host(r);
	o = json_pack("{s:i,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:o,s:I,s:o,s:s,"
	    "s:s?,s:s%,s:b,s:I}",
	    "m", (int)http_req_method(r),
	    "method", http_req_method_str(r),
	    "path", http_req_path(r),
	    "hdr", http_req_header(r, "x-test"),
	    "q_a", http_req_query(r, "a"),
	    "q_flag", http_req_query(r, "flag"),
	    "q_missing", http_req_query(r, "missing"),
	    "all_a", a,
	    "n_a", (json_int_t)n,
	    "each", each,
	    "remote", http_req_remote(r),
	    "host", hv,
	    "body", (const char *)b, blen,
	    "nul", b[blen] == '\0',
	    "status_before", (json_int_t)http_reply_status(r));
	http_reply_json(r, 200, o);
}

static void
h_noreply(struct http_req *r, const void *arg)
{
}

static void
h_headers(struct http_req *r, const void *arg)
{
	char	 name[32];
	int	 ok = 0, i;
	json_t	*o;
	int	 crlf, colon, lf;

	crlf = http_reply_header(r, "X-Evil", "a\r\nSet-Cookie: x=1");
	lf = http_reply_header(r, "X-Evil", "a\nb");
	colon = http_reply_header(r, "X-Evil: b", "c");
	(void)http_reply_header(r, "X-One", "first");
	for (i = 0; i < HTTP_MAX_EXTRA_HEADERS; i++) {
		snprintf(name, sizeof(name), "X-Many-%d", i);
		if (http_reply_header(r, name, "v") == PDS_OK)
			ok++;
	}
	o = json_pack("{s:i,s:i,s:i,s:i}", "crlf", crlf, "lf", lf, "colon",
	    colon, "ok", ok);
	http_reply_json(r, 202, o);
}

static void
h_bytes(struct http_req *r, const void *arg)
{
	char	 tmp[6] = "hello";

	(void)http_reply_header(r, "X-Before", "1");
	(void)http_reply_bytes(r, 201, "text/plain", tmp, 5);
	memset(tmp, 'X', 5);	/* copied: this must not show */
	(void)http_reply_header(r, "X-After", "2");
}

static void
h_replace(struct http_req *r, const void *arg)
{
	http_reply_static(r, 200, "text/plain", "first", 5);
	http_reply_static(r, 203, "text/plain\r\nX-Injected: 1", "second", 6);
}

static void
h_error(struct http_req *r, const void *arg)
{
	http_reply_error(r, 418, "Teapot", "short and stout");
}

struct counter {
	int	 left;
};

static ssize_t
stream_fn(void *arg, uint64_t pos, char *buf, size_t max)
{
	struct counter	*c = arg;

	if (c->left == 0)
		return HTTP_STREAM_END;
	c->left--;
	memcpy(buf, "abc", 3);
	return 3;
}

static void
stream_free(void *arg)
{
	free(arg);
	n_stream_free++;
}

static void
h_stream(struct http_req *r, const void *arg)
{
	struct counter	*c;

	if ((c = malloc(sizeof(*c))) == NULL) {
		http_reply_error(r, 500, "InternalServerError", "memory");
		return;
	}
	c->left = 3;
	http_reply_stream(r, 200, "text/plain", stream_fn, c, stream_free);
}

static void
h_fd(struct http_req *r, const void *arg)
{
	char	 path[128];
	int	 fd;

	snprintf(path, sizeof(path), "%s/fd.txt", tmpdir);
	if ((fd = open(path, O_RDONLY)) == -1) {
		http_reply_error(r, 500, "InternalServerError", "no file");
		return;
	}
	http_reply_fd(r, 200, "application/octet-stream", fd, 10);
}

static int
sink_fn(void *arg, const uint8_t *data, size_t len)
{
	size_t	 n = sink_len;

	if (n + len > sizeof(sink_data))
		return -1;
	memcpy(sink_data + n, data, len);
	sink_len = n + len;
	return 0;
}

static void
sink_free(void *arg)
{
	n_sink_free++;
}

static void
h_sink(struct http_req *r, const void *arg)
{
	size_t	 blen;

	(void)http_req_body(r, &blen);
	http_reply_json(r, 200, json_pack("{s:I,s:I,s:b}", "sunk",
	    (json_int_t)sink_len, "body", (json_int_t)blen, "arg",
	    http_req_sink_arg(r) != NULL));
}

static void *
resume_later(void *arg)
{
	struct http_req	*r = arg;
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	http_reply_static(r, 200, "text/plain", "later", 5);
	http_req_resume(r);
	return NULL;
}

static void
h_defer(struct http_req *r, const void *arg)
{
	pthread_t	 t;

	http_req_defer(r);
	if (pthread_create(&t, NULL, resume_later, r) != 0) {
		http_req_resume(r);
		http_reply_error(r, 500, "InternalServerError", "thread");
		return;
	}
	pthread_detach(t);
}

static void
h_defer_early(struct http_req *r, const void *arg)
{
	http_req_defer(r);
	http_reply_static(r, 200, "text/plain", "early", 5);
	http_req_resume(r);
}

static void
ud_free(void *p)
{
	free(p);
	n_ud_free++;
}

static void
h_userdata(struct http_req *r, const void *arg)
{
	const char	*ud = http_req_userdata(r);

	http_reply_bytes(r, 200, "text/plain", ud != NULL ? ud : "none",
	    ud != NULL ? strlen(ud) : 4);
}

static void
h_count(struct http_req *r, const void *arg)
{
	n_handled++;
	http_reply_static(r, 200, "text/plain", "handled", 7);
}

static void
dispatch(struct http_req *r, struct http_target *t)
{
	const char	*p = http_req_path(r);

	t->body_max = 1024;
	if (strncmp(p, "/echo", 5) == 0)
		t->fn = h_echo;
	else if (strcmp(p, "/limit") == 0) {
		t->fn = h_echo;
		t->body_max = 10;
	} else if (strcmp(p, "/nobody") == 0) {
		t->fn = h_echo;
		t->body_max = 0;
	} else if (strcmp(p, "/noreply") == 0)
		t->fn = h_noreply;
	else if (strcmp(p, "/headers") == 0)
		t->fn = h_headers;
	else if (strcmp(p, "/bytes") == 0)
		t->fn = h_bytes;
	else if (strcmp(p, "/replace") == 0)
		t->fn = h_replace;
	else if (strcmp(p, "/error") == 0)
		t->fn = h_error;
	else if (strcmp(p, "/stream") == 0)
		t->fn = h_stream;
	else if (strcmp(p, "/fd") == 0)
		t->fn = h_fd;
	else if (strcmp(p, "/sink") == 0) {
		t->fn = h_sink;
		t->body_max = 20;
		sink_len = 0;
		http_req_body_sink(r, sink_fn, sink_data, sink_free);
	} else if (strcmp(p, "/defer") == 0)
		t->fn = h_defer;
	else if (strcmp(p, "/defer-early") == 0)
		t->fn = h_defer_early;
	else if (strcmp(p, "/userdata") == 0) {
		t->fn = h_userdata;
		http_req_set_userdata(r, strdup("mine"), ud_free);
	} else if (strcmp(p, "/refused") == 0) {
		/* answered from the headers: the handler never runs */
		t->fn = h_count;
		http_reply_error(r, 403, "Forbidden", "not you");
	} else if (strcmp(p, "/count") == 0)
		t->fn = h_count;
}

/* ---- the client side ---- */

struct resp {
	unsigned	 status;
	char		*raw;
	const char	*body;
	size_t		 body_len;
	json_t		*json;
};

static void
resp_free(struct resp *r)
{
	free(r->raw);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/* Send text as is and read the reply to EOF. */
static int
raw(struct resp *r, const char *text, size_t len)
{
	struct sockaddr_in sin;
	size_t		 cap = 65536, n = 0;
	ssize_t		 k;
	int		 fd;

	memset(r, 0, sizeof(*r));
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	(void)send(fd, text, len, MSG_NOSIGNAL);
	if ((r->raw = malloc(cap)) == NULL) {
		close(fd);
		return -1;
	}
	while ((k = recv(fd, r->raw + n, cap - n - 1, 0)) > 0)
		if ((n += (size_t)k) == cap - 1)
			break;
	close(fd);
	r->raw[n] = '\0';
	if (sscanf(r->raw, "HTTP/1.%*c %u", &r->status) != 1)
		return -1;
	r->body = strstr(r->raw, "\r\n\r\n");
	r->body = r->body != NULL ? r->body + 4 : r->raw + n;
	r->body_len = (size_t)(r->raw + n - r->body);
	r->json = json_loads(r->body, 0, NULL);
	return 0;
}

static int
raws(struct resp *r, const char *text)
{
	return raw(r, text, strlen(text));
}

/* A one-shot HTTP/1.1 request with extra header lines and a body. */
static int
req(struct resp *r, const char *method, const char *target,
    const char *headers, const char *body)
{
	char	 text[4096];
	int	 n;

	if (body != NULL)
		n = snprintf(text, sizeof(text), "%s %s HTTP/1.1\r\nHost: "
		    "127.0.0.1\r\nConnection: close\r\n%sContent-Length: %zu"
		    "\r\n\r\n%s", method, target, headers, strlen(body), body);
	else
		n = snprintf(text, sizeof(text), "%s %s HTTP/1.1\r\nHost: "
		    "127.0.0.1\r\nConnection: close\r\n%s\r\n", method, target,
		    headers);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	return raw(r, text, (size_t)n);
}

static const char *
header(const struct resp *r, const char *name)
{
	static char	 v[512];
	const char	*p = r->raw, *e;
	size_t		 nl = strlen(name), n;

	while ((p = strstr(p, "\r\n")) != NULL && p + 2 < r->body) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			for (p += nl + 1; *p == ' '; p++)
				;
			e = strstr(p, "\r\n");
			n = (size_t)(e - p) < sizeof(v) ? (size_t)(e - p) :
			    sizeof(v) - 1;
			memcpy(v, p, n);
			v[n] = '\0';
			return v;
		}
	}
	return NULL;
}

static const char *
jstr(const struct resp *r, const char *key)
{
	return json_string_value(json_object_get(r->json, key));
}

static bool
jstr_is(const struct resp *r, const char *key, const char *want)
{
	const char *s = jstr(r, key);

	return s != NULL && strcmp(s, want) == 0;
}

static long long
jint(const struct resp *r, const char *key)
{
	return json_integer_value(json_object_get(r->json, key));
}

/* ---- the tests ---- */

static void
test_request(void)
{
	struct resp	 r;
	json_t		*e;

	t_group("request accessors");
	CHECK(req(&r, "GET", "/echo/a%20b?a=1&b=x%26y&a=two%2Bthree&flag"
	    "&a=3", "X-Test: hello\r\n", NULL) == 0 && r.status == 200,
	    "echo: %u", r.status);
	CHECK(jint(&r, "m") == HTTP_GET && jstr_is(&r, "method", "GET"),
	    "method");
	CHECK(jstr_is(&r, "path", "/echo/a b"), "path decoded, no query: %s",
	    jstr(&r, "path"));
	CHECK(jstr_is(&r, "hdr", "hello"), "header by any-case name");
	CHECK(jstr_is(&r, "q_a", "1"), "first value of a repeated key");
	CHECK(jstr_is(&r, "q_flag", ""), "a key without a value is \"\"");
	CHECK(jstr(&r, "q_missing") == NULL, "a missing key is NULL");
	CHECK(jint(&r, "n_a") == 3, "all three a's counted, %lld",
	    jint(&r, "n_a"));
	e = json_object_get(r.json, "all_a");
	CHECK(json_array_size(e) == 2 && strcmp(json_string_value(
	    json_array_get(e, 1)), "two+three") == 0,
	    "... only max of them given, decoded");
	e = json_object_get(r.json, "each");
	CHECK(json_array_size(e) == 5 && strcmp(json_string_value(
	    json_array_get(json_array_get(e, 1), 1)), "x&y") == 0 &&
	    strcmp(json_string_value(json_array_get(json_array_get(e, 3),
	    0)), "flag") == 0, "every parameter in order");
	CHECK(jstr_is(&r, "remote", "127.0.0.1"), "client address %s",
	    jstr(&r, "remote"));
	CHECK(jstr_is(&r, "host", "127.0.0.1"), "Host");
	CHECK(jint(&r, "status_before") == 0, "no status before a reply");
	resp_free(&r);

	CHECK(raws(&r, "GET /echo HTTP/1.1\r\nHost: PDS.Example.COM:8443\r\n"
	    "Connection: close\r\n\r\n") == 0 &&
	    jstr_is(&r, "host", "pds.example.com"),
	    "Host lower-cased, port dropped: %s", jstr(&r, "host"));
	resp_free(&r);
	CHECK(raws(&r, "GET /echo HTTP/1.1\r\nHost: [::1]:2583\r\n"
	    "Connection: close\r\n\r\n") == 0 &&
	    jstr_is(&r, "host", "[::1]"), "an IPv6 Host: %s",
	    jstr(&r, "host"));
	resp_free(&r);
	CHECK(raws(&r, "GET /echo HTTP/1.0\r\n\r\n") == 0 &&
	    r.status == 200 && jstr(&r, "host") == NULL, "no Host: %u",
	    r.status);
	resp_free(&r);

	CHECK(req(&r, "DELETE", "/echo", "", NULL) == 0 &&
	    jint(&r, "m") == HTTP_DELETE, "DELETE");
	resp_free(&r);
	CHECK(req(&r, "PATCH", "/echo", "", "x") == 0 &&
	    jint(&r, "m") == HTTP_PATCH, "PATCH");
	resp_free(&r);
	CHECK(req(&r, "PUT", "/echo", "", "x") == 0 &&
	    jint(&r, "m") == HTTP_PUT, "PUT");
	resp_free(&r);
	CHECK(req(&r, "BREW", "/echo", "", NULL) == 0 && (r.status >= 400 ||
	    (jint(&r, "m") == HTTP_OTHER && jstr_is(&r, "method", "BREW"))),
	    "an unknown method: %u", r.status);
	resp_free(&r);
	t_group_end();
}

static void
test_bodies(void)
{
	struct resp	 r;
	char		 big[128];

	t_group("bodies");
	CHECK(req(&r, "POST", "/echo", "", "{\"k\":1}") == 0 &&
	    r.status == 200 && jstr_is(&r, "body", "{\"k\":1}") &&
	    json_is_true(json_object_get(r.json, "nul")),
	    "collected and NUL-terminated: %s", r.body);
	resp_free(&r);
	CHECK(req(&r, "POST", "/limit", "", "0123456789") == 0 &&
	    r.status == 200 && jstr_is(&r, "body", "0123456789"),
	    "exactly the limit: %u", r.status);
	resp_free(&r);
	CHECK(req(&r, "POST", "/limit", "", "0123456789A") == 0 &&
	    r.status == 413 && jstr_is(&r, "error", "PayloadTooLarge"),
	    "one byte over: %u %s", r.status, r.body);
	resp_free(&r);
	/* The Content-Length alone is enough; no body byte is sent. */
	CHECK(raws(&r, "POST /limit HTTP/1.1\r\nHost: x\r\nConnection: close"
	    "\r\nContent-Length: 1000000\r\n\r\n") == 0 &&
	    r.status == 413, "a large Content-Length: %u", r.status);
	resp_free(&r);
	snprintf(big, sizeof(big), "POST /limit HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
	{
		char	 text[256];
		int	 n = snprintf(text, sizeof(text), "%s6\r\nabcdef\r\n"
		    "6\r\nghijkl\r\n0\r\n\r\n", big);
		CHECK(raw(&r, text, (size_t)n) == 0 && r.status == 413,
		    "a chunked body over the limit: %u", r.status);
		resp_free(&r);
		n = snprintf(text, sizeof(text), "%s4\r\nabcd\r\n3\r\nefg\r\n"
		    "0\r\n\r\n", big);
		CHECK(raw(&r, text, (size_t)n) == 0 && r.status == 200 &&
		    jstr_is(&r, "body", "abcdefg"), "a chunked body: %u %s",
		    r.status, r.body);
		resp_free(&r);
	}
	CHECK(req(&r, "POST", "/nobody", "", "x") == 0 && r.status == 413,
	    "no body accepted: %u", r.status);
	resp_free(&r);
	CHECK(req(&r, "GET", "/nobody", "", NULL) == 0 && r.status == 200 &&
	    jstr_is(&r, "body", ""), "... and none sent: %u", r.status);
	resp_free(&r);

	n_sink_free = 0;
	CHECK(req(&r, "POST", "/sink", "", "streamed bytes") == 0 &&
	    r.status == 200 && jint(&r, "sunk") == 14 &&
	    jint(&r, "body") == 0 && json_is_true(json_object_get(r.json,
	    "arg")), "a body sink: %s", r.body);
	CHECK(memcmp(sink_data, "streamed bytes", 14) == 0, "sunk bytes");
	resp_free(&r);
	CHECK(n_sink_free == 1, "the sink freed once: %d", (int)n_sink_free);
	CHECK(req(&r, "POST", "/sink", "", "this is longer than twenty") ==
	    0 && r.status == 413, "a sink over the limit: %u", r.status);
	resp_free(&r);
	CHECK(n_sink_free == 2, "freed on refusal too: %d", (int)n_sink_free);
	t_group_end();
}

static void
test_replies(void)
{
	struct resp	 r;
	char		 path[128];
	FILE		*f;

	t_group("replies");
	CHECK(req(&r, "GET", "/echo", "", NULL) == 0 &&
	    header(&r, "Content-Type") != NULL && strcmp(header(&r,
	    "Content-Type"), "application/json; charset=utf-8") == 0,
	    "JSON content type");
	CHECK(header(&r, "Access-Control-Allow-Origin") != NULL &&
	    strcmp(header(&r, "Access-Control-Allow-Origin"), "*") == 0 &&
	    header(&r, "Access-Control-Expose-Headers") != NULL &&
	    strstr(header(&r, "Access-Control-Expose-Headers"),
	    "atproto-repo-rev") != NULL, "CORS on a reply");
	resp_free(&r);
	CHECK(req(&r, "GET", "/bytes", "", NULL) == 0 && r.status == 201 &&
	    r.body_len == 5 && memcmp(r.body, "hello", 5) == 0,
	    "bytes copied: %u %s", r.status, r.body);
	CHECK(header(&r, "X-Before") != NULL && header(&r, "X-After") != NULL,
	    "headers before and after the reply");
	CHECK(strcmp(header(&r, "Content-Type"), "text/plain") == 0,
	    "its content type");
	resp_free(&r);
	CHECK(req(&r, "GET", "/replace", "", NULL) == 0 && r.status == 203 &&
	    r.body_len == 6 && memcmp(r.body, "second", 6) == 0,
	    "the last reply wins: %u", r.status);
	CHECK(header(&r, "X-Injected") == NULL && strcmp(header(&r,
	    "Content-Type"), "application/octet-stream") == 0,
	    "a content type with CR LF replaced");
	resp_free(&r);
	CHECK(req(&r, "GET", "/error", "", NULL) == 0 && r.status == 418 &&
	    jstr_is(&r, "error", "Teapot") && jstr_is(&r, "message",
	    "short and stout"), "error body: %u %s", r.status, r.body);
	resp_free(&r);
	CHECK(req(&r, "GET", "/headers", "", NULL) == 0 && r.status == 202,
	    "headers: %u", r.status);
	CHECK(jint(&r, "crlf") == PDS_EINVAL && jint(&r, "lf") == PDS_EINVAL &&
	    jint(&r, "colon") == PDS_EINVAL, "CR, LF and colon refused");
	CHECK(jint(&r, "ok") == HTTP_MAX_EXTRA_HEADERS - 1,
	    "at most %d extra headers: %lld", HTTP_MAX_EXTRA_HEADERS,
	    jint(&r, "ok"));
	CHECK(header(&r, "Set-Cookie") == NULL && header(&r, "X-One") !=
	    NULL && header(&r, "X-Many-14") != NULL && header(&r,
	    "X-Many-15") == NULL, "only the accepted ones sent");
	resp_free(&r);
	CHECK(req(&r, "GET", "/noreply", "", NULL) == 0 && r.status == 500 &&
	    jstr_is(&r, "error", "InternalServerError"),
	    "no reply set: %u", r.status);
	resp_free(&r);
	CHECK(req(&r, "GET", "/nowhere", "", NULL) == 0 && r.status == 404 &&
	    jstr_is(&r, "error", "NotFound"), "no handler: %u", r.status);
	resp_free(&r);

	n_stream_free = 0;
	CHECK(raws(&r, "GET /stream HTTP/1.0\r\n\r\n") == 0 &&
	    r.status == 200 && r.body_len == 9 && memcmp(r.body,
	    "abcabcabc", 9) == 0, "a stream: %u %s", r.status, r.body);
	resp_free(&r);
	CHECK(n_stream_free == 1, "stream state freed once: %d",
	    (int)n_stream_free);

	snprintf(path, sizeof(path), "%s/fd.txt", tmpdir);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("0123456789extra", f);
		fclose(f);
	}
	CHECK(req(&r, "GET", "/fd", "", NULL) == 0 && r.status == 200 &&
	    r.body_len == 10 && memcmp(r.body, "0123456789", 10) == 0 &&
	    header(&r, "Content-Length") != NULL && strcmp(header(&r,
	    "Content-Length"), "10") == 0, "a file's first bytes: %u %s",
	    r.status, r.body);
	resp_free(&r);
	unlink(path);

	CHECK(req(&r, "GET", "/defer", "", NULL) == 0 && r.status == 200 &&
	    r.body_len == 5 && memcmp(r.body, "later", 5) == 0,
	    "deferred reply: %u %s", r.status, r.body);
	resp_free(&r);
	CHECK(req(&r, "GET", "/defer-early", "", NULL) == 0 &&
	    r.status == 200 && memcmp(r.body, "early", 5) == 0,
	    "resumed before returning: %u", r.status);
	resp_free(&r);

	n_ud_free = 0;
	CHECK(req(&r, "GET", "/userdata", "", NULL) == 0 && r.body_len == 4 &&
	    memcmp(r.body, "mine", 4) == 0, "userdata: %s", r.body);
	resp_free(&r);
	CHECK(n_ud_free == 1, "userdata freed once: %d", (int)n_ud_free);

	n_handled = 0;
	CHECK(req(&r, "POST", "/refused", "", "body") == 0 &&
	    r.status == 403 && jstr_is(&r, "message", "not you"),
	    "answered by the dispatcher: %u", r.status);
	resp_free(&r);
	CHECK(n_handled == 0, "... and the handler never ran");
	t_group_end();
}

static void
test_cors(void)
{
	struct resp	 r;

	t_group("CORS preflight");
	n_handled = 0;
	CHECK(req(&r, "OPTIONS", "/count", "Origin: https://app.example\r\n"
	    "Access-Control-Request-Method: POST\r\n"
	    "Access-Control-Request-Headers: authorization, content-type\r\n",
	    NULL) == 0 && r.status == 204, "preflight: %u", r.status);
	CHECK(header(&r, "Access-Control-Allow-Origin") != NULL &&
	    header(&r, "Access-Control-Allow-Methods") != NULL &&
	    strstr(header(&r, "Access-Control-Allow-Methods"), "POST") !=
	    NULL, "allow origin and methods");
	CHECK(header(&r, "Access-Control-Allow-Headers") != NULL &&
	    strcmp(header(&r, "Access-Control-Allow-Headers"),
	    "authorization, content-type") == 0, "requested headers allowed");
	CHECK(header(&r, "Access-Control-Max-Age") != NULL, "max age");
	CHECK(n_handled == 0, "no handler called");
	resp_free(&r);
	CHECK(req(&r, "OPTIONS", "/count", "Access-Control-Request-Headers: "
	    "x-a;evil=1\r\n", NULL) == 0 && r.status == 204 &&
	    header(&r, "Access-Control-Allow-Headers") == NULL,
	    "odd header names not echoed");
	resp_free(&r);
	t_group_end();
}

int
main(void)
{
	struct http_config hc;
	int		 rc;

	log_init("test_pdsd_http", 0, 0);
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	memset(&hc, 0, sizeof(hc));
	hc.bind_address = "not-an-address";
	hc.threads = 1;
	hc.max_connections = 16;
	hc.timeout_s = 10;
	CHECK(http_start(&hc, dispatch) == PDS_EINVAL, "a bad bind address");
	CHECK(http_port() == 0, "no port when not started");
	hc.bind_address = "127.0.0.1";
	hc.port = 0;
	hc.threads = 2;
	rc = http_start(&hc, dispatch);
	CHECK(rc == PDS_OK && (port = http_port()) != 0, "http_start");
	if (rc == PDS_OK) {
		test_request();
		test_bodies();
		test_replies();
		test_cors();
		http_stop(2000);
		CHECK(http_port() == 0, "stopped");
	}
	rmdir(tmpdir);
	return t_done("test_pdsd_http");
}
