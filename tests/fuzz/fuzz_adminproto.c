/*
 * fuzz_adminproto: the admin socket's request parser, reply parser and
 * line reader.  Whatever adminproto_req_parse() accepts must re-encode
 * to a request that parses to the same id, cmd and args; every error
 * must come with an error name the protocol defines; the reader must
 * never hand out a line over its cap nor hold more than cap bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adminproto.h"
#include "buf.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_request(const char *line, size_t len)
{
	struct adminproto_req	 req, again;
	struct buf		 b;
	const char		*name = NULL, *why = NULL;
	int			 rc;

	rc = adminproto_req_parse(line, len, &req, &name, &why);
	if (rc != PDS_OK) {
		if (name == NULL || why == NULL)
			abort();
		if (adminproto_error_class(name) != AP_CLASS_USAGE &&
		    strcmp(name, AP_E_INTERNAL) != 0)
			abort();
		if (req.id < -1 || req.id >= ADMINPROTO_ID_MAX)
			abort();
		/* an error reply for it must encode and parse back */
		buf_init(&b, 0);
		if (adminproto_put_error(&b, req.id, name, why) != PDS_OK)
			abort();
		adminproto_req_clear(&req);
		buf_clear(&b);
		return;
	}
	if (req.args == NULL || !json_is_object(req.args) || req.id < 0)
		abort();
	buf_init(&b, 0);
	if (adminproto_put_request(&b, req.id, req.cmd, req.args) != PDS_OK)
		abort();
	if (b.len == 0 || b.p[b.len - 1] != '\n')
		abort();
	if (adminproto_req_parse((const char *)b.p, b.len - 1, &again, &name,
	    &why) != PDS_OK)
		abort();
	if (again.id != req.id || strcmp(again.cmd, req.cmd) != 0 ||
	    !json_equal(again.args, req.args))
		abort();
	adminproto_req_clear(&again);
	adminproto_req_clear(&req);
	buf_clear(&b);
}

static void
check_reply(const char *line, size_t len)
{
	struct adminproto_msg	 m, again;
	struct buf		 b;
	const char		*why = NULL;

	if (adminproto_msg_parse(line, len, &m, &why) != PDS_OK) {
		if (why == NULL)
			abort();
		return;
	}
	buf_init(&b, 0);
	switch (m.kind) {
	case AP_MSG_OK:
		if (adminproto_put_ok(&b, m.id, m.result) != PDS_OK)
			abort();
		break;
	case AP_MSG_ERROR:
		if (adminproto_put_error(&b, m.id, m.error, m.message) !=
		    PDS_OK)
			abort();
		break;
	case AP_MSG_EVENT:
		if (adminproto_put_event(&b, m.id, m.result) != PDS_OK)
			abort();
		break;
	case AP_MSG_END:
		if (adminproto_put_end(&b, m.id, m.result) != PDS_OK)
			abort();
		break;
	}
	if (adminproto_msg_parse((const char *)b.p, b.len - 1, &again,
	    &why) != PDS_OK || again.kind != m.kind || again.id != m.id)
		abort();
	adminproto_msg_clear(&again);
	adminproto_msg_clear(&m);
	buf_clear(&b);
}

/* Feed the input through a small reader in odd-sized pieces. */
static void
check_reader(const uint8_t *data, size_t size)
{
	struct adminproto_reader r;
	const char		*line;
	size_t			 len, avail, off = 0, piece = 1;
	char			*sp;
	enum adminproto_read	 st;

	if (adminproto_reader_init(&r, 64) != PDS_OK)
		abort();
	while (off < size) {
		sp = adminproto_reader_space(&r, &avail);
		if (avail == 0)
			abort();	/* next() always frees room */
		if (piece > avail)
			piece = avail;
		if (piece > size - off)
			piece = size - off;
		memcpy(sp, data + off, piece);
		adminproto_reader_commit(&r, piece);
		off += piece;
		piece = piece % 7 + 1 + (data[off - 1] & 3);
		while ((st = adminproto_reader_next(&r, &line, &len)) !=
		    AP_READ_MORE) {
			if (st == AP_READ_LINE && (len > 64 ||
			    memchr(line, '\n', len) != NULL))
				abort();
		}
		if (adminproto_reader_pending(&r) > 65)
			abort();
	}
	adminproto_reader_clear(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*line = (const char *)data;
	const char	*nl;
	size_t		 len, total = size;

	/* each line of the input is tried as a request and as a reply */
	while (size > 0) {
		nl = memchr(line, '\n', size);
		len = nl != NULL ? (size_t)(nl - line) : size;
		check_request(line, len);
		check_reply(line, len);
		if (nl == NULL)
			break;
		size -= len + 1;
		line = nl + 1;
	}
	check_reader(data, total);
	return 0;
}
