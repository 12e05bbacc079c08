/*
 * admin_socket: the control socket's listener and its poll loop.  See
 * admin_socket.h for who may do what.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin_service.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "module.h"
#include "stats.h"
#include "store.h"

#define PEER_GROUPS_MAX	256
#define USER_MAX	64

struct conn {
	int				 fd;
	uid_t				 uid;
	struct admin_actor		 actor;
	bool				 can_mutate;
	struct adminproto_reader	 in;
	struct buf			 out;
	size_t				 out_off;	/* bytes written */
	bool				 eof;		/* peer sent EOF */
	bool				 closing;	/* close once flushed */
	/* the one stream this connection may have running */
	bool				 streaming;
	int64_t				 stream_id;
	const struct admin_stream_ops	*sops;
	void				*sstate;
	int64_t				 due_ms;
};

static const struct config	*acfg;
static char			*sock_path;
static ino_t			 sock_ino;
static int			 listen_fd = -1;
static int			 wake_pipe[2] = { -1, -1 };
static pthread_t		 loop_thread;
static bool			 loop_running;
static gid_t			 sock_gid;
static bool			 have_admin_gid;
static gid_t			 admin_gid;
static struct conn		*conns[ADMIN_CONN_MAX];
static struct stats_counter	*c_requests, *c_refused;

const char *
admin_socket_path(void)
{
	return sock_path;
}

/* ---- peers ---- */

static bool
gid_in(gid_t want, gid_t primary, const gid_t *groups, int n)
{
	int	 i;

	if (primary == want)
		return true;
	for (i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

/*
 * The peer's supplementary groups as the kernel recorded them at
 * connect (SO_PEERGROUPS), else from the group database.
 */
static int
peer_groups(int fd, uid_t uid, gid_t gid, gid_t *groups, int max)
{
	struct passwd	 pw, *pwp = NULL;
	socklen_t	 len = (socklen_t)(sizeof(gid_t) * (size_t)max);
	char		 pwbuf[4096];
	int		 n = max;

#ifdef SO_PEERGROUPS
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		return (int)(len / sizeof(gid_t));
#endif
	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 ||
	    pwp == NULL)
		return 0;
	if (getgrouplist(pw.pw_name, gid, groups, &n) == -1)
		return max;	/* truncated: what fit */
	return n;
}

static void
peer_user(uid_t uid, char *out, size_t cap)
{
	struct passwd	 pw, *pwp = NULL;
	char		 pwbuf[4096];

	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 &&
	    pwp != NULL)
		snprintf(out, cap, "%s", pw.pw_name);
	else
		snprintf(out, cap, "uid%lu", (unsigned long)uid);
}

/* ---- output ---- */

static void
conn_compact(struct conn *c)
{
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	} else if (c->out_off > c->out.len / 2) {
		memmove(c->out.p, c->out.p + c->out_off,
		    c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out.p[c->out.len] = '\0';
		c->out_off = 0;
	}
}

static size_t
conn_pending(const struct conn *c)
{
	return c->out.len - c->out_off;
}

/* Write what the socket takes now; false on a fatal error. */
static bool
conn_flush(struct conn *c)
{
	ssize_t	 n;

	while (conn_pending(c) > 0) {
		n = send(c->fd, c->out.p + c->out_off, conn_pending(c),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1 && errno == EINTR)
			continue;
		return false;
	}
	conn_compact(c);
	return true;
}

/* An encoder's result: a full output buffer ends the connection. */
static void
conn_put_rc(struct conn *c, int rc)
{
	if (rc == PDS_OK)
		return;
	log_warnx("admin socket: %s: reply dropped (%s); closing",
	    c->actor.name, pds_strerror(rc));
	c->closing = true;
}

static void
reply_error(struct conn *c, int64_t id, const char *name, const char *msg)
{
	conn_put_rc(c, adminproto_put_error(&c->out, id, name, msg));
}

/* The error reply for a call refused with rc: err's name and message. */
static void
reply_refusal(struct conn *c, int64_t id, int rc, const struct admin_err *err)
{
	reply_error(c, id, err->name != NULL ? err->name : AP_E_INTERNAL,
	    err->e.msg[0] != '\0' ? err->e.msg : pds_strerror(rc));
}

int
admin_refuse(struct admin_call *call, int rc, const char *name,
    const char *fmt, ...)
{
	va_list	 ap;

	call->err.name = name;
	va_start(ap, fmt);
	vsnprintf(call->err.e.msg, sizeof(call->err.e.msg), fmt, ap);
	va_end(ap);
	return rc;
}

int
admin_stream_event(struct admin_call *call, const json_t *ev)
{
	struct conn	*c = call->conn;
	int		 rc;

	rc = adminproto_put_event(&c->out, call->id, ev);
	conn_put_rc(c, rc);
	return rc;
}

size_t
admin_stream_pending(const struct admin_call *call)
{
	const struct conn	*c = call->conn;

	return c != NULL ? conn_pending(c) : 0;
}

/* ---- connections ---- */

static void
stream_stop(struct conn *c)
{
	if (!c->streaming)
		return;
	if (c->sops->free != NULL)
		c->sops->free(c->sstate);
	c->streaming = false;
	c->sops = NULL;
	c->sstate = NULL;
}

static void
conn_free(struct conn *c)
{
	stream_stop(c);
	close(c->fd);
	adminproto_reader_clear(&c->in);
	buf_clear(&c->out);
	free(c);
}

static size_t
conns_of(uid_t uid, size_t *total)
{
	size_t	 i, n = 0;

	*total = 0;
	for (i = 0; i < ADMIN_CONN_MAX; i++)
		if (conns[i] != NULL) {
			(*total)++;
			if (conns[i]->uid == uid)
				n++;
		}
	return n;
}

/* Best effort: a one-line refusal on a socket we then close. */
static void
refuse_now(int fd, const char *name, const char *msg)
{
	struct buf	 b;

	buf_init(&b, 4096);
	if (adminproto_put_error(&b, -1, name, msg) == PDS_OK)
		(void)send(fd, b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_clear(&b);
}

static void
conn_accept(void)
{
	struct ucred		 cr;
	struct conn		*c;
	struct admin_actor	 actor;
	socklen_t		 len;
	gid_t			 groups[PEER_GROUPS_MAX];
	char			 user[USER_MAX];
	size_t			 i, total, mine;
	int			 fd, ng;
	bool			 can_read, can_mutate;

	for (;;) {
		fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("admin socket: accept");
			return;
		}
		len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1 ||
		    len != sizeof(cr)) {
			log_warn("admin socket: SO_PEERCRED");
			close(fd);
			continue;
		}
		peer_user(cr.uid, user, sizeof(user));
		admin_actor_unix(&actor, cr.uid, user);
		ng = peer_groups(fd, cr.uid, cr.gid, groups, PEER_GROUPS_MAX);
		can_mutate = cr.uid == 0 || cr.uid == geteuid() ||
		    (have_admin_gid && gid_in(admin_gid, cr.gid, groups, ng));
		can_read = can_mutate || gid_in(sock_gid, cr.gid, groups, ng);
		if (!can_read) {
			stats_add(c_refused, 1);
			admin_audit(&actor, "connect", sock_path, NULL,
			    "refused", AP_E_PERMISSION_DENIED, NULL);
			refuse_now(fd, AP_E_PERMISSION_DENIED,
			    "not a member of the admin socket's group");
			close(fd);
			continue;
		}
		mine = conns_of(cr.uid, &total);
		if (total >= ADMIN_CONN_MAX || mine >= ADMIN_CONN_PER_UID) {
			stats_add(c_refused, 1);
			refuse_now(fd, AP_E_TOO_MANY_CONNECTIONS,
			    total >= ADMIN_CONN_MAX ?
			    "too many admin connections" :
			    "too many admin connections for this user");
			log_warnx("admin socket: %s: too many connections",
			    actor.name);
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    adminproto_reader_init(&c->in, ADMINPROTO_REQ_MAX) !=
		    PDS_OK) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cr.uid;
		c->actor = actor;
		c->can_mutate = can_mutate;
		buf_init(&c->out, ADMIN_OUT_MAX);
		for (i = 0; i < ADMIN_CONN_MAX; i++)
			if (conns[i] == NULL) {
				conns[i] = c;
				break;
			}
		log_debug("admin socket: %s connected (pid %ld, %s)",
		    actor.name, (long)cr.pid, can_mutate ? "admin" :
		    "read-only");
	}
}

/* The subject a refused command was about, for the audit log. */
static const char *
args_subject(const json_t *args)
{
	static const char *const keys[] = { "account", "did", "uri", "for",
	    "dest", NULL };
	const json_t	*v;
	size_t		 i;

	for (i = 0; keys[i] != NULL; i++)
		if (json_is_string(v = json_object_get(args, keys[i])))
			return json_string_value(v);
	return NULL;
}

static void
handle_request(struct conn *c, const char *line, size_t len)
{
	struct adminproto_req	 req;
	struct admin_call	 call;
	const struct admin_cmd	*cmd;
	const char		*name = NULL, *why = NULL, *reason;
	char			 msg[160];
	int			 rc;

	stats_add(c_requests, 1);
	if (adminproto_req_parse(line, len, &req, &name, &why) != PDS_OK) {
		reply_error(c, req.id, name, why);
		adminproto_req_clear(&req);
		return;
	}
	if ((cmd = admin_cmd_find(req.cmd)) == NULL) {
		snprintf(msg, sizeof(msg), "unknown command: %s", req.cmd);
		reply_error(c, req.id, AP_E_UNKNOWN_COMMAND, msg);
		adminproto_req_clear(&req);
		return;
	}
	if ((cmd->flags & ACMD_MUTATE) && !c->can_mutate) {
		stats_add(c_refused, 1);
		reason = json_string_value(json_object_get(req.args,
		    "reason"));
		admin_audit(&c->actor, cmd->name, args_subject(req.args),
		    reason, "refused", AP_E_PERMISSION_DENIED, NULL);
		snprintf(msg, sizeof(msg), "%s changes things: it needs "
		    "root or the admin group", cmd->name);
		reply_error(c, req.id, AP_E_PERMISSION_DENIED, msg);
		adminproto_req_clear(&req);
		return;
	}
	if ((cmd->flags & ACMD_STREAM) && c->streaming) {
		reply_error(c, req.id, AP_E_NOT_AVAILABLE,
		    "a stream is already running on this connection");
		adminproto_req_clear(&req);
		return;
	}
	memset(&call, 0, sizeof(call));
	call.actor = &c->actor;
	call.peer_uid = c->uid;
	call.can_mutate = c->can_mutate;
	call.args = req.args;
	call.conn = c;
	call.id = req.id;
	call.cancel_id = -1;
	call.undo = (cmd->flags & ACMD_UNDO) != 0;
	rc = cmd->fn(&call);
	if (rc != PDS_OK) {
		reply_refusal(c, req.id, rc, &call.err);
	} else if (call.stream != NULL) {
		c->streaming = true;
		c->stream_id = req.id;
		c->sops = call.stream;
		c->sstate = call.stream_state;
		c->due_ms = clock_mono_ms() + call.first_ms;
	} else {
		if (call.cancel_id >= 0 && c->streaming &&
		    c->stream_id == call.cancel_id) {
			conn_put_rc(c, adminproto_put_end(&c->out,
			    c->stream_id, NULL));
			stream_stop(c);
			json_object_set_new(call.result, "cancelled",
			    json_true());
		}
		conn_put_rc(c, adminproto_put_ok(&c->out, req.id,
		    call.result));
	}
	json_decref(call.result);
	adminproto_req_clear(&req);
}

static void
stream_tick(struct conn *c)
{
	struct admin_call	 call;
	enum admin_stream_rc	 src;
	int			 next = 1000;

	memset(&call, 0, sizeof(call));
	call.actor = &c->actor;
	call.peer_uid = c->uid;
	call.can_mutate = c->can_mutate;
	call.conn = c;
	call.id = c->stream_id;
	call.cancel_id = -1;
	src = c->sops->tick(&call, c->sstate, &next);
	switch (src) {
	case ADMIN_STREAM_MORE:
		c->due_ms = clock_mono_ms() + (next < 0 ? 0 : next);
		break;
	case ADMIN_STREAM_END:
		conn_put_rc(c, adminproto_put_end(&c->out, c->stream_id,
		    call.result));
		stream_stop(c);
		break;
	case ADMIN_STREAM_ERROR:
		reply_refusal(c, c->stream_id, PDS_EINTERNAL, &call.err);
		stream_stop(c);
		break;
	}
	json_decref(call.result);
}

/* Read what is there; false when the connection is finished. */
static bool
conn_read(struct conn *c)
{
	size_t	 avail;
	ssize_t	 n;
	char	*p;

	for (;;) {
		p = adminproto_reader_space(&c->in, &avail);
		if (avail == 0)
			return true;	/* lines first */
		n = recv(c->fd, p, avail, MSG_DONTWAIT);
		if (n > 0) {
			adminproto_reader_commit(&c->in, (size_t)n);
			if ((size_t)n < avail)
				return true;
			continue;
		}
		if (n == 0) {
			c->eof = true;
			return true;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		if (errno == EINTR)
			continue;
		return false;
	}
}

/*
 * Handle up to ADMIN_LINES_PER_WAKE complete lines; true if more are
 * (or may be) waiting.
 */
static bool
conn_lines(struct conn *c)
{
	enum adminproto_read	 r;
	const char		*line;
	size_t			 len;
	int			 i;
	char			 msg[96];

	for (i = 0; i < ADMIN_LINES_PER_WAKE; i++) {
		if (c->closing || conn_pending(c) > ADMIN_OUT_HIGH)
			return false;
		r = adminproto_reader_next(&c->in, &line, &len);
		if (r == AP_READ_MORE)
			return false;
		if (r == AP_READ_TOOLONG) {
			snprintf(msg, sizeof(msg), "request line longer than "
			    "%d bytes", ADMINPROTO_REQ_MAX);
			reply_error(c, -1, AP_E_LINE_TOO_LONG, msg);
			continue;
		}
		handle_request(c, line, len);
	}
	return true;
}

/* ---- the loop ---- */

static void *
loop_main(void *arg)
{
	struct pollfd	 pfd[ADMIN_CONN_MAX + 2];
	struct conn	*map[ADMIN_CONN_MAX + 2];
	struct conn	*c;
	size_t		 i, n, total;
	int64_t		 t, due;
	int		 timeout, rc;
	bool		 more = false, stop = false;
	char		 drain[64];

	(void)arg;
	while (!stop) {
		n = 0;
		pfd[n].fd = wake_pipe[0];
		pfd[n].events = POLLIN;
		map[n++] = NULL;
		(void)conns_of(0, &total);
		pfd[n].fd = listen_fd;
		pfd[n].events = total < ADMIN_CONN_MAX ? POLLIN : 0;
		map[n++] = NULL;
		timeout = 1000;
		t = clock_mono_ms();
		for (i = 0; i < ADMIN_CONN_MAX; i++) {
			if ((c = conns[i]) == NULL)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = 0;
			if (!c->closing && !c->eof &&
			    conn_pending(c) <= ADMIN_OUT_HIGH)
				pfd[n].events |= POLLIN;
			if (conn_pending(c) > 0)
				pfd[n].events |= POLLOUT;
			map[n++] = c;
			if (c->streaming && conn_pending(c) <= ADMIN_OUT_HIGH) {
				due = c->due_ms - t;
				if (due < timeout)
					timeout = due < 0 ? 0 : (int)due;
			}
		}
		if (more)
			timeout = 0;
		rc = poll(pfd, (nfds_t)n, timeout);
		if (rc == -1 && errno != EINTR) {
			log_warn("admin socket: poll");
			sleep(1);
			continue;
		}
		if (rc > 0 && (pfd[0].revents & POLLIN)) {
			while (read(wake_pipe[0], drain, sizeof(drain)) > 0)
				;
			stop = true;
			break;
		}
		if (rc > 0 && (pfd[1].revents & POLLIN))
			conn_accept();
		more = false;
		for (i = 2; i < n; i++) {
			c = map[i];
			if (rc > 0 && (pfd[i].revents & (POLLERR | POLLNVAL))) {
				c->closing = true;
				c->out_off = c->out.len;	/* drop it */
				continue;
			}
			if (rc > 0 && (pfd[i].revents & (POLLIN | POLLHUP)) &&
			    !conn_read(c)) {
				c->closing = true;
				c->out_off = c->out.len;
				continue;
			}
			if (conn_lines(c))
				more = true;
		}
		t = clock_mono_ms();
		for (i = 0; i < ADMIN_CONN_MAX; i++) {
			if ((c = conns[i]) == NULL)
				continue;
			if (c->streaming && !c->closing && t >= c->due_ms &&
			    conn_pending(c) <= ADMIN_OUT_HIGH)
				stream_tick(c);
			if (conn_pending(c) > 0 && !conn_flush(c)) {
				c->closing = true;
				c->out_off = c->out.len;
			}
			/* EOF: answer what came in, then go */
			if (c->eof && !c->closing &&
			    adminproto_reader_pending(&c->in) == 0 &&
			    !c->streaming)
				c->closing = true;
			if (c->closing && conn_pending(c) == 0) {
				conns[i] = NULL;
				conn_free(c);
			}
		}
	}
	for (i = 0; i < ADMIN_CONN_MAX; i++)
		if (conns[i] != NULL) {
			conn_free(conns[i]);
			conns[i] = NULL;
		}
	store_thread_close();
	return NULL;
}

/* ---- start and stop ---- */

static int
group_lookup(const char *var, const char *name, gid_t *out)
{
	struct group	 gr, *grp = NULL;
	char		 buf[8192], *end;
	unsigned long	 n;

	n = strtoul(name, &end, 10);
	if (*name != '\0' && *end == '\0') {
		*out = (gid_t)n;
		return PDS_OK;
	}
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &grp) != 0 ||
	    grp == NULL) {
		log_warnx("%s: no such group: %s", var, name);
		return PDS_EINVAL;
	}
	*out = grp->gr_gid;
	return PDS_OK;
}

/*
 * Make sure nothing else uses the path: refuse when a daemon answers
 * or when it is not a socket; remove a stale socket.
 */
static int
path_clear(const char *path, const struct sockaddr_un *sun, socklen_t len)
{
	struct stat	 st;
	int		 fd;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return PDS_OK;
		log_warn("admin socket %s", path);
		return PDS_EIO;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("admin socket %s: exists and is not a socket; "
		    "refusing to replace it", path);
		return PDS_EEXIST;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("admin socket: socket");
		return PDS_EIO;
	}
	if (connect(fd, (const struct sockaddr *)sun, len) == 0) {
		close(fd);
		log_warnx("admin socket %s: another pdsd answers on it; "
		    "refusing to start", path);
		return PDS_EEXIST;
	}
	if (errno != ECONNREFUSED) {
		log_warn("admin socket %s: cannot tell whether it is in use",
		    path);
		close(fd);
		return PDS_EIO;
	}
	close(fd);
	if (unlink(path) == -1) {
		log_warn("admin socket %s: cannot remove the stale socket",
		    path);
		return PDS_EIO;
	}
	log_info("admin socket %s: removed a stale socket", path);
	return PDS_OK;
}

static void
admin_socket_fini(void)
{
	struct stat	 st;
	char		 b = 's';

	if (loop_running) {
		if (write(wake_pipe[1], &b, 1) != 1)
			log_warn("admin socket: wake");
		pthread_join(loop_thread, NULL);
		loop_running = false;
	}
	if (listen_fd != -1) {
		close(listen_fd);
		listen_fd = -1;
		/* only the socket we made, not a successor's */
		if (sock_path != NULL && lstat(sock_path, &st) == 0 &&
		    st.st_ino == sock_ino)
			(void)unlink(sock_path);
	}
	if (wake_pipe[0] != -1) {
		close(wake_pipe[0]);
		close(wake_pipe[1]);
		wake_pipe[0] = wake_pipe[1] = -1;
	}
	free(sock_path);
	sock_path = NULL;
}

static int
admin_socket_init(const struct config *cfg)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	socklen_t		 len;
	mode_t			 old;
	size_t			 plen;
	int			 rc;

	acfg = cfg;
	admin_service_init(cfg);
	c_requests = stats_counter("admin.requests", STATS_RATE);
	c_refused = stats_counter("admin.refused", 0);
	if (cfg->admin_socket == NULL || *cfg->admin_socket == '\0') {
		log_warnx("PDS_ADMIN_SOCKET is empty");
		return PDS_EINVAL;
	}
	plen = strlen(cfg->admin_socket);
	memset(&sun, 0, sizeof(sun));
	if (plen >= sizeof(sun.sun_path)) {
		log_warnx("PDS_ADMIN_SOCKET: path longer than %zu bytes",
		    sizeof(sun.sun_path) - 1);
		return PDS_EINVAL;
	}
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, cfg->admin_socket, plen);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);

	sock_gid = getegid();
	if (cfg->admin_socket_group != NULL && group_lookup(
	    "PDS_ADMIN_SOCKET_GROUP", cfg->admin_socket_group, &sock_gid) !=
	    PDS_OK)
		return PDS_EINVAL;
	have_admin_gid = false;
	if (cfg->admin_group != NULL) {
		if (group_lookup("PDS_ADMIN_GROUP", cfg->admin_group,
		    &admin_gid) != PDS_OK)
			return PDS_EINVAL;
		have_admin_gid = true;
	}
	if ((rc = path_clear(cfg->admin_socket, &sun, len)) != PDS_OK)
		return rc;
	if ((sock_path = strdup(cfg->admin_socket)) == NULL)
		return PDS_ENOMEM;
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (listen_fd == -1) {
		log_warn("admin socket: socket");
		goto fail;
	}
	/* born 0600, then opened up to exactly ADMIN_SOCKET_MODE */
	old = umask(0177);
	rc = bind(listen_fd, (struct sockaddr *)&sun, len);
	umask(old);
	if (rc == -1) {
		log_warn("admin socket %s: bind", sock_path);
		close(listen_fd);
		listen_fd = -1;
		goto fail;
	}
	if (lstat(sock_path, &st) == 0)
		sock_ino = st.st_ino;
	if (chown(sock_path, (uid_t)-1, sock_gid) == -1) {
		log_warn("admin socket %s: chown to group %lu", sock_path,
		    (unsigned long)sock_gid);
		goto fail;
	}
	if (chmod(sock_path, ADMIN_SOCKET_MODE) == -1) {
		log_warn("admin socket %s: chmod", sock_path);
		goto fail;
	}
	if (listen(listen_fd, 16) == -1) {
		log_warn("admin socket %s: listen", sock_path);
		goto fail;
	}
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("admin socket: pipe");
		wake_pipe[0] = wake_pipe[1] = -1;
		goto fail;
	}
	if (pthread_create(&loop_thread, NULL, loop_main, NULL) != 0) {
		log_warnx("admin socket: cannot start its thread");
		goto fail;
	}
	loop_running = true;
	log_info("admin socket %s (mode %04o, group %lu%s%s)", sock_path,
	    ADMIN_SOCKET_MODE, (unsigned long)sock_gid,
	    have_admin_gid ? ", admin group " : "",
	    have_admin_gid ? cfg->admin_group : "");
	return PDS_OK;
fail:
	admin_socket_fini();
	return PDS_EIO;
}

PDSD_MODULE(admin_socket, admin_socket_init, admin_socket_fini)
