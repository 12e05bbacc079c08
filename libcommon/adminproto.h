/*
 * adminproto: the admin socket's wire protocol, shared by pdsd (server
 * side), pdsctl and pdstui (client side) and the fuzzer.
 *
 * Framing: one compact JSON object per line ("\n"; a "\r" before it is
 * tolerated).  A client sends requests
 *
 *	{"v":1,"id":7,"cmd":"account.list","args":{"limit":50}}
 *
 * and the daemon answers each with exactly one of
 *
 *	{"id":7,"ok":true,"result":<any JSON>}
 *	{"id":7,"ok":false,"error":"NoSuchAccount","message":"..."}
 *
 * or, for a streaming command, any number of
 *
 *	{"id":7,"event":<any JSON>}
 *
 * followed by {"id":7,"end":true} (optionally with "result") or by an
 * error reply, which also ends the stream.  A request line that cannot
 * be parsed far enough to find its id is answered with "id":null.
 *
 * Requests are distrusted: at most ADMINPROTO_REQ_MAX bytes per line,
 * exactly the keys v, id, cmd and (optional) args, v must be
 * ADMINPROTO_VERSION, id an integer in [0, 2^53), cmd a short lower-case
 * name, args an object nested at most ADMINPROTO_DEPTH_MAX deep.
 *
 * Error names are codes (the constants below); only the programs that
 * face a person turn them into words or exit statuses
 * (adminproto_error_class()).
 */
#ifndef PDS_ADMINPROTO_H
#define PDS_ADMINPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

#define ADMINPROTO_VERSION	1
#define ADMINPROTO_REQ_MAX	(64 * 1024)	/* request line, no "\n" */
#define ADMINPROTO_REPLY_MAX	(32 << 20)	/* reply line, no "\n" */
#define ADMINPROTO_CMD_MAX	48
#define ADMINPROTO_DEPTH_MAX	8
#define ADMINPROTO_ID_MAX	((int64_t)1 << 53)	/* ids are below */
#define ADMINPROTO_ERRNAME_MAX	64
#define ADMINPROTO_MSG_MAX	512

/* Error names. */
#define AP_E_INVALID_REQUEST	"InvalidRequest"	/* not a request */
#define AP_E_UNSUPPORTED_VERSION "UnsupportedVersion"
#define AP_E_LINE_TOO_LONG	"LineTooLong"
#define AP_E_UNKNOWN_COMMAND	"UnknownCommand"
#define AP_E_INVALID_ARGUMENT	"InvalidArgument"	/* bad args */
#define AP_E_PERMISSION_DENIED	"PermissionDenied"
#define AP_E_TOO_MANY_CONNECTIONS "TooManyConnections"
#define AP_E_NO_SUCH_ACCOUNT	"NoSuchAccount"
#define AP_E_NO_SUCH_RECORD	"NoSuchRecord"
#define AP_E_NO_SUCH_BLOB	"NoSuchBlob"
#define AP_E_NO_SUCH_INVITE	"NoSuchInvite"
#define AP_E_NO_SUCH_TOKEN	"NoSuchToken"	/* none live of that purpose */
#define AP_E_ALREADY_EXISTS	"AlreadyExists"	/* handle/email taken */
#define AP_E_ACCOUNT_TAKENDOWN	"AccountTakendown"	/* can't activate */
#define AP_E_NOT_AVAILABLE	"NotAvailable"	/* feature not built in */
#define AP_E_UPSTREAM_FAILURE	"UpstreamFailure"	/* PLC, relay */
#define AP_E_IO_ERROR		"IOError"	/* backup destination, ... */
#define AP_E_TOO_SLOW		"ConsumerTooSlow"
#define AP_E_INTERNAL		"InternalError"

/* What kind of failure an error name is (for exit statuses). */
enum adminproto_errclass {
	AP_CLASS_OTHER,		/* internal, upstream, I/O */
	AP_CLASS_USAGE,		/* the request was wrong */
	AP_CLASS_DATA,		/* a value was refused */
	AP_CLASS_NOPERM,
	AP_CLASS_NOTFOUND,
	AP_CLASS_CONFLICT,
	AP_CLASS_UNAVAILABLE,	/* too many connections, not available */
};

enum adminproto_errclass adminproto_error_class(const char *name);

/* ---- finding the socket (the clients' side) ---- */

#define ADMINPROTO_DEFAULT_SOCKET	"/pds/pdsd.sock"

/*
 * The admin socket pdsctl and pdstui use, in this order: opt (a
 * --socket flag; may be NULL), $PDSCTL_SOCKET, the env file's
 * PDS_ADMIN_SOCKET or PDS_DATA_DIRECTORY/pdsd.sock (envfile may be
 * NULL), the same two from the environment, ADMINPROTO_DEFAULT_SOCKET.
 * The result is opt, a getenv() string, a constant or buf[cap].
 */
const char *adminproto_socket_path(const char *opt, const char *envfile,
	    char *buf, size_t cap);
/*
 * The last non-empty KEY=VALUE of key in an env file (leading blanks,
 * "export " and matching quotes allowed) into out[cap]; false when
 * there is none (or it does not fit, or the file cannot be read).
 */
bool	adminproto_envfile_get(const char *path, const char *key, char *out,
	    size_t cap);

/* ---- requests (the daemon's side) ---- */

struct adminproto_req {
	int64_t	 id;		/* -1 when the line had no usable id */
	char	 cmd[ADMINPROTO_CMD_MAX + 1];
	json_t	*args;		/* owned; an empty object when absent */
};

/*
 * Parse and validate one request line (without its "\n").  On failure
 * returns PDS_EINVAL (PDS_EUNSUPP for a wrong version, PDS_ETOOBIG for
 * an over-long line), sets *errname to the AP_E_* name to answer with
 * and *why to a static reason, and leaves req->id set when the id could
 * be read.  req must be cleared with adminproto_req_clear() in any case.
 */
int	adminproto_req_parse(const char *line, size_t len,
	    struct adminproto_req *req, const char **errname,
	    const char **why);
void	adminproto_req_clear(struct adminproto_req *);

/* ---- replies (the clients' side) ---- */

enum adminproto_kind {
	AP_MSG_OK,		/* result */
	AP_MSG_ERROR,		/* error, message */
	AP_MSG_EVENT,		/* result holds the event */
	AP_MSG_END,		/* result may hold a final result or NULL */
};

struct adminproto_msg {
	enum adminproto_kind	 kind;
	int64_t			 id;	/* -1 for "id":null */
	json_t			*result;	/* owned, or NULL */
	char			 error[ADMINPROTO_ERRNAME_MAX];
	char			 message[ADMINPROTO_MSG_MAX];
};

/* Parse one reply line; PDS_EINVAL with *why when it is not one. */
int	adminproto_msg_parse(const char *line, size_t len,
	    struct adminproto_msg *msg, const char **why);
void	adminproto_msg_clear(struct adminproto_msg *);

/* ---- encoders: append one line, "\n" included, to b ---- */

/* id -1 writes "id":null.  json_t arguments are borrowed. */
int	adminproto_put_request(struct buf *b, int64_t id, const char *cmd,
	    const json_t *args);
int	adminproto_put_ok(struct buf *b, int64_t id, const json_t *result);
int	adminproto_put_error(struct buf *b, int64_t id, const char *error,
	    const char *message);
int	adminproto_put_event(struct buf *b, int64_t id, const json_t *event);
int	adminproto_put_end(struct buf *b, int64_t id, const json_t *result);

/* ---- line reader with a fixed cap ---- */

/*
 * Bytes go in through adminproto_reader_space()/_commit() (read(2)
 * straight into the buffer), lines come out of adminproto_reader_next().
 * Memory never exceeds max_line + 1 bytes: a line longer than max_line
 * is reported once as AP_READ_TOOLONG and its bytes are dropped up to
 * and including its "\n".
 */
struct adminproto_reader {
	char	*p;
	size_t	 cap;		/* max_line + 1 */
	size_t	 len;		/* bytes held */
	size_t	 consumed;	/* bytes of the line returned last */
	bool	 discarding;	/* inside an over-long line */
};

enum adminproto_read {
	AP_READ_MORE,		/* no complete line yet */
	AP_READ_LINE,		/* *line, *len: valid until the next call */
	AP_READ_TOOLONG,	/* a line passed the cap (reported once) */
};

int	adminproto_reader_init(struct adminproto_reader *, size_t max_line);
void	adminproto_reader_clear(struct adminproto_reader *);
/* Where up to *avail bytes may be written; *avail 0: call next() first. */
char	*adminproto_reader_space(struct adminproto_reader *, size_t *avail);
void	adminproto_reader_commit(struct adminproto_reader *, size_t n);
enum adminproto_read adminproto_reader_next(struct adminproto_reader *,
	    const char **line, size_t *len);
/* Bytes held that are not yet a complete line (at EOF: a truncation). */
size_t	adminproto_reader_pending(const struct adminproto_reader *);

#endif
