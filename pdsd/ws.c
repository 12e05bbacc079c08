/*
 * ws: WebSocket handshake, frame headers, and reading client frames
 * with libwslay.  See ws.h.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#include "err.h"
#include "ws.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Whether the comma-separated list s holds token (case-insensitive). */
static bool
has_token(const char *s, const char *token)
{
	size_t	 n = strlen(token), len;
	const char *end;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		end = s;
		while (*end != '\0' && *end != ',')
			end++;
		len = (size_t)(end - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(s, token, n) == 0)
			return true;
		s = end;
	}
	return false;
}

static bool
is_b64_16(const char *k)
{
	size_t	 i;

	/* 16 bytes: 22 characters and "==". */
	if (strlen(k) != 24 || k[22] != '=' || k[23] != '=')
		return false;
	for (i = 0; i < 22; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '+' &&
		    k[i] != '/')
			return false;
	return true;
}

bool
ws_handshake_check(const char *upgrade, const char *connection,
    const char *version, const char *key, const char **why)
{
	if (upgrade == NULL || !has_token(upgrade, "websocket"))
		return pds_fail(why, 0, "not a WebSocket upgrade"), false;
	if (connection == NULL || !has_token(connection, "upgrade"))
		return pds_fail(why, 0, "Connection lacks \"upgrade\""), false;
	if (version == NULL || strcmp(version, "13") != 0)
		return pds_fail(why, 0, "Sec-WebSocket-Version must be 13"),
		    false;
	if (key == NULL || !is_b64_16(key))
		return pds_fail(why, 0, "bad Sec-WebSocket-Key"), false;
	return true;
}

int
ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	unsigned char	 md[SHA_DIGEST_LENGTH];
	char		 in[64 + sizeof(ws_guid)];
	size_t		 kl = strlen(key);

	if (kl > 64)
		return PDS_EINVAL;
	memcpy(in, key, kl);
	memcpy(in + kl, ws_guid, sizeof(ws_guid) - 1);
	SHA1((const unsigned char *)in, kl + sizeof(ws_guid) - 1, md);
	if (EVP_EncodeBlock((unsigned char *)out, md, sizeof(md)) !=
	    WS_ACCEPT_LEN)
		return PDS_EINTERNAL;
	out[WS_ACCEPT_LEN] = '\0';
	return PDS_OK;
}

size_t
ws_frame_header(uint8_t out[WS_FRAME_HEADER_MAX], enum ws_opcode op,
    uint64_t len)
{
	int	 i;

	out[0] = 0x80 | (uint8_t)op;		/* FIN, no RSV */
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

size_t
ws_close_frame(uint8_t out[2 + WS_CONTROL_MAX], uint16_t code,
    const char *reason)
{
	size_t	 rl = reason != NULL ? strlen(reason) : 0;

	if (rl > WS_CONTROL_MAX - 2)
		rl = WS_CONTROL_MAX - 2;
	out[0] = 0x80 | WS_OP_CLOSE;
	out[1] = (uint8_t)(2 + rl);
	out[2] = (uint8_t)(code >> 8);
	out[3] = (uint8_t)code;
	if (rl > 0)
		memcpy(out + 4, reason, rl);
	return 4 + rl;
}

/* ---- receiving ---- */

struct ws_in {
	int			 fd;
	wslay_frame_context_ptr	 ctx;
	uint8_t			*pre;		/* leftovers from HTTP */
	size_t			 pre_len, pre_off;
	bool			 eof, err;
	uint64_t		 bytes;
	/* the frame being read */
	uint64_t		 off;
	uint8_t			 ctl[WS_CONTROL_MAX];
	size_t			 ctl_len;
};

static ssize_t
in_recv(uint8_t *buf, size_t len, int flags, void *arg)
{
	struct ws_in	*in = arg;
	ssize_t		 n;

	if (in->pre_off < in->pre_len) {
		n = (ssize_t)(in->pre_len - in->pre_off);
		if ((size_t)n > len)
			n = (ssize_t)len;
		memcpy(buf, in->pre + in->pre_off, (size_t)n);
		in->pre_off += (size_t)n;
		in->bytes += (uint64_t)n;
		return n;
	}
	n = recv(in->fd, buf, len, 0);
	if (n > 0) {
		in->bytes += (uint64_t)n;
		return n;
	}
	if (n == 0)
		in->eof = true;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		in->err = true;
	return -1;	/* wslay: WSLAY_ERR_WANT_READ */
}

static ssize_t
in_send_unused(const uint8_t *data, size_t len, int flags, void *arg)
{
	return -1;
}

static int
in_genmask_unused(uint8_t *buf, size_t len, void *arg)
{
	return -1;
}

static const struct wslay_frame_callbacks in_callbacks = {
	in_send_unused, in_recv, in_genmask_unused,
};

struct ws_in *
ws_in_new(int fd, const uint8_t *extra, size_t extra_len)
{
	struct ws_in	*in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->fd = fd;
	if (extra_len > 0) {
		if ((in->pre = malloc(extra_len)) == NULL) {
			free(in);
			return NULL;
		}
		memcpy(in->pre, extra, extra_len);
		in->pre_len = extra_len;
	}
	if (wslay_frame_context_init(&in->ctx, &in_callbacks, in) != 0) {
		free(in->pre);
		free(in);
		return NULL;
	}
	return in;
}

void
ws_in_free(struct ws_in *in)
{
	if (in == NULL)
		return;
	wslay_frame_context_free(in->ctx);
	free(in->pre);
	free(in);
}

int
ws_in_pump(struct ws_in *in, struct ws_in_result *res)
{
	struct wslay_frame_iocb	 io;
	ssize_t			 r;
	bool			 ctl;
	int			 rounds;

	memset(res, 0, sizeof(*res));
	in->bytes = 0;
	/* Bounded so that one chatty client cannot hold the loop. */
	for (rounds = 0; rounds < 1024; rounds++) {
		memset(&io, 0, sizeof(io));
		r = wslay_frame_recv(in->ctx, &io);
		if (r < 0) {
			if (r == WSLAY_ERR_PROTO)
				res->proto_error = res->closed = true;
			else if (in->eof || in->err)
				res->closed = true;
			break;
		}
		/* Clients must mask; nothing here negotiates RSV bits. */
		if (!io.mask || io.rsv != 0) {
			res->proto_error = res->closed = true;
			break;
		}
		ctl = (io.opcode & 0x8) != 0;
		if (ctl && (size_t)io.data_length + in->ctl_len <=
		    sizeof(in->ctl)) {
			memcpy(in->ctl + in->ctl_len, io.data,
			    io.data_length);
			in->ctl_len += io.data_length;
		}
		in->off += (uint64_t)r;
		if (in->off < io.payload_length)
			continue;
		/* a whole frame */
		in->off = 0;
		if (io.opcode == WS_OP_CLOSE) {
			res->close_frame = res->closed = true;
			res->close_code = in->ctl_len >= 2 ?
			    (uint16_t)(in->ctl[0] << 8 | in->ctl[1]) : 1005;
		} else if (io.opcode == WS_OP_PING) {
			res->ping = true;
			memcpy(res->ping_data, in->ctl, in->ctl_len);
			res->ping_len = in->ctl_len;
		} else if (ctl && io.opcode != WS_OP_PONG) {
			res->proto_error = res->closed = true;
		}
		in->ctl_len = 0;
		if (res->closed)
			break;
	}
	res->bytes = in->bytes;
	return PDS_OK;
}
