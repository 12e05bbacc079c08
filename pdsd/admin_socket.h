/*
 * admin_socket: pdsd's control socket for pdsctl and pdstui.
 *
 * A Unix stream socket at PDS_ADMIN_SOCKET (default <data>/pdsd.sock),
 * mode 0660, group PDS_ADMIN_SOCKET_GROUP (default: pdsd's group).
 * Start-up refuses to go on if another daemon answers on that path,
 * removes a stale socket, and refuses a path that is not a socket.
 *
 * Who may do what, decided per connection from the peer's credentials
 * (SO_PEERCRED and SO_PEERGROUPS, taken by the kernel at connect):
 *   - root, pdsd's own user, and members of PDS_ADMIN_GROUP: every
 *     command;
 *   - members of the socket's group: read-only commands;
 *   - anyone else (possible only if the file mode was loosened): the
 *     connection is refused with PermissionDenied and audited.
 * A refused mutating command is answered PermissionDenied and audited.
 *
 * The protocol is adminproto.h's.  One thread serves every connection
 * with poll(2): non-blocking sockets, a capped input buffer and an
 * output buffer per connection, at most ADMIN_CONN_MAX connections
 * (ADMIN_CONN_PER_UID per user).  Commands run on that thread, one at a
 * time; a stream (stats.watch, backup) is ticked by the loop between
 * requests.  firehose.tail reads the event log on that thread too (it
 * never waits on the firehose's), and a client that stops reading it is
 * dropped from the stream with ConsumerTooSlow.
 *
 * This header is also the interface between the loop and the command
 * table (admin_cmds.c).
 */
#ifndef PDSD_ADMIN_SOCKET_H
#define PDSD_ADMIN_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "admin_service.h"

#define ADMIN_CONN_MAX		32
#define ADMIN_CONN_PER_UID	8
#define ADMIN_SOCKET_MODE	0660
#define ADMIN_OUT_HIGH		(4 << 20)	/* stop reading above this */
#define ADMIN_OUT_MAX		(64 << 20)	/* drop the connection */
#define ADMIN_LINES_PER_WAKE	16	/* requests per connection per turn */

/* What a stream's tick returns. */
enum admin_stream_rc {
	ADMIN_STREAM_MORE,	/* call again after *next_ms */
	ADMIN_STREAM_END,	/* done: send {"end":true} (with result) */
	ADMIN_STREAM_ERROR,	/* failed: send call->err as an error reply */
};

struct admin_call;

struct admin_stream_ops {
	/*
	 * Emit events with admin_stream_event(); set *next_ms (delay to
	 * the next tick); on END it may set call->result.
	 */
	enum admin_stream_rc (*tick)(struct admin_call *, void *state,
			    int *next_ms);
	/* Free the state (also when the client goes away early). */
	void		(*free)(void *state);
};

/* One request, as the command handler sees it. */
struct admin_call {
	const struct admin_actor	*actor;
	uid_t				 peer_uid;
	bool				 can_mutate;
	const json_t			*args;		/* borrowed */
	json_t				*result;	/* handler sets (owned) */
	struct admin_err		 err;
	/* a streaming handler sets these two to start the stream */
	const struct admin_stream_ops	*stream;
	void				*stream_state;
	int				 first_ms;	/* first tick after */
	void				*conn;		/* the loop's */
	int64_t				 id;
	/* stream.cancel: the id of the stream to stop */
	int64_t				 cancel_id;
	/* the command has ACMD_UNDO: one handler serves both halves */
	bool				 undo;
};

/*
 * Refuse the call: the reply's error name (AP_E_*, static) and message;
 * returns rc, for `return admin_refuse(...)'.
 */
int	admin_refuse(struct admin_call *, int rc, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Send one event of the call's stream (borrowed). */
int	admin_stream_event(struct admin_call *, const json_t *event);
/*
 * Bytes queued for the call's connection and not yet taken by the peer:
 * a stream that must not fall behind (firehose.tail) drops a client
 * that lets this grow.
 */
size_t	admin_stream_pending(const struct admin_call *);

/* Command flags. */
#define ACMD_MUTATE	0x01	/* needs the admin group */
#define ACMD_STREAM	0x02	/* answers with a stream */
#define ACMD_UNDO	0x04	/* the undoing half of a pair (call->undo) */

struct admin_cmd {
	const char	*name;
	unsigned	 flags;
	int		(*fn)(struct admin_call *);
	const char	*summary;
};

/* The command table (admin_cmds.c). */
const struct admin_cmd	*admin_cmd_find(const char *name);
const struct admin_cmd	*admin_cmd_table(size_t *n);

/*
 * backup (backup.c): start copying the database to args.dest; streams
 * progress events and ends with {dest, bytes, pages, seconds}.
 */
int	admin_backup_start(struct admin_call *);

/* The socket's path (for logs and tests); NULL before start. */
const char	*admin_socket_path(void);

#endif
