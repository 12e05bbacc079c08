/*
 * blobstore_s3: blobs in an S3-compatible bucket (AWS, Ceph RGW,
 * Garage, MinIO...).  See blobstore.h.
 *
 * Keys are the reference's: blocks/<did>/<cid>, and
 * quarantine/<did>/<cid> for a taken-down blob.  Requests are signed by
 * libcurl (CURLOPT_AWS_SIGV4); every request sends x-amz-content-sha256,
 * the real SHA-256 of its body (for a blob: the CID's digest, so the
 * server itself refuses bytes that do not match the CID).
 *
 * Calls that may be repeated (GET, PUT of a whole object or a part,
 * DELETE, copy; not the POSTs of a multipart upload) are retried with
 * backoff on a transport error or a 5xx, within the call's deadline.  An S3 that cannot be reached or
 * answers 5xx gives PDS_EBUSY (the client gets 503 and Retry-After);
 * one that refuses (403, 400...) gives PDS_EUPSTREAM, with its Code in
 * the last error.  Health: counters blobstore.s3.*, and
 * blobstore_s3_health() for the last error and latencies.
 *
 * Reads stream: the GET is started on the calling thread (a net pool
 * thread, blobs.c's routes are flagged for it) and its headers awaited
 * there; the body then moves through a 64 KiB buffer as the HTTP
 * server asks for it (blobstore_stream_read), curl's transfer paused
 * while the buffer is full.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "blobstore.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "curl_lazy.h"
#include "err.h"
#include "log.h"
#include "offload.h"
#include "s3xml.h"
#include "stats.h"

#define URL_MAX		2048
#define RESP_MAX	((size_t)1024 * 1024)	/* an XML answer */
#define STREAM_BUF	((size_t)64 * 1024)
#define ATTEMPTS	3
#define CONNECT_MS	5000L
#define STALL_MS_DEF	30000
#define EMPTY_SHA256	\
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static struct {
	bool		 on;
	char		 base[URL_MAX];	/* scheme://host[:port][/bucket] */
	char		 bucket[64];
	char		 sigv4[128];	/* aws:amz:<region>:s3 */
	char		*userpwd;	/* key:secret */
	int64_t		 upload_ms, request_ms;
} s3;

static pthread_mutex_t health_mu = PTHREAD_MUTEX_INITIALIZER;
static struct blobstore_health health;
static struct stats_counter *c_ok, *c_failed, *c_retries, *c_last_ms;

bool
blobstore_s3_configured(void)
{
	return s3.on;
}

void
blobstore_s3_health(struct blobstore_health *h)
{
	pthread_mutex_lock(&health_mu);
	*h = health;
	pthread_mutex_unlock(&health_mu);
	h->configured = s3.on;
}

static void
note_ok(int64_t ms)
{
	stats_add(c_ok, 1);
	stats_set(c_last_ms, (uint64_t)ms);
	pthread_mutex_lock(&health_mu);
	health.ok++;
	health.last_ms = ms;
	health.avg_ms = health.avg_ms == 0 ? ms :
	    (health.avg_ms * 7 + ms) / 8;
	pthread_mutex_unlock(&health_mu);
}

static void
note_fail(int64_t ms, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note_fail(int64_t ms, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[sizeof(health.last_error)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	stats_add(c_failed, 1);
	pthread_mutex_lock(&health_mu);
	health.failed++;
	health.last_ms = ms;
	health.last_error_at = (int64_t)time(NULL);
	snprintf(health.last_error, sizeof(health.last_error), "%s", msg);
	pthread_mutex_unlock(&health_mu);
	log_warnx("blobs: s3: %s", msg);
}

/* ---- keys and URLs ---- */

/* Each byte outside A-Za-z0-9-._~ (and '/' unless esc_slash) as %XX. */
static int
escape(char *out, size_t cap, const char *s, bool esc_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	 o = 0;
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (c == '/' && !esc_slash)) {
			if (o + 1 >= cap)
				return PDS_ETOOBIG;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= cap)
				return PDS_ETOOBIG;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return PDS_OK;
}

static int
key_of(char *out, size_t cap, const char *prefix, const char *did,
    const char *cid)
{
	int	 n;

	if (strchr(did, '/') != NULL || (cid != NULL &&
	    (strchr(cid, '/') != NULL || *cid == '\0')))
		return PDS_EINVAL;
	n = cid != NULL ? snprintf(out, cap, "%s/%s/%s", prefix, did, cid) :
	    snprintf(out, cap, "%s/%s/", prefix, did);
	return n < 0 || (size_t)n >= cap ? PDS_ETOOBIG : PDS_OK;
}

/* The URL of key (NULL: the bucket) with query q (canonical, or NULL). */
static int
url_of(char *out, size_t cap, const char *key, const char *q)
{
	char	 ek[URL_MAX];
	int	 n, rc;

	if (key != NULL && (rc = escape(ek, sizeof(ek), key, false)) !=
	    PDS_OK)
		return rc;
	n = snprintf(out, cap, "%s/%s%s%s", s3.base, key != NULL ? ek : "",
	    q != NULL ? "?" : "", q != NULL ? q : "");
	return n < 0 || (size_t)n >= cap ? PDS_ETOOBIG : PDS_OK;
}

/* ---- one request ---- */

struct s3_req {
	const char	*method;	/* GET HEAD PUT POST DELETE */
	char		 url[URL_MAX];
	const char	*sha256;	/* hex of the body */
	const char	*copy_source;	/* x-amz-copy-source, or NULL */
	const char	*range;		/* "bytes=a-b", or NULL */
	/* the body: memory, or a file's [off, off + len) */
	const char	*mem;
	int		 fd;
	int64_t		 off, len;
	int64_t		 timeout_ms;
	/* the answer */
	long		 status;
	char		*resp;		/* up to RESP_MAX, NUL-terminated */
	size_t		 resp_len;
	char		 etag[128];
	char		 curl_err[CURL_ERROR_SIZE];
	CURLcode	 cc;
	int64_t		 sent;
};

/*
 * Append p[0..n-1] to the NUL-terminated text *s of *len bytes, which
 * may not grow beyond max: PDS_OK, PDS_ETOOBIG (nothing added) or
 * PDS_ENOMEM.
 */
static int
text_add(char **s, size_t *len, size_t max, const char *p, size_t n)
{
	char	*ns;

	if (*len + n > max)
		return PDS_ETOOBIG;
	if ((ns = realloc(*s, *len + n + 1)) == NULL)
		return PDS_ENOMEM;
	memcpy(ns + *len, p, n);
	*s = ns;
	*len += n;
	ns[*len] = '\0';
	return PDS_OK;
}

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct s3_req	*r = arg;
	size_t		 len = sz * n;

	/* too long for an answer we read, or no memory: abort */
	return text_add(&r->resp, &r->resp_len, RESP_MAX, p, len) == PDS_OK ?
	    len : 0;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct s3_req	*r = arg;
	size_t		 len = sz * n, v;

	if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		for (v = 5; v < len && p[v] == ' '; v++)
			;
		while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		if (len - v < sizeof(r->etag)) {
			memcpy(r->etag, p + v, len - v);
			r->etag[len - v] = '\0';
		}
	}
	return sz * n;
}

static size_t
on_read(char *buf, size_t sz, size_t n, void *arg)
{
	struct s3_req	*r = arg;
	size_t		 want = sz * n;
	ssize_t		 got;

	if ((int64_t)want > r->len - r->sent)
		want = (size_t)(r->len - r->sent);
	if (want == 0)
		return 0;
	if (r->mem != NULL) {
		memcpy(buf, r->mem + r->sent, want);
		r->sent += (int64_t)want;
		return want;
	}
	do
		got = pread(r->fd, buf, want, (off_t)(r->off + r->sent));
	while (got == -1 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	r->sent += got;
	return (size_t)got;
}

static int
seek_body(void *arg, curl_off_t off, int origin)
{
	struct s3_req	*r = arg;

	if (origin != SEEK_SET || off < 0 || off > r->len)
		return CURL_SEEKFUNC_FAIL;
	r->sent = off;
	return CURL_SEEKFUNC_OK;
}

#define SETOPT(h, o, v) do {						\
	if (curl_easy_setopt(h, o, v) != CURLE_OK)			\
		goto fail;						\
} while (0)

static struct curl_slist *
req_headers(const struct s3_req *r)
{
	struct curl_slist *h = NULL, *t;
	char		 line[URL_MAX + 64];

	snprintf(line, sizeof(line), "x-amz-content-sha256: %s",
	    r->sha256 != NULL ? r->sha256 : EMPTY_SHA256);
	if ((t = curl_slist_append(h, line)) == NULL)
		goto fail;
	h = t;
	if (r->copy_source != NULL) {
		snprintf(line, sizeof(line), "x-amz-copy-source: %s",
		    r->copy_source);
		if ((t = curl_slist_append(h, line)) == NULL)
			goto fail;
		h = t;
	}
	if (r->range != NULL) {
		snprintf(line, sizeof(line), "Range: %s", r->range);
		if ((t = curl_slist_append(h, line)) == NULL)
			goto fail;
		h = t;
	}
	return h;
fail:
	curl_slist_free_all(h);
	return NULL;
}

/* Set up h for r (the common part of a call and a stream). */
static int
req_setup(CURL *h, struct s3_req *r, struct curl_slist *hdrs)
{
	SETOPT(h, CURLOPT_URL, r->url);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(h, CURLOPT_PROXY, "");
	SETOPT(h, CURLOPT_ERRORBUFFER, r->curl_err);
	SETOPT(h, CURLOPT_AWS_SIGV4, s3.sigv4);
	SETOPT(h, CURLOPT_USERPWD, s3.userpwd);
	SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
	SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(h, CURLOPT_HEADERDATA, r);
	if (strcmp(r->method, "HEAD") == 0)
		SETOPT(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->method, "PUT") == 0 ||
	    (strcmp(r->method, "POST") == 0 && r->len > 0)) {
		SETOPT(h, CURLOPT_UPLOAD, 1L);
		SETOPT(h, CURLOPT_READFUNCTION, on_read);
		SETOPT(h, CURLOPT_READDATA, r);
		SETOPT(h, CURLOPT_SEEKFUNCTION, seek_body);
		SETOPT(h, CURLOPT_SEEKDATA, r);
		SETOPT(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
		if (strcmp(r->method, "POST") == 0)
			SETOPT(h, CURLOPT_CUSTOMREQUEST, "POST");
	} else if (strcmp(r->method, "GET") != 0)
		SETOPT(h, CURLOPT_CUSTOMREQUEST, r->method);
	return PDS_OK;
fail:
	return PDS_EINTERNAL;
}

static void
req_reset(struct s3_req *r)
{
	free(r->resp);
	r->resp = NULL;
	r->resp_len = 0;
	r->etag[0] = '\0';
	r->curl_err[0] = '\0';
	r->status = 0;
	r->sent = 0;
	r->cc = CURLE_OK;
}

static bool
retryable(const struct s3_req *r)
{
	return r->cc != CURLE_OK || r->status >= 500 || r->status == 429;
}

/* The S3 error code of an answer ("" if none). */
static void
err_code(const struct s3_req *r, char *out, size_t cap)
{
	out[0] = '\0';
	if (r->resp != NULL)
		(void)s3xml_get(r->resp, r->resp_len, "Code", out, cap);
}

static int
req_once(struct s3_req *r)
{
	struct curl_slist *hdrs;
	CURL		*h;
	int		 rc;

	req_reset(r);
	if ((hdrs = req_headers(r)) == NULL)
		return PDS_ENOMEM;
	if ((h = curl_easy_init()) == NULL) {
		curl_slist_free_all(hdrs);
		return PDS_EIO;
	}
	rc = req_setup(h, r, hdrs);
	if (rc == PDS_OK && (curl_easy_setopt(h, CURLOPT_WRITEFUNCTION,
	    on_body) != CURLE_OK || curl_easy_setopt(h, CURLOPT_WRITEDATA,
	    r) != CURLE_OK || curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
	    (long)r->timeout_ms) != CURLE_OK))
		rc = PDS_EINTERNAL;
	if (rc == PDS_OK) {
		r->cc = curl_easy_perform(h);
		if (r->cc == CURLE_OK)
			(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE,
			    &r->status);
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return rc;
}

/*
 * Do r, retrying while that may help and the deadline allows.  PDS_OK
 * for a 2xx (r->status, r->resp are the answer); PDS_ENOTFOUND for 404;
 * PDS_EBUSY when S3 could not be reached or failed (5xx); PDS_EUPSTREAM
 * when it refused.
 */
static int
req_do(struct s3_req *r, const char *what)
{
	int64_t		 t0 = clock_mono_ms(), left, ms;
	char		 code[64];
	int		 i, rc;
	unsigned	 backoff = 100;

	if (offload_would_block()) {	/* an HTTP worker (offload.h) */
		note_fail(0, "%s: refused on an HTTP worker", what);
		return PDS_EBUSY;
	}
	if (r->timeout_ms <= 0)
		r->timeout_ms = s3.request_ms > 0 ? s3.request_ms :
		    STALL_MS_DEF;
	for (i = 0; i < ATTEMPTS; i++) {
		if ((rc = req_once(r)) != PDS_OK)
			return rc;
		/* POST (start, complete a multipart upload) is not idempotent */
		if (!retryable(r) || strcmp(r->method, "POST") == 0)
			break;
		left = t0 + r->timeout_ms - clock_mono_ms();
		if (i + 1 == ATTEMPTS || left <= (int64_t)backoff)
			break;
		stats_add(c_retries, 1);
		pthread_mutex_lock(&health_mu);
		health.retries++;
		pthread_mutex_unlock(&health_mu);
		usleep(backoff * 1000);
		backoff *= 4;
		r->timeout_ms = left - backoff / 4;
	}
	ms = clock_mono_ms() - t0;
	if (r->cc != CURLE_OK) {
		note_fail(ms, "%s: %s", what, r->curl_err[0] != '\0' ?
		    r->curl_err : curl_easy_strerror(r->cc));
		return PDS_EBUSY;
	}
	if (r->status >= 200 && r->status < 300) {
		/* a copy can fail after its 200 */
		if (r->copy_source != NULL && r->resp != NULL &&
		    strstr(r->resp, "<Error>") != NULL) {
			err_code(r, code, sizeof(code));
			note_fail(ms, "%s: %s", what, code);
			return PDS_EBUSY;
		}
		note_ok(ms);
		return PDS_OK;
	}
	if (r->status == 404) {
		note_ok(ms);	/* S3 answered */
		return PDS_ENOTFOUND;
	}
	err_code(r, code, sizeof(code));
	note_fail(ms, "%s: HTTP %ld%s%s", what, r->status,
	    code[0] != '\0' ? " " : "", code);
	return r->status >= 500 || r->status == 429 ? PDS_EBUSY :
	    PDS_EUPSTREAM;
}

/* ---- put: one PUT, or a multipart upload ---- */

static void
hex32(char out[65], const uint8_t d[32])
{
	sodium_bin2hex(out, 65, d, 32);
}

/* The SHA-256 of fd's [off, off + len). */
static int
hash_range(int fd, int64_t off, int64_t len, char out[65])
{
	crypto_hash_sha256_state hs;
	uint8_t		 buf[65536], d[32];
	int64_t		 done = 0;
	ssize_t		 n;
	size_t		 want;

	crypto_hash_sha256_init(&hs);
	while (done < len) {
		want = len - done < (int64_t)sizeof(buf) ?
		    (size_t)(len - done) : sizeof(buf);
		n = pread(fd, buf, want, (off_t)(off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return PDS_EIO;
		crypto_hash_sha256_update(&hs, buf, (size_t)n);
		done += n;
	}
	crypto_hash_sha256_final(&hs, d);
	hex32(out, d);
	return PDS_OK;
}

static int
put_single(const char *key, int fd, int64_t size, const char *sha)
{
	struct s3_req	 r;
	int		 rc;

	memset(&r, 0, sizeof(r));
	r.method = "PUT";
	r.sha256 = sha;
	r.fd = fd;
	r.len = size;
	r.timeout_ms = s3.upload_ms;
	if ((rc = url_of(r.url, sizeof(r.url), key, NULL)) == PDS_OK)
		rc = req_do(&r, "put");
	free(r.resp);
	return rc;
}

static void
mp_abort(const char *key, const char *eid)
{
	struct s3_req	 r;
	char		 q[700];

	memset(&r, 0, sizeof(r));
	r.method = "DELETE";
	snprintf(q, sizeof(q), "uploadId=%s", eid);
	if (url_of(r.url, sizeof(r.url), key, q) == PDS_OK)
		(void)req_do(&r, "abort multipart upload");
	free(r.resp);
}

static int
put_multipart(const char *key, int fd, int64_t size)
{
	struct s3_req	 r;
	char		 id[512], eid[600], q[700], sha[65];
	struct buf	 xml;
	int64_t		 off, n, t0 = clock_mono_ms();
	int		 part, rc;
	uint8_t		 d[32];

	buf_init(&xml, RESP_MAX);
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	if ((rc = url_of(r.url, sizeof(r.url), key, "uploads=")) != PDS_OK ||
	    (rc = req_do(&r, "start multipart upload")) != PDS_OK)
		goto out;
	if (s3xml_get(r.resp, r.resp_len, "UploadId", id, sizeof(id)) !=
	    PDS_OK || escape(eid, sizeof(eid), id, true) != PDS_OK) {
		note_fail(0, "start multipart upload: no UploadId");
		rc = PDS_EUPSTREAM;
		goto out;
	}
	rc = buf_puts(&xml, "<CompleteMultipartUpload>");
	for (part = 1, off = 0; rc == PDS_OK && off < size; part++,
	    off += n) {
		n = size - off < BLOBSTORE_S3_PART ? size - off :
		    BLOBSTORE_S3_PART;
		if ((rc = hash_range(fd, off, n, sha)) != PDS_OK)
			break;
		req_reset(&r);
		memset(&r, 0, sizeof(r));
		r.method = "PUT";
		r.sha256 = sha;
		r.fd = fd;
		r.off = off;
		r.len = n;
		r.timeout_ms = s3.upload_ms - (clock_mono_ms() - t0);
		if (r.timeout_ms < 1000) {
			note_fail(clock_mono_ms() - t0, "put part %d: the "
			    "upload timeout is spent", part);
			rc = PDS_EBUSY;
			break;
		}
		snprintf(q, sizeof(q), "partNumber=%d&uploadId=%s", part, eid);
		if ((rc = url_of(r.url, sizeof(r.url), key, q)) != PDS_OK ||
		    (rc = req_do(&r, "put part")) != PDS_OK)
			break;
		if (r.etag[0] == '\0') {
			note_fail(0, "put part %d: no ETag", part);
			rc = PDS_EUPSTREAM;
			break;
		}
		rc = buf_printf(&xml, "<Part><PartNumber>%d</PartNumber>"
		    "<ETag>%s</ETag></Part>", part, r.etag);
	}
	if (rc == PDS_OK)
		rc = buf_puts(&xml, "</CompleteMultipartUpload>");
	if (rc == PDS_OK) {
		free(r.resp);
		memset(&r, 0, sizeof(r));
		crypto_hash_sha256(d, xml.p, xml.len);
		hex32(sha, d);
		r.method = "POST";
		r.mem = (const char *)xml.p;
		r.len = (int64_t)xml.len;
		r.sha256 = sha;
		r.timeout_ms = s3.upload_ms;
		snprintf(q, sizeof(q), "uploadId=%s", eid);
		if ((rc = url_of(r.url, sizeof(r.url), key, q)) == PDS_OK)
			rc = req_do(&r, "complete multipart upload");
		/* CompleteMultipartUpload may fail after its 200 */
		if (rc == PDS_OK && r.resp != NULL &&
		    strstr(r.resp, "<Error>") != NULL) {
			note_fail(0, "complete multipart upload: error");
			rc = PDS_EBUSY;
		}
	}
	if (rc != PDS_OK)
		mp_abort(key, eid);
out:
	free(r.resp);
	buf_clear(&xml);
	return rc;
}

static int
s3_put(const char *did, const char *cid, const char *tmp_path, int fd,
    int64_t size, const uint8_t sha256[32], bool *consumed)
{
	char	 key[512], sha[65];
	int	 rc;

	(void)tmp_path;
	*consumed = false;
	if ((rc = key_of(key, sizeof(key), "blocks", did, cid)) != PDS_OK)
		return rc;
	if (size > BLOBSTORE_S3_PART)
		return put_multipart(key, fd, size);
	hex32(sha, sha256);
	return put_single(key, fd, size, sha);
}

/* ---- small calls ---- */

static int
simple(const char *method, const char *key, const char *what)
{
	struct s3_req	 r;
	int		 rc;

	memset(&r, 0, sizeof(r));
	r.method = method;
	if ((rc = url_of(r.url, sizeof(r.url), key, NULL)) == PDS_OK)
		rc = req_do(&r, what);
	free(r.resp);
	return rc;
}

static int	stream_start(const char *, int64_t, int64_t,
		    struct blobstore_stream **);

static int
s3_remove(const char *did, const char *cid)
{
	char	 key[512];
	int	 rc;

	if ((rc = key_of(key, sizeof(key), "blocks", did, cid)) != PDS_OK)
		return rc;
	rc = simple("DELETE", key, "delete");
	return rc == PDS_ENOTFOUND ? PDS_OK : rc;
}

/* Server-side copy from to to, then delete from. */
static int
s3_move(const char *from, const char *to)
{
	struct s3_req	 r;
	char		 src[URL_MAX], esrc[URL_MAX];
	int		 rc;

	memset(&r, 0, sizeof(r));
	r.method = "PUT";
	snprintf(src, sizeof(src), "/%s/%s", s3.bucket, from);
	if ((rc = escape(esrc, sizeof(esrc), src, false)) != PDS_OK)
		return rc;
	r.copy_source = esrc;
	if ((rc = url_of(r.url, sizeof(r.url), to, NULL)) == PDS_OK)
		rc = req_do(&r, "copy");
	free(r.resp);
	if (rc != PDS_OK)
		return rc;
	rc = simple("DELETE", from, "delete");
	return rc == PDS_ENOTFOUND ? PDS_OK : rc;
}

static int
s3_quarantine(const char *did, const char *cid, bool on)
{
	char	 blk[512], q[512];
	int	 rc;

	if ((rc = key_of(blk, sizeof(blk), "blocks", did, cid)) != PDS_OK ||
	    (rc = key_of(q, sizeof(q), "quarantine", did, cid)) != PDS_OK)
		return rc;
	return on ? s3_move(blk, q) : s3_move(q, blk);
}

/* Delete every key under prefix (ListObjectsV2, 1000 at a time). */
static int
delete_prefix(const char *prefix)
{
	struct s3_req	 r;
	char		 q[2600], ep[1024], tok[1100], etok[1400];
	char		 key[1100], trunc[16];
	size_t		 pos;
	int		 rc;

	if ((rc = escape(ep, sizeof(ep), prefix, true)) != PDS_OK)
		return rc;
	tok[0] = '\0';
	do {
		memset(&r, 0, sizeof(r));
		r.method = "GET";
		if (tok[0] != '\0') {
			if ((rc = escape(etok, sizeof(etok), tok, true)) !=
			    PDS_OK)
				return rc;
			snprintf(q, sizeof(q), "continuation-token=%s&"
			    "list-type=2&prefix=%s", etok, ep);
		} else
			snprintf(q, sizeof(q), "list-type=2&prefix=%s", ep);
		if ((rc = url_of(r.url, sizeof(r.url), NULL, q)) != PDS_OK ||
		    (rc = req_do(&r, "list")) != PDS_OK) {
			free(r.resp);
			return rc == PDS_ENOTFOUND ? PDS_OK : rc;
		}
		pos = 0;
		while (rc == PDS_OK && s3xml_next(r.resp, r.resp_len, "Key",
		    &pos, key, sizeof(key)) == PDS_OK) {
			if (strncmp(key, prefix, strlen(prefix)) != 0)
				continue;	/* not ours: never */
			rc = simple("DELETE", key, "delete");
			if (rc == PDS_ENOTFOUND)
				rc = PDS_OK;
		}
		if (s3xml_get(r.resp, r.resp_len, "IsTruncated", trunc,
		    sizeof(trunc)) != PDS_OK || strcmp(trunc, "true") != 0 ||
		    s3xml_get(r.resp, r.resp_len, "NextContinuationToken",
		    tok, sizeof(tok)) != PDS_OK)
			tok[0] = '\0';
		free(r.resp);
	} while (rc == PDS_OK && tok[0] != '\0');
	return rc;
}

static int
s3_remove_account(const char *did)
{
	char	 p[512];
	int	 rc;

	if ((rc = key_of(p, sizeof(p), "blocks", did, NULL)) != PDS_OK ||
	    (rc = delete_prefix(p)) != PDS_OK ||
	    (rc = key_of(p, sizeof(p), "quarantine", did, NULL)) != PDS_OK)
		return rc;
	return delete_prefix(p);
}

/* ---- the sweep: multipart uploads a crash left behind ---- */

/*
 * Abort the multipart uploads under blocks/ started before `before'
 * (ISO time): those of a pdsd that stopped half-way through a blob.
 * Up to one listing (1000) per call; the sweep job calls it again.
 */
int
blobstore_s3_sweep(const char *before)
{
	struct s3_req	 r;
	char		 key[1100], id[512], eid[600], at[64];
	size_t		 pk = 0, pi = 0, pa = 0;
	int		 rc, n = 0;

	if (!s3.on)
		return PDS_OK;
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	if ((rc = url_of(r.url, sizeof(r.url), NULL,
	    "prefix=blocks%2F&uploads=")) != PDS_OK ||
	    (rc = req_do(&r, "list multipart uploads")) != PDS_OK) {
		free(r.resp);
		return rc;
	}
	while (s3xml_next(r.resp, r.resp_len, "Key", &pk, key,
	    sizeof(key)) == PDS_OK && s3xml_next(r.resp, r.resp_len,
	    "UploadId", &pi, id, sizeof(id)) == PDS_OK &&
	    s3xml_next(r.resp, r.resp_len, "Initiated", &pa, at,
	    sizeof(at)) == PDS_OK) {
		if (strncmp(key, "blocks/", 7) != 0 || strcmp(at, before) >= 0 ||
		    escape(eid, sizeof(eid), id, true) != PDS_OK)
			continue;
		mp_abort(key, eid);
		n++;
	}
	free(r.resp);
	if (n > 0)
		log_info("blobs: s3: aborted %d unfinished uploads", n);
	return PDS_OK;
}

/* ---- streamed reads ---- */

struct blobstore_stream {
	struct s3_req	 r;
	CURL		*h;
	CURLM		*m;
	struct curl_slist *hdrs;
	char		 range[64];
	char		*buf;		/* STREAM_BUF bytes */
	size_t		 have, at;	/* buffered: [at, have) */
	bool		 headers_done, done, paused;
	int64_t		 length;	/* Content-Length, -1: unknown */
	int64_t		 total;		/* the object's size */
	int64_t		 given;		/* bytes handed out */
	char		*err;		/* an error answer's body */
	size_t		 err_len;
};

static size_t
st_header(char *p, size_t sz, size_t n, void *arg)
{
	struct blobstore_stream *s = arg;
	size_t		 len = sz * n;
	char		 line[256];
	long		 code = 0;
	const char	*slash;

	if (len >= sizeof(line))
		return len;
	memcpy(line, p, len);
	line[len] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		s->length = -1;
		return len;
	}
	if (strcmp(line, "\r\n") == 0 || strcmp(line, "\n") == 0) {
		(void)curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200)	/* not a 100 Continue */
			s->headers_done = true;
		return len;
	}
	if (strncasecmp(line, "Content-Length:", 15) == 0)
		s->length = strtoll(line + 15, NULL, 10);
	else if (strncasecmp(line, "Content-Range:", 14) == 0 &&
	    (slash = strchr(line, '/')) != NULL)
		s->total = strtoll(slash + 1, NULL, 10);
	return len;
}

static size_t
st_body(char *p, size_t sz, size_t n, void *arg)
{
	struct blobstore_stream *s = arg;
	size_t		 len = sz * n;
	long		 code = 0;

	(void)curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code >= 300) {
		/* an error's XML: what goes beyond 16 KiB is dropped */
		return text_add(&s->err, &s->err_len, 16384, p, len) ==
		    PDS_ENOMEM ? 0 : len;
	}
	if (s->at == s->have)
		s->at = s->have = 0;
	if (s->have + len > STREAM_BUF) {
		if (s->at > 0) {
			memmove(s->buf, s->buf + s->at, s->have - s->at);
			s->have -= s->at;
			s->at = 0;
		}
		if (s->have + len > STREAM_BUF) {
			s->paused = true;
			return CURL_WRITEFUNC_PAUSE;
		}
	}
	memcpy(s->buf + s->have, p, len);
	s->have += len;
	return len;
}

static int
st_perform(struct blobstore_stream *s, int *running)
{
	CURLMsg		*msg;
	int		 left;

	if (curl_multi_perform(s->m, running) != CURLM_OK)
		return PDS_EIO;
	while ((msg = curl_multi_info_read(s->m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE) {
			s->done = true;
			s->r.cc = msg->data.result;
		}
	return PDS_OK;
}

/*
 * Move the transfer on; when that gave nothing new, wait up to wait_ms
 * for the socket and try once more.
 */
static int
st_drive(struct blobstore_stream *s, int wait_ms)
{
	int	 running = 0;
	bool	 hd = s->headers_done;

	if (st_perform(s, &running) != PDS_OK)
		return PDS_EIO;
	if (s->done || s->have > s->at || hd != s->headers_done)
		return PDS_OK;
	if (running > 0 && wait_ms > 0 &&
	    curl_multi_poll(s->m, NULL, 0, wait_ms, NULL) != CURLM_OK)
		return PDS_EIO;
	return st_perform(s, &running);
}

void
blobstore_stream_free(struct blobstore_stream *s)
{
	if (s == NULL)
		return;
	curl_lazy_multi_free(s->m, s->h);
	curl_slist_free_all(s->hdrs);
	free(s->buf);
	free(s->err);
	free(s->r.resp);
	free(s);
}

static int
stall_ms(void)
{
	return (int)(s3.request_ms > 0 ? s3.request_ms : STALL_MS_DEF);
}

ssize_t
blobstore_stream_read(struct blobstore_stream *s, char *buf, size_t max)
{
	int64_t	 until = clock_mono_ms() + stall_ms();
	size_t	 n;

	while (s->at == s->have) {
		if (s->paused) {
			s->paused = false;
			if (curl_easy_pause(s->h, CURLPAUSE_CONT) != CURLE_OK)
				return -1;
			continue;
		}
		if (s->done) {
			if (s->r.cc != CURLE_OK || (s->length >= 0 &&
			    s->given != s->length)) {
				note_fail(0, "read: %s", s->r.cc != CURLE_OK ?
				    curl_easy_strerror(s->r.cc) :
				    "the object ended early");
				return -1;
			}
			return 0;
		}
		if (clock_mono_ms() > until) {
			note_fail(stall_ms(), "read: no data for %d ms",
			    stall_ms());
			return -1;
		}
		if (st_drive(s, 200) != PDS_OK)
			return -1;
	}
	n = s->have - s->at < max ? s->have - s->at : max;
	memcpy(buf, s->buf + s->at, n);
	s->at += n;
	s->given += (int64_t)n;
	if (s->paused && s->at == s->have) {
		s->paused = false;
		(void)curl_easy_pause(s->h, CURLPAUSE_CONT);
	}
	return (ssize_t)n;
}

/* Start a GET of key and wait for its headers (or its end). */
static int
stream_start(const char *key, int64_t off, int64_t len,
    struct blobstore_stream **sp)
{
	struct blobstore_stream *s;
	int64_t		 t0 = clock_mono_ms(), until;
	long		 code = 0;
	char		 ecode[64];
	int		 rc = PDS_EIO, attempt;

	*sp = NULL;
	if (offload_would_block()) {	/* an HTTP worker (offload.h) */
		note_fail(0, "get: refused on an HTTP worker");
		return PDS_EBUSY;
	}
	for (attempt = 0; attempt < ATTEMPTS; attempt++) {
		if ((s = calloc(1, sizeof(*s))) == NULL ||
		    (s->buf = malloc(STREAM_BUF)) == NULL) {
			blobstore_stream_free(s);
			return PDS_ENOMEM;
		}
		s->length = -1;
		s->total = -1;
		s->r.method = "GET";
		if (off > 0 || len >= 0) {
			if (len >= 0)
				snprintf(s->range, sizeof(s->range),
				    "bytes=%lld-%lld", (long long)off,
				    (long long)(off + len - 1));
			else
				snprintf(s->range, sizeof(s->range),
				    "bytes=%lld-", (long long)off);
			s->r.range = s->range;
		}
		if ((rc = url_of(s->r.url, sizeof(s->r.url), key, NULL)) !=
		    PDS_OK || (s->hdrs = req_headers(&s->r)) == NULL ||
		    (s->h = curl_easy_init()) == NULL ||
		    (s->m = curl_multi_init()) == NULL ||
		    req_setup(s->h, &s->r, s->hdrs) != PDS_OK ||
		    curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION,
		    st_header) != CURLE_OK ||
		    curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s) !=
		    CURLE_OK ||
		    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, st_body) !=
		    CURLE_OK ||
		    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s) != CURLE_OK ||
		    curl_multi_add_handle(s->m, s->h) != CURLM_OK) {
			blobstore_stream_free(s);
			return rc != PDS_OK ? rc : PDS_EIO;
		}
		until = clock_mono_ms() + stall_ms();
		while (!s->headers_done && !s->done &&
		    clock_mono_ms() < until)
			if (st_drive(s, 200) != PDS_OK)
				break;
		/* an error answer's body comes with its end */
		(void)curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
		while (s->headers_done && !s->done && (code < 200 ||
		    code >= 300) && clock_mono_ms() < until)
			if (st_drive(s, 200) != PDS_OK)
				break;
		if (s->headers_done && code >= 200 && code < 300) {
			if (s->total < 0)
				s->total = s->length;
			note_ok(clock_mono_ms() - t0);
			*sp = s;
			return PDS_OK;
		}
		if (s->headers_done && code == 404) {
			blobstore_stream_free(s);
			note_ok(clock_mono_ms() - t0);
			return PDS_ENOTFOUND;
		}
		if (s->headers_done && code == 416) {
			blobstore_stream_free(s);
			note_ok(clock_mono_ms() - t0);
			return PDS_EINVAL;
		}
		ecode[0] = '\0';
		if (s->err != NULL)
			(void)s3xml_get(s->err, s->err_len, "Code", ecode,
			    sizeof(ecode));
		if (s->headers_done && code < 500 && code != 429) {
			note_fail(clock_mono_ms() - t0, "get: HTTP %ld %s",
			    code, ecode);
			blobstore_stream_free(s);
			return PDS_EUPSTREAM;
		}
		if (s->headers_done)
			note_fail(clock_mono_ms() - t0, "get: HTTP %ld %s",
			    code, ecode);
		else
			note_fail(clock_mono_ms() - t0, "get: %s",
			    s->done ? curl_easy_strerror(s->r.cc) :
			    "no answer in time");
		blobstore_stream_free(s);
		if (clock_mono_ms() - t0 > stall_ms())
			break;
		stats_add(c_retries, 1);
		usleep(100000U << (2 * attempt));
	}
	return PDS_EBUSY;
}

static int
s3_stat(const char *did, const char *cid, int64_t *size)
{
	struct blobstore_stream *st;
	char	 key[512];
	int	 rc;

	if ((rc = key_of(key, sizeof(key), "blocks", did, cid)) != PDS_OK)
		return rc;
	/* the first byte only: Content-Range names the size */
	rc = stream_start(key, 0, 1, &st);
	if (rc == PDS_EINVAL) {		/* 416: an empty object */
		*size = 0;
		return PDS_OK;
	}
	if (rc != PDS_OK)
		return rc;
	*size = st->total;
	blobstore_stream_free(st);
	return PDS_OK;
}

static int
s3_open(const char *did, const char *cid, int64_t off, int64_t len,
    struct blobstore_read *rd)
{
	struct blobstore_stream *s;
	char	 key[512];
	int	 rc;

	memset(rd, 0, sizeof(*rd));
	rd->fd = -1;
	if ((rc = key_of(key, sizeof(key), "blocks", did, cid)) != PDS_OK ||
	    (rc = stream_start(key, off, len, &s)) != PDS_OK)
		return rc;
	rd->stream = s;
	rd->total = s->total;
	rd->off = off;
	rd->len = s->length;
	return PDS_OK;
}

const struct blobstore_ops blobstore_s3_ops = {
	.name = "s3",
	.put = s3_put,
	.open = s3_open,
	.stat = s3_stat,
	.remove = s3_remove,
	.remove_account = s3_remove_account,
	.quarantine = s3_quarantine,
};

/* ---- set-up ---- */

int
blobstore_s3_init(const struct config *cfg)
{
	const char	*region = cfg->s3_region != NULL ? cfg->s3_region :
			    "us-east-1";
	const char	*ep = cfg->s3_endpoint, *host;
	char		 scheme[8];
	int		 n;

	if (cfg->s3_access_key_id == NULL) {
		log_warnx("blobs: PDS_BLOBSTORE_S3_BUCKET needs "
		    "PDS_BLOBSTORE_S3_ACCESS_KEY_ID and "
		    "PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY (pdsd does not read "
		    "cloud instance credentials)");
		return PDS_EINVAL;
	}
	if (strlen(cfg->s3_bucket) >= sizeof(s3.bucket) ||
	    strpbrk(cfg->s3_bucket, "/?#% ") != NULL ||
	    strpbrk(region, "/:?# ") != NULL) {
		log_warnx("blobs: PDS_BLOBSTORE_S3_BUCKET or _REGION is "
		    "not a valid name");
		return PDS_EINVAL;
	}
	snprintf(s3.bucket, sizeof(s3.bucket), "%s", cfg->s3_bucket);
	snprintf(s3.sigv4, sizeof(s3.sigv4), "aws:amz:%s:s3", region);
	if (ep == NULL) {
		n = cfg->s3_force_path_style ?
		    snprintf(s3.base, sizeof(s3.base),
		    "https://s3.%s.amazonaws.com/%s", region, s3.bucket) :
		    snprintf(s3.base, sizeof(s3.base),
		    "https://%s.s3.%s.amazonaws.com", s3.bucket, region);
	} else if (cfg->s3_force_path_style)
		n = snprintf(s3.base, sizeof(s3.base), "%s/%s", ep,
		    s3.bucket);
	else {
		host = strstr(ep, "://");
		if (host == NULL || host - ep >= (int)sizeof(scheme))
			return PDS_EINVAL;
		snprintf(scheme, sizeof(scheme), "%.*s", (int)(host - ep), ep);
		n = snprintf(s3.base, sizeof(s3.base), "%s://%s.%s", scheme,
		    s3.bucket, host + 3);
	}
	if (n < 0 || (size_t)n >= sizeof(s3.base))
		return PDS_ETOOBIG;
	if (asprintf(&s3.userpwd, "%s:%s", cfg->s3_access_key_id,
	    cfg->s3_secret_access_key) == -1)
		return PDS_ENOMEM;
	s3.upload_ms = cfg->s3_upload_timeout_ms;
	s3.request_ms = cfg->s3_request_timeout_ms;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("blobs: S3 needs libcurl, which could not be "
		    "loaded");
		return PDS_EIO;
	}
	c_ok = stats_counter("blobstore.s3.ok", STATS_RATE);
	c_failed = stats_counter("blobstore.s3.failed", STATS_RATE);
	c_retries = stats_counter("blobstore.s3.retries", 0);
	c_last_ms = stats_counter("blobstore.s3.last_ms", STATS_GAUGE);
	snprintf(health.endpoint, sizeof(health.endpoint), "%.199s",
	    s3.base);
	snprintf(health.bucket, sizeof(health.bucket), "%s", s3.bucket);
	s3.on = true;
	log_info("blobs: S3 bucket %s at %s", s3.bucket, s3.base);
	return PDS_OK;
}
