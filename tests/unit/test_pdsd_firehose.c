/*
 * test_pdsd_firehose: the firehose's encodings against atproto-notes V11
 * and RFC 6455, then the real thing in process: a store in a temporary
 * directory, the HTTP server on a loopback port, the firehose thread,
 * and a raw WebSocket client that reads frames byte by byte.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "car.h"
#include "cbor.h"
#include "clock.h"
#include "../../pdsd/config.h"
#include "err.h"
#include "../../pdsd/events.h"
#include "../../pdsd/firehose.h"
#include "../../pdsd/http.h"
#include "log.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_events.h"
#include "../../pdsd/ws.h"
#include "../../pdsd/xrpc.h"

#include "t.h"

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t	 n = 0;
	unsigned v;

	while (h[0] && h[1] && n < cap) {
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static bool
buf_is_hex(const struct buf *b, const char *hex)
{
	uint8_t	 want[512];
	size_t	 n = unhex(hex, want, sizeof(want));

	return b->len == n && memcmp(b->p, want, n) == 0;
}

/* ---- V11 and the body encodings ---- */

static void
test_vectors(void)
{
	struct buf	 b;
	char		 acc[WS_ACCEPT_LEN + 1];
	uint8_t		 h[WS_FRAME_HEADER_MAX], cf[2 + WS_CONTROL_MAX];
	const char	*why;
	size_t		 n;

	t_group("V11 frames");
	buf_init(&b, 4096);
	CHECK(events_frame_header(&b, "commit") == PDS_OK, "header");
	CHECK(buf_is_hex(&b, "a261746723636f6d6d6974626f7001"),
	    "#commit header bytes");
	buf_reset(&b);
	CHECK(events_frame_info(&b, "OutdatedCursor", NULL) == PDS_OK, "info");
	CHECK(buf_is_hex(&b, "a261746523696e666f626f7001"
	    "a1646e616d656e4f75746461746564437572736f72"), "#info frame");
	buf_reset(&b);
	CHECK(events_frame_error(&b, "FutureCursor", "Cursor in the future.")
	    == PDS_OK, "error");
	CHECK(buf_is_hex(&b, "a1626f7020a2656572726f726c467574757265437572"
	    "736f72676d65737361676575437572736f7220696e20746865206675747572"
	    "652e"), "FutureCursor error frame");
	buf_clear(&b);
	t_group_end();

	t_group("RFC 6455");
	/* RFC 6455 section 1.3's example */
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc) == PDS_OK, "key");
	CHECK(strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "%s", acc);
	CHECK(ws_frame_header(h, WS_OP_BINARY, 125) == 2 && h[0] == 0x82 &&
	    h[1] == 125, "7-bit length");
	CHECK(ws_frame_header(h, WS_OP_BINARY, 126) == 4 && h[1] == 126 &&
	    h[2] == 0 && h[3] == 126, "16-bit length");
	CHECK(ws_frame_header(h, WS_OP_BINARY, 65536) == 10 && h[1] == 127 &&
	    h[7] == 1 && h[8] == 0 && h[9] == 0, "64-bit length");
	n = ws_close_frame(cf, 1008, "ConsumerTooSlow");
	CHECK(n == 4 + 15 && cf[0] == 0x88 && cf[1] == 17 && cf[2] == 0x03 &&
	    cf[3] == 0xf0 && memcmp(cf + 4, "ConsumerTooSlow", 15) == 0,
	    "close frame 1008");
	CHECK(ws_handshake_check("websocket", "keep-alive, Upgrade", "13",
	    "dGhlIHNhbXBsZSBub25jZQ==", &why), "a browser's handshake");
	CHECK(!ws_handshake_check(NULL, "Upgrade", "13",
	    "dGhlIHNhbXBsZSBub25jZQ==", &why), "no Upgrade");
	CHECK(!ws_handshake_check("websocket", "Upgrade", "8",
	    "dGhlIHNhbXBsZSBub25jZQ==", &why), "version 8");
	CHECK(!ws_handshake_check("websocket", "Upgrade", "13", "short",
	    &why), "bad key");
	CHECK(!ws_handshake_check("websocket", "close", "13",
	    "dGhlIHNhbXBsZSBub25jZQ==", &why), "Connection: close");
	t_group_end();
}

static const char *
dm_str(const struct dm_value *m, const char *k)
{
	const struct dm_value *v = dm_map_get(m, k);

	return v != NULL && v->type == DM_STRING ? (const char *)v->u.s.p :
	    NULL;
}

static int64_t
dm_i(const struct dm_value *m, const char *k)
{
	const struct dm_value *v = dm_map_get(m, k);

	return v != NULL && v->type == DM_INT ? v->u.i : -1;
}

static void
test_bodies(void)
{
	/* V9: the signed commit, and its CID */
	static const char commit_hex[] =
	    "a66364696478206469643a706c633a65777669376e787a796f756e367a6878"
	    "7268733634"
	    "6f697a637265766d336b6875776334346332323237637369675840966bf24b"
	    "76b984bc0456a41bedbbddb90a3333f4b868f17096462bc5e09a91aa467c32"
	    "a94805caa35930a361c7401f807c95351661682302a89e2d0285d3caea6464"
	    "617461d82a5825000171122059c9c2fcac488eacc787a1f836252d2d6c2d29"
	    "03c07515828a64a2e94c1e48886470726576f66776657273696f6e03";
	const char	*did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
	const char	*ts = "2024-01-02T03:04:05.678Z";
	uint8_t		 commit[256];
	size_t		 clen;
	struct cid	 ccid, got;
	struct buf	 b;
	struct dm_arena	*a;
	struct dm_value	*v, *bl;
	struct car_reader cr;
	const uint8_t	*data;
	size_t		 dlen;
	const char	*why;

	t_group("event bodies");
	clen = unhex(commit_hex, commit, sizeof(commit));
	CHECK(clen == 188, "V9 commit is 188 bytes (%zu)", clen);
	CHECK(cid_parse(&ccid, "bafyreia5bproms2p4fiwschs6a6yh2tiqxfcd5towup7x"
	    "tn4swzlrdylau", 59, NULL) == PDS_OK, "V9 CID");
	CHECK(cid_matches(&ccid, commit, clen), "V9 CID matches its bytes");

	buf_init(&b, 1 << 16);
	a = dm_arena_new();

	/* #identity: strict decoding proves canonical key order */
	CHECK(events_body_identity(&b, 7, did, "alice.test", ts) == PDS_OK,
	    "identity");
	CHECK(dm_decode(a, b.p, b.len, &v, &why) == PDS_OK, "canonical: %s",
	    why);
	CHECK(v->u.map.n == 4 && dm_i(v, "seq") == 7 &&
	    strcmp(dm_str(v, "did"), did) == 0 &&
	    strcmp(dm_str(v, "handle"), "alice.test") == 0 &&
	    strcmp(dm_str(v, "time"), ts) == 0, "identity fields");
	buf_reset(&b);
	CHECK(events_body_identity(&b, 8, did, NULL, ts) == PDS_OK &&
	    dm_decode(a, b.p, b.len, &v, &why) == PDS_OK && v->u.map.n == 3 &&
	    dm_map_get(v, "handle") == NULL, "identity without a handle");

	/* #account: status omitted when active (the reference's way) */
	buf_reset(&b);
	CHECK(events_body_account(&b, 9, did, true, "takendown", ts) ==
	    PDS_OK && dm_decode(a, b.p, b.len, &v, &why) == PDS_OK &&
	    v->u.map.n == 4 && dm_map_get(v, "status") == NULL &&
	    dm_map_get(v, "active")->type == DM_BOOL &&
	    dm_map_get(v, "active")->u.b, "account active");
	buf_reset(&b);
	CHECK(events_body_account(&b, 10, did, false, "deactivated", ts) ==
	    PDS_OK && dm_decode(a, b.p, b.len, &v, &why) == PDS_OK &&
	    v->u.map.n == 5 && !dm_map_get(v, "active")->u.b &&
	    strcmp(dm_str(v, "status"), "deactivated") == 0,
	    "account deactivated");

	/* #sync: a CAR with the commit as its root and only block */
	buf_reset(&b);
	CHECK(events_body_sync(&b, 11, did, "3khuwc44c2227", &ccid, commit,
	    clen, ts) == PDS_OK, "sync");
	CHECK(dm_decode(a, b.p, b.len, &v, &why) == PDS_OK && v->u.map.n == 5,
	    "sync canonical");
	CHECK(strcmp(dm_str(v, "rev"), "3khuwc44c2227") == 0 &&
	    dm_i(v, "seq") == 11, "sync rev, seq");
	bl = dm_map_get(v, "blocks");
	CHECK(bl != NULL && bl->type == DM_BYTES, "sync blocks are bytes");
	if (bl != NULL && bl->type == DM_BYTES) {
		CHECK(car_reader_open_mem(&cr, bl->u.s.p, bl->u.s.len, NULL,
		    &why) == PDS_OK && cr.nroots == 1 &&
		    cid_equal(&cr.roots[0], &ccid), "CAR root is the commit");
		CHECK(car_next(&cr, &got, &data, &dlen, &why) == 1 &&
		    cid_equal(&got, &ccid) && dlen == clen &&
		    memcmp(data, commit, clen) == 0, "the commit block");
		CHECK(car_next(&cr, &got, &data, &dlen, &why) == 0,
		    "and nothing else");
		car_reader_close(&cr);
	}
	dm_arena_free(a);
	buf_clear(&b);
	t_group_end();
}

/* ---- a raw WebSocket client ---- */

struct client {
	int	 fd;
	uint8_t	 buf[1 << 16];
	size_t	 len;
};

static int
read_some(struct client *c, int timeout_ms)
{
	struct pollfd	 p = { c->fd, POLLIN, 0 };
	ssize_t		 n;

	if (c->len == sizeof(c->buf))
		return -1;
	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return 1;
}

static int
client_open(struct client *c, uint16_t port, const char *query, int rcvbuf)
{
	struct sockaddr_in sin;
	char		 req[512];
	char		*end;
	int		 n;

	memset(c, 0, sizeof(*c));
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (rcvbuf > 0)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		return -1;
	n = snprintf(req, sizeof(req), "GET /xrpc/com.atproto.sync."
	    "subscribeRepos%s HTTP/1.1\r\nHost: localhost\r\nUpgrade: "
	    "websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
	    "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    query);
	if (write(c->fd, req, (size_t)n) != n)
		return -1;
	for (;;) {
		c->buf[c->len] = '\0';
		if ((end = strstr((char *)c->buf, "\r\n\r\n")) != NULL)
			break;
		if (read_some(c, 3000) <= 0)
			return -1;
	}
	if (strncmp((char *)c->buf, "HTTP/1.1 101", 12) != 0 ||
	    strstr((char *)c->buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == NULL)
		return -2;
	n = (int)(end + 4 - (char *)c->buf);
	memmove(c->buf, c->buf + n, c->len - (size_t)n);
	c->len -= (size_t)n;
	return 0;
}

/* One frame: its opcode, payload copied to out (cap); -1 on EOF/timeout. */
static int
client_frame(struct client *c, uint8_t *out, size_t cap, size_t *lenp,
    int timeout_ms)
{
	uint64_t	 len;
	size_t		 hl;
	int		 op, i;

	for (;;) {
		if (c->len >= 2) {
			len = c->buf[1] & 0x7f;
			hl = 2;
			if (len == 126 && c->len >= 4) {
				len = (uint64_t)c->buf[2] << 8 | c->buf[3];
				hl = 4;
			} else if (len == 127 && c->len >= 10) {
				for (len = 0, i = 0; i < 8; i++)
					len = len << 8 | c->buf[2 + i];
				hl = 10;
			} else if (len >= 126)
				hl = 0;
			if (hl > 0 && c->len >= hl + len) {
				op = c->buf[0] & 0x0f;
				if (len > cap)
					return -1;
				memcpy(out, c->buf + hl, len);
				*lenp = len;
				memmove(c->buf, c->buf + hl + len,
				    c->len - hl - len);
				c->len -= hl + len;
				return op;
			}
		}
		if (read_some(c, timeout_ms) <= 0)
			return -1;
	}
}

/* A client's (masked) close frame. */
static void
client_close(struct client *c)
{
	uint8_t	 f[8] = { 0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2 };

	(void)write(c->fd, f, sizeof(f));
	close(c->fd);
}

/* Decode frame payload into header and body; the body's seq or -1. */
static int64_t
frame_seq(const uint8_t *p, size_t len, char *type, size_t tcap)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*h, *b;
	size_t		 used;
	int64_t		 seq = -1;
	const char	*t;

	type[0] = '\0';
	if (dm_decode_prefix(a, p, len, &h, &used, NULL) == PDS_OK &&
	    dm_decode(a, p + used, len - used, &b, NULL) == PDS_OK) {
		if ((t = dm_str(h, "t")) != NULL)
			snprintf(type, tcap, "%s", t);
		else if (dm_i(h, "op") == -1 && dm_str(b, "error") != NULL)
			snprintf(type, tcap, "error:%s", dm_str(b, "error"));
		seq = dm_i(b, "seq");
	}
	dm_arena_free(a);
	return seq;
}

/* ---- the server side ---- */

static void
dispatch(struct http_req *r, struct http_target *t)
{
	if (strncmp(http_req_path(r), "/xrpc/", 6) == 0)
		xrpc_dispatch(r, t);
}

static int
append_identity(const char *did, const char *handle)
{
	int	 rc;

	if ((rc = store_begin()) != PDS_OK)
		return rc;
	if ((rc = events_identity(did, handle)) != PDS_OK) {
		store_rollback();
		return rc;
	}
	rc = store_commit();
	events_notify();
	return rc;
}

struct writer {
	int	 n;
	int	 failed;
};

static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	struct timespec	 ts = { 0, 200 * 1000 };
	int		 i;

	for (i = 0; i < w->n; i++) {
		if (append_identity("did:plc:writer", "w.test") != PDS_OK)
			w->failed++;
		nanosleep(&ts, NULL);
	}
	store_thread_close();
	return NULL;
}

static uint8_t	 payload[1 << 16];

static void
test_live(uint16_t port)
{
	struct client	 c, c2;
	struct firehose_stats fs;
	char		 type[64];
	size_t		 len;
	int64_t		 seq, head, want;
	int		 op, rc, i;
	pthread_t	 wt;
	struct writer	 w = { 300, 0 };
	bool		 ok;

	t_group("firehose in process");
	CHECK(append_identity("did:plc:aaaa", "a.test") == PDS_OK, "append");
	CHECK(store_begin() == PDS_OK && events_account("did:plc:aaaa",
	    ACCT_DEACTIVATED) == PDS_OK && store_commit() == PDS_OK,
	    "append without notify (the pending path)");
	CHECK(store_events_head(&head) == PDS_OK && head >= 2, "head %lld",
	    (long long)head);

	/* replay from 0 */
	rc = client_open(&c, port, "?cursor=0", 0);
	CHECK(rc == 0, "handshake (%d)", rc);
	op = client_frame(&c, payload, sizeof(payload), &len, 3000);
	seq = frame_seq(payload, len, type, sizeof(type));
	CHECK(op == WS_OP_BINARY && seq == 1 && strcmp(type, "#identity") ==
	    0, "first replayed: %s %lld", type, (long long)seq);
	op = client_frame(&c, payload, sizeof(payload), &len, 3000);
	seq = frame_seq(payload, len, type, sizeof(type));
	CHECK(op == WS_OP_BINARY && seq == 2 && strcmp(type, "#account") == 0,
	    "second replayed: %s %lld", type, (long long)seq);

	/* live without a cursor, and live after the replay */
	CHECK(client_open(&c2, port, "", 0) == 0, "live handshake");
	usleep(100 * 1000);
	CHECK(store_begin() == PDS_OK && events_identity("did:plc:bbbb", NULL)
	    == PDS_OK && store_commit() == PDS_OK, "append (pending path)");
	op = client_frame(&c2, payload, sizeof(payload), &len, 3000);
	seq = frame_seq(payload, len, type, sizeof(type));
	CHECK(op == WS_OP_BINARY && seq == 3, "live subscriber got seq 3 "
	    "(%lld)", (long long)seq);
	op = client_frame(&c, payload, sizeof(payload), &len, 3000);
	seq = frame_seq(payload, len, type, sizeof(type));
	CHECK(op == WS_OP_BINARY && seq == 3, "replayer went live: seq 3 "
	    "(%lld)", (long long)seq);
	client_close(&c2);

	/* replay racing live writes: no gap, no duplicate */
	CHECK(pthread_create(&wt, NULL, writer_main, &w) == 0, "writer");
	usleep(5 * 1000);
	CHECK(client_open(&c2, port, "?cursor=0", 0) == 0, "racing handshake");
	want = 1;
	ok = true;
	for (i = 0; i < 3 + w.n; i++) {
		op = client_frame(&c2, payload, sizeof(payload), &len, 3000);
		seq = frame_seq(payload, len, type, sizeof(type));
		if (op != WS_OP_BINARY || seq != want) {
			ok = false;
			break;
		}
		want++;
	}
	pthread_join(wt, NULL);
	CHECK(w.failed == 0, "writer failures %d", w.failed);
	CHECK(ok, "seqs 1..%d in order with no gap or duplicate (stopped at "
	    "%lld, wanted %lld)", 3 + w.n, (long long)seq, (long long)want);
	client_close(&c2);
	client_close(&c);

	/* FutureCursor: the exact V11 frame, then close 1008 */
	CHECK(client_open(&c, port, "?cursor=999999", 0) == 0, "future");
	op = client_frame(&c, payload, sizeof(payload), &len, 3000);
	{
		struct buf	 b;

		buf_init(&b, 256);
		events_frame_error(&b, "FutureCursor", "Cursor in the future.");
		CHECK(op == WS_OP_BINARY && len == b.len &&
		    memcmp(payload, b.p, len) == 0, "FutureCursor frame");
		buf_clear(&b);
	}
	op = client_frame(&c, payload, sizeof(payload), &len, 3000);
	CHECK(op == WS_OP_CLOSE && len >= 2 && (payload[0] << 8 |
	    payload[1]) == 1008, "close 1008");
	client_close(&c);

	/* a bad cursor is refused before the upgrade */
	CHECK(client_open(&c, port, "?cursor=x1", 0) == -2, "bad cursor: 400");
	close(c.fd);

	/* ConsumerTooSlow: a client that reads nothing */
	firehose_stats(&fs);
	{
		uint64_t	 slow0 = fs.too_slow;
		static char	 big[30000];
		int		 k;

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK(client_open(&c, port, "", 4096) == 0, "slow handshake");
		usleep(100 * 1000);
		/* ~18 MB: more than both sockets' buffers hold */
		for (k = 0; k < 600; k++) {
			if (store_begin() != PDS_OK)
				break;
			if (events_identity("did:plc:slow", big) != PDS_OK) {
				store_rollback();
				break;
			}
			store_commit();
			events_notify();
		}
		for (k = 0; k < 100; k++) {
			firehose_stats(&fs);
			if (fs.too_slow > slow0)
				break;
			usleep(20 * 1000);
		}
		CHECK(fs.too_slow == slow0 + 1, "dropped as too slow (%llu)",
		    (unsigned long long)fs.too_slow);
		CHECK(fs.frames_live < 64, "its frames were released (%llu "
		    "live)", (unsigned long long)fs.frames_live);
		/* now read: whole frames, then the error, then close 1008 */
		type[0] = '\0';
		while ((op = client_frame(&c, payload, sizeof(payload), &len,
		    3000)) == WS_OP_BINARY)
			(void)frame_seq(payload, len, type, sizeof(type));
		CHECK(strcmp(type, "error:ConsumerTooSlow") == 0,
		    "last frame before the close: %s", type);
		CHECK(op == WS_OP_CLOSE && len >= 2 && (payload[0] << 8 |
		    payload[1]) == 1008, "close 1008 after ConsumerTooSlow");
		close(c.fd);
	}
	t_group_end();
}

/* ---- live ahead of replays ---- */

#define PRIO_REPLAYERS	3
#define PRIO_BIG	200	/* events of 16 kB added to the log */
#define PRIO_LIVE	20	/* events written while the replays run */
#define PRIO_MAX	4096	/* frames a reader keeps */
#define PRIO_LIVE_MS	2000	/* a live frame's delay, at most */

struct reader {
	struct client	 c;
	bool		 slow;		/* pauses as it reads */
	bool		 failed;
	atomic_size_t	 n;
	int64_t		 seq[PRIO_MAX];
	uint64_t	 hash[PRIO_MAX];
	int64_t		 at_ms[PRIO_MAX];
	uint8_t		 payload[1 << 16];
};

static atomic_llong	 prio_last = LLONG_MAX;

static uint64_t
fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

/* Every frame up to seq prio_last: its seq, hash and arrival. */
static void *
reader_main(void *arg)
{
	struct reader	*r = arg;
	char		 type[64];
	size_t		 len, n;
	int64_t		 seq;

	for (n = 0; n < PRIO_MAX; n++) {
		if (client_frame(&r->c, r->payload, sizeof(r->payload), &len,
		    5000) != WS_OP_BINARY)
			break;
		seq = frame_seq(r->payload, len, type, sizeof(type));
		r->seq[n] = seq;
		r->hash[n] = fnv1a(0xcbf29ce484222325ULL, r->payload, len);
		r->at_ms[n] = clock_mono_ms();
		atomic_store(&r->n, n + 1);
		if (seq >= atomic_load(&prio_last))
			return NULL;
		if (r->slow && n % 4 == 3)
			usleep(1000);
	}
	r->failed = true;
	return NULL;
}

struct expect {
	size_t		 n;
	int64_t		 seq[PRIO_MAX];
	uint64_t	 hash[PRIO_MAX];
};

/* A row's frame payload as the firehose builds it, hashed. */
static int
expect_row(void *arg, const struct store_event_row *row)
{
	struct expect	*e = arg;
	struct buf	 h;
	uint64_t	 x;

	if (e->n == PRIO_MAX)
		return PDS_ETOOBIG;
	buf_init(&h, 64);
	if (events_frame_header(&h, row->type) != PDS_OK) {
		buf_clear(&h);
		return PDS_ENOMEM;
	}
	x = fnv1a(0xcbf29ce484222325ULL, h.p, h.len);
	e->hash[e->n] = fnv1a(x, row->body, row->len);
	e->seq[e->n++] = row->seq;
	buf_clear(&h);
	return 0;
}

/* Whether r got exactly e's rows from index from on, in order. */
static bool
reader_matches(const struct reader *r, const struct expect *e, size_t from)
{
	size_t	 i, n = atomic_load(&r->n);

	if (r->failed || n != e->n - from)
		return false;
	for (i = 0; i < n; i++)
		if (r->seq[i] != e->seq[from + i] ||
		    r->hash[i] != e->hash[from + i])
			return false;
	return true;
}

/*
 * Replays from cursor 0 over a log of some megabytes, by readers that
 * pause as they read, while a live subscriber gets events written
 * meanwhile: the live frames come without waiting for the replays, and
 * every replay still gets the whole log, byte for byte and in order,
 * then the live events.
 */
static void
test_priority(uint16_t port)
{
	static char	 big[16000];
	struct reader	*rp[PRIO_REPLAYERS], *live;
	pthread_t	 th[PRIO_REPLAYERS], lth;
	struct expect	*e;
	struct firehose_stats fs;
	int64_t		 head0, head, wrote_ms[PRIO_LIVE], seqs[PRIO_LIVE];
	int64_t		 worst = 0, after;
	uint64_t	 slow0;
	size_t		 i, j, k, from, busy;
	int		 rc;
	bool		 all;

	t_group("live ahead of replays");
	memset(big, 'y', sizeof(big) - 1);
	for (k = 0; k < PRIO_BIG; k++)
		if (append_identity("did:plc:prio", big) != PDS_OK)
			break;
	CHECK(k == PRIO_BIG, "%zu big events", k);
	CHECK(store_events_head(&head0) == PDS_OK, "head");
	firehose_stats(&fs);
	slow0 = fs.too_slow;

	live = calloc(1, sizeof(*live));
	CHECK(live != NULL && client_open(&live->c, port, "", 0) == 0,
	    "live handshake");
	CHECK(pthread_create(&lth, NULL, reader_main, live) == 0, "live");
	for (i = 0; i < PRIO_REPLAYERS; i++) {
		rp[i] = calloc(1, sizeof(*rp[i]));
		rp[i]->slow = true;
		rc = client_open(&rp[i]->c, port, "?cursor=0", 0);
		CHECK(rc == 0, "replay handshake %zu (%d)", i, rc);
		CHECK(pthread_create(&th[i], NULL, reader_main, rp[i]) == 0,
		    "replayer %zu", i);
	}
	/* the replays are under way */
	for (k = 0; k < 300; k++) {
		for (i = 0, all = true; i < PRIO_REPLAYERS; i++)
			all = all && atomic_load(&rp[i]->n) > 0;
		if (all)
			break;
		usleep(10 * 1000);
	}
	CHECK(all, "every replay started");

	for (k = 0; k < PRIO_LIVE; k++) {
		store_events_head(&head);
		if (k == PRIO_LIVE - 1)
			atomic_store(&prio_last, head + 1);
		wrote_ms[k] = clock_mono_ms();
		if (append_identity("did:plc:live", NULL) != PDS_OK)
			break;
		store_events_head(&seqs[k]);
		usleep(10 * 1000);
	}
	CHECK(k == PRIO_LIVE && seqs[PRIO_LIVE - 1] == atomic_load(&prio_last),
	    "%zu live events, the last %lld", k,
	    (long long)seqs[PRIO_LIVE - 1]);

	pthread_join(lth, NULL);
	for (i = 0; i < PRIO_REPLAYERS; i++)
		pthread_join(th[i], NULL);

	e = calloc(1, sizeof(*e));
	CHECK(e != NULL, "expect");
	after = 0;
	do {
		j = e->n;
		rc = store_events_scan(after, seqs[PRIO_LIVE - 1], 1000,
		    expect_row, e, NULL);
		if (e->n > j)
			after = e->seq[e->n - 1];
	} while (rc == PDS_OK && e->n > j);
	CHECK(rc == PDS_OK && e->n > PRIO_BIG + PRIO_LIVE, "the log: %zu rows",
	    e->n);
	for (from = 0; from < e->n && e->seq[from] <= head0; from++)
		;
	CHECK(e->n - from == PRIO_LIVE, "%zu rows after the replays began",
	    e->n - from);

	/* the live subscriber: every new event, none late */
	CHECK(reader_matches(live, e, from), "live: the %d new events, "
	    "byte for byte (got %zu)", PRIO_LIVE, atomic_load(&live->n));
	for (k = 0; k < PRIO_LIVE && k < atomic_load(&live->n); k++)
		if (live->at_ms[k] - wrote_ms[k] > worst)
			worst = live->at_ms[k] - wrote_ms[k];
	CHECK(worst < PRIO_LIVE_MS, "live frames waited %lld ms at most",
	    (long long)worst);
	/* ... while the replays were still on the old events */
	for (i = 0, busy = 0; i < PRIO_REPLAYERS; i++) {
		for (j = 0; j < atomic_load(&rp[i]->n) &&
		    rp[i]->at_ms[j] <= live->at_ms[0]; j++)
			;
		if (j < atomic_load(&rp[i]->n) && rp[i]->seq[j] <= head0)
			busy++;
	}
	CHECK(busy > 0, "the first live frame came during the replays "
	    "(%zu of %d busy)", busy, PRIO_REPLAYERS);

	/* and every replay: the whole log in order, then live */
	for (i = 0; i < PRIO_REPLAYERS; i++)
		CHECK(reader_matches(rp[i], e, 0), "replay %zu: %zu rows of "
		    "%zu, in order, byte for byte", i, atomic_load(&rp[i]->n),
		    e->n);
	firehose_stats(&fs);
	CHECK(fs.too_slow == slow0, "nobody dropped (%llu)",
	    (unsigned long long)(fs.too_slow - slow0));

	client_close(&live->c);
	for (i = 0; i < PRIO_REPLAYERS; i++) {
		client_close(&rp[i]->c);
		free(rp[i]);
	}
	free(live);
	free(e);
	atomic_store(&prio_last, LLONG_MAX);
	t_group_end();
}

static void
test_outdated_and_prune(uint16_t port)
{
	struct client	 c;
	char		 type[64];
	size_t		 len, n;
	int64_t		 seq, head, s1, s2, first;
	int		 op;
	struct buf	 b;
	char		 ts[STORE_TS_LEN];

	t_group("backfill window and pruning");
	/* two events sequenced long ago */
	buf_init(&b, 1024);
	store_begin();
	store_events_next_seq(&s1);
	events_body_identity(&b, s1, "did:plc:old", NULL,
	    "2000-01-01T00:00:00.000Z");
	store_events_insert(s1, "did:plc:old", "identity", b.p, b.len,
	    "2000-01-01T00:00:00.000Z");
	buf_reset(&b);
	s2 = s1 + 1;
	events_body_identity(&b, s2, "did:plc:old", NULL,
	    "2000-01-01T00:00:00.000Z");
	store_events_insert(s2, "did:plc:old", "identity", b.p, b.len,
	    "2000-01-01T00:00:00.000Z");
	CHECK(store_commit() == PDS_OK, "old events");
	buf_clear(&b);
	CHECK(append_identity("did:plc:new", NULL) == PDS_OK, "new event");
	store_events_head(&head);

	{
		char q[64];

		snprintf(q, sizeof(q), "?cursor=%lld", (long long)(s1 - 1));
		CHECK(client_open(&c, port, q, 0) == 0, "outdated handshake");
	}
	op = client_frame(&c, payload, sizeof(payload), &len, 3000);
	(void)frame_seq(payload, len, type, sizeof(type));
	CHECK(op == WS_OP_BINARY && strcmp(type, "#info") == 0,
	    "#info first (%s)", type);
	op = client_frame(&c, payload, sizeof(payload), &len, 3000);
	seq = frame_seq(payload, len, type, sizeof(type));
	CHECK(seq == head, "then the window's first event %lld (got %lld)",
	    (long long)head, (long long)seq);
	client_close(&c);

	CHECK(firehose_prune(&n) == PDS_OK, "prune");
	CHECK(n == 2, "pruned the two old ones (%zu)", n);
	CHECK(store_events_first_after(s1 - 1, &first, ts) == PDS_OK &&
	    first == head, "only those: next after them is %lld (%lld)",
	    (long long)head, (long long)first);
	CHECK(store_events_first_after(0, &first, ts) == PDS_OK && first == 1,
	    "the window's events stay (%lld)", (long long)first);

	/* deletion purges the DID's older rows */
	CHECK(append_identity("did:plc:gone", "g.test") == PDS_OK, "gone 1");
	CHECK(store_begin() == PDS_OK && events_account("did:plc:gone",
	    ACCT_DELETED) == PDS_OK && store_commit() == PDS_OK, "deleted");
	store_events_head(&head);
	CHECK(store_events_first_after(head - 2, &first, ts) == PDS_OK &&
	    first == head, "only the #account deleted is left (%lld, %lld)",
	    (long long)first, (long long)head);
	t_group_end();
}

int
main(void)
{
	char		 dir[] = "/tmp/test_firehose.XXXXXX";
	char		 db[128], data[160], err[256];
	struct config	*cfg = NULL;
	struct http_config hc;
	struct firehose_opts fo;
	char		*envp[16];
	char		 e_data[200];

	test_vectors();
	test_bodies();

	log_init("test_pdsd_firehose", 0, 0);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(db, sizeof(db), "%s/pds.sqlite", dir);
	snprintf(data, sizeof(data), "%s", dir);
	snprintf(e_data, sizeof(e_data), "PDS_DATA_DIRECTORY=%s", data);
	envp[0] = "PDS_HOSTNAME=localhost";
	envp[1] = e_data;
	envp[2] = "PDS_JWT_SECRET=0123456789abcdef0123456789abcdef";
	envp[3] = "PDS_ADMIN_PASSWORD=admin-password";
	envp[4] = "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="
	    "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c";
	envp[5] = "PDS_DEV_MODE=true";
	envp[6] = NULL;
	if (config_load(&cfg, NULL, envp, err, sizeof(err)) != PDS_OK) {
		fprintf(stderr, "config: %s\n", err);
		return 1;
	}
	if (store_open(db) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	xrpc_init(cfg);
	memset(&hc, 0, sizeof(hc));
	hc.bind_address = "127.0.0.1";
	hc.threads = 2;
	hc.max_connections = 64;
	hc.timeout_s = 30;
	memset(&fo, 0, sizeof(fo));
	fo.max_buffer = 20;
	fo.backfill_ms = 3600 * 1000;
	CHECK(firehose_start(&fo) == PDS_OK, "firehose_start");
	CHECK(http_start(&hc, dispatch) == PDS_OK, "http_start");

	test_live(http_port());
	test_priority(http_port());
	test_outdated_and_prune(http_port());

	http_stop(2000);	/* closes the firehose through its hook */
	firehose_stop();
	store_close();
	config_free(cfg);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)system(cmd);
	}
	return t_done("test_pdsd_firehose");
}
