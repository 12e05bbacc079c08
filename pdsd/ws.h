/*
 * ws: the server side of WebSocket (RFC 6455) as the firehose needs it.
 *
 * Handshake: ws_handshake_check() looks at the request's headers and
 * ws_accept_key() computes Sec-WebSocket-Accept = base64(SHA-1(key ||
 * the RFC's GUID)).
 *
 * Sending: a server frame is never masked, so its bytes are the same for
 * every client: ws_frame_header() writes the header and the caller puts
 * it in front of the payload in ONE buffer that all subscribers share
 * (the firehose writes it with writev, no copy per client).
 *
 * Receiving: libwslay's frame parser (wslay_frame_recv) reads the
 * client's frames from a non-blocking socket.  Clients of the firehose
 * send nothing but control frames; data messages are read and dropped
 * (never buffered), pings are answered by the caller with the payload
 * ws_in_pump() hands back, and a close frame or EOF ends the
 * connection.  Masking and the other protocol rules are libwslay's.
 */
#ifndef PDSD_WS_H
#define PDSD_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_ACCEPT_LEN		28	/* base64 of 20 bytes */
#define WS_FRAME_HEADER_MAX	10
#define WS_CONTROL_MAX		125	/* payload of a control frame */

enum ws_opcode {
	WS_OP_CONT = 0x0, WS_OP_TEXT = 0x1, WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8, WS_OP_PING = 0x9, WS_OP_PONG = 0xa,
};

/* Close codes used here. */
#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_GOING_AWAY	1001
#define WS_CLOSE_PROTOCOL	1002
#define WS_CLOSE_POLICY		1008	/* the firehose's error frames */

/*
 * Whether the request is a WebSocket opening handshake we accept:
 * Upgrade names "websocket", Connection has the "upgrade" token,
 * Sec-WebSocket-Version is 13 and Sec-WebSocket-Key is 16 bytes in
 * base64.  Arguments may be NULL (absent headers).  *why says what is
 * wrong.
 */
bool	ws_handshake_check(const char *upgrade, const char *connection,
	    const char *version, const char *key, const char **why);

/* Sec-WebSocket-Accept for key, into out[WS_ACCEPT_LEN + 1]. */
int	ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* A final, unmasked frame header for a payload of len; returns its size. */
size_t	ws_frame_header(uint8_t out[WS_FRAME_HEADER_MAX], enum ws_opcode,
	    uint64_t len);

/*
 * A whole close frame (header, code, reason cut to fit 125 bytes) into
 * out[2 + WS_CONTROL_MAX]; returns its size.
 */
size_t	ws_close_frame(uint8_t out[2 + WS_CONTROL_MAX], uint16_t code,
	    const char *reason);

/* ---- receiving ---- */

struct ws_in;

/*
 * A reader for socket fd; extra holds bytes already read from it (the
 * HTTP layer's leftovers), copied.  NULL when out of memory.
 */
struct ws_in	*ws_in_new(int fd, const uint8_t *extra, size_t extra_len);
void		 ws_in_free(struct ws_in *);

struct ws_in_result {
	bool		 closed;	/* EOF, a socket error, or a close frame */
	bool		 close_frame;	/* the peer sent a close frame */
	uint16_t	 close_code;	/* its code (1005 when none) */
	bool		 proto_error;	/* the peer broke the protocol */
	bool		 ping;		/* answer with a pong of this: */
	uint8_t		 ping_data[WS_CONTROL_MAX];
	size_t		 ping_len;
	uint64_t	 bytes;		/* read this call */
};

/*
 * Read and handle everything the socket has now (it never blocks).
 * Returns PDS_OK and fills *res; the caller ends the connection when
 * res->closed.
 */
int	ws_in_pump(struct ws_in *, struct ws_in_result *res);

#endif
