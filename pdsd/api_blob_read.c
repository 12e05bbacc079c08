/*
 * api_blob_read: the body of a getBlob answer, from whichever blob store
 * holds the blob: Content-Length always, one byte range when the client
 * asks for it (Range: bytes=a-b, a-, -n; 206 with Content-Range; 416
 * when outside the blob; several ranges, or a malformed header, get the
 * whole blob), and never the whole blob in memory when it comes from
 * S3 (blobstore.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_blob_read.h"
#include "blobs.h"
#include "blobstore.h"
#include "err.h"
#include "http.h"

#define INMEM_MAX	((int64_t)16 << 20)	/* disk: read at once */
#define RETRY_AFTER_S	"5"

static bool
parse_num(const char **p, int64_t *out)
{
	int64_t	 v = 0;

	if (**p < '0' || **p > '9')
		return false;
	for (; **p >= '0' && **p <= '9'; (*p)++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return true;
}

/*
 * The range h asks for in a blob of total bytes: 1 (a range: [*off,
 * *off + *len)), 0 (none: the whole blob) or -1 (not satisfiable).
 */
int
api_blob_range(const char *h, int64_t total, int64_t *off, int64_t *len)
{
	const char	*p;
	int64_t		 a, b;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0 ||
	    strchr(h, ',') != NULL)
		return 0;
	p = h + 6;
	if (*p == '-') {		/* the last b bytes */
		p++;
		if (!parse_num(&p, &b) || *p != '\0')
			return 0;
		if (b == 0 || total == 0)
			return -1;
		*len = b < total ? b : total;
		*off = total - *len;
		return 1;
	}
	if (!parse_num(&p, &a) || *p++ != '-')
		return 0;
	if (*p == '\0')
		b = total - 1;
	else if (!parse_num(&p, &b) || *p != '\0' || b < a)
		return 0;
	if (a >= total)
		return -1;
	if (b >= total)
		b = total - 1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

static ssize_t
stream_fn(void *arg, uint64_t pos, char *buf, size_t max)
{
	struct blobstore_stream *s = arg;
	ssize_t		 n;

	(void)pos;
	n = blobstore_stream_read(s, buf, max);
	if (n == 0)
		return HTTP_STREAM_END;
	return n < 0 ? HTTP_STREAM_ERROR : n;
}

static void
stream_free(void *arg)
{
	blobstore_stream_free(arg);
}

/* A whole small file from disk, into memory (as before the stores). */
static int
reply_small_file(struct http_req *req, const char *mime,
    struct blobstore_read *rd)
{
	uint8_t		*data;
	size_t		 off;
	ssize_t		 n;

	if ((data = malloc(rd->len > 0 ? (size_t)rd->len : 1)) == NULL)
		return PDS_ENOMEM;
	for (off = 0; off < (size_t)rd->len; off += (size_t)n) {
		n = pread(rd->fd, data + off, (size_t)rd->len - off,
		    (off_t)off);
		if (n <= 0) {
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			free(data);
			return PDS_EIO;
		}
	}
	http_reply_owned(req, 200, mime, data, (size_t)rd->len);
	return PDS_OK;
}

int
api_blob_reply(struct http_req *req, const char *did, const struct cid *cid,
    const char *mime, int64_t size)
{
	struct blobstore_read rd;
	int64_t		 off = 0, len = -1;
	char		 cr[96];
	int		 ranged, rc;
	unsigned	 status = 200;

	ranged = api_blob_range(http_req_header(req, "Range"), size, &off,
	    &len);
	(void)http_reply_header(req, "Accept-Ranges", "bytes");
	if (ranged < 0) {
		snprintf(cr, sizeof(cr), "bytes */%" PRId64, size);
		(void)http_reply_header(req, "Content-Range", cr);
		http_reply_error(req, 416, "InvalidRequest",
		    "Range not satisfiable");
		return PDS_OK;
	}
	if ((rc = blobs_open_range(did, cid, off, len, &rd)) != PDS_OK)
		return rc;
	if (ranged > 0) {
		status = 206;
		snprintf(cr, sizeof(cr), "bytes %" PRId64 "-%" PRId64 "/%"
		    PRId64, rd.off, rd.off + rd.len - 1, rd.total);
		(void)http_reply_header(req, "Content-Range", cr);
	}
	if (rd.stream != NULL) {
		http_reply_stream_len(req, status, mime, (uint64_t)rd.len,
		    stream_fn, rd.stream, stream_free);
		return PDS_OK;
	}
	if (ranged == 0 && rd.len <= INMEM_MAX) {
		rc = reply_small_file(req, mime, &rd);
		blobs_read_done(&rd);
		return rc;
	}
	http_reply_fd_at(req, status, mime, rd.fd, (uint64_t)rd.off,
	    (uint64_t)rd.len);
	return PDS_OK;
}

void
api_blob_unavailable(struct http_req *req)
{
	(void)http_reply_header(req, "Retry-After", RETRY_AFTER_S);
}
