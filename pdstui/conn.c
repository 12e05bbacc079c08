/*
 * conn: pdstui's side of the admin socket.  One non-blocking
 * connection; requests are queued as lines and answered through
 * callbacks found by id.  When pdsd goes away (restart, crash) every
 * pending callback is told "Disconnected" and we try again with a
 * growing pause (TCONN_RETRY_MIN_MS doubling to TCONN_RETRY_MAX_MS).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "adminproto.h"
#include "buf.h"
#include "err.h"
#include "tui.h"

#define TCONN_RETRY_MIN_MS	250
#define TCONN_RETRY_MAX_MS	2000
#define TCONN_PENDING_MAX	64
#define TCONN_OUT_MAX		(1 << 20)

struct pending {
	int64_t		 id;	/* 0: free slot */
	tconn_cb	 cb;
	void		*arg;
};

struct tconn {
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int			 fd;
	struct adminproto_reader in;
	struct buf		 out;
	size_t			 out_off;
	int64_t			 next_id;
	struct pending		 pend[TCONN_PENDING_MAX];
	int64_t			 retry_at;	/* next connect attempt */
	int			 retry_ms;
	long			 peer_pid;
	char			 state[160];
	void			(*on_up)(void);
	void			(*on_down)(void);
};

struct tconn *
tconn_new(const char *path, void (*on_up)(void), void (*on_down)(void))
{
	struct tconn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (strlen(path) >= sizeof(c->path) ||
	    adminproto_reader_init(&c->in, TUI_READ_MAX) != PDS_OK) {
		free(c);
		return NULL;
	}
	memcpy(c->path, path, strlen(path) + 1);
	c->fd = -1;
	c->next_id = 1;
	c->retry_ms = TCONN_RETRY_MIN_MS;
	c->on_up = on_up;
	c->on_down = on_down;
	buf_init(&c->out, TCONN_OUT_MAX);
	snprintf(c->state, sizeof(c->state), "connecting");
	return c;
}

/* Tell every pending callback the connection is gone. */
static void
fail_pending(struct tconn *c)
{
	struct adminproto_msg	 m;
	struct pending		 p;
	size_t			 i;

	for (i = 0; i < TCONN_PENDING_MAX; i++) {
		if (c->pend[i].id == 0)
			continue;
		p = c->pend[i];
		c->pend[i].id = 0;
		if (p.cb == NULL)
			continue;
		memset(&m, 0, sizeof(m));
		m.kind = AP_MSG_ERROR;
		m.id = p.id;
		snprintf(m.error, sizeof(m.error), "Disconnected");
		snprintf(m.message, sizeof(m.message), "%s", c->state);
		p.cb(p.arg, &m);
	}
}

static void
drop(struct tconn *c, const char *why)
{
	bool	 was_up = c->fd != -1;

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	buf_reset(&c->out);
	c->out_off = 0;
	adminproto_reader_clear(&c->in);
	(void)adminproto_reader_init(&c->in, TUI_READ_MAX);
	c->peer_pid = 0;
	snprintf(c->state, sizeof(c->state), "disconnected: %s", why);
	c->retry_at = tui_now_ms() + c->retry_ms;
	fail_pending(c);
	if (was_up && c->on_down != NULL)
		c->on_down();
}

void
tconn_free(struct tconn *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	adminproto_reader_clear(&c->in);
	buf_clear(&c->out);
	free(c);
}

bool
tconn_up(const struct tconn *c)
{
	return c->fd != -1;
}

const char *
tconn_state(const struct tconn *c)
{
	return c->state;
}

long
tconn_peer_pid(const struct tconn *c)
{
	return c->peer_pid;
}

int
tconn_pollfd(const struct tconn *c, short *events)
{
	*events = POLLIN;
	if (c->out.len > c->out_off)
		*events |= POLLOUT;
	return c->fd;
}

static void
try_connect(struct tconn *c)
{
	struct sockaddr_un	 sun;
	struct ucred		 cr;
	socklen_t		 crlen = sizeof(cr);
	int			 fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(c->state, sizeof(c->state), "disconnected: socket: "
		    "%s", strerror(errno));
		goto retry;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		e = errno;
		close(fd);
		snprintf(c->state, sizeof(c->state), "disconnected: %s: %s",
		    c->path, e == EACCES || e == EPERM ? "permission denied "
		    "(you need to be in the socket's group)" :
		    e == ENOENT || e == ECONNREFUSED ? "pdsd is not running" :
		    strerror(e));
		goto retry;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		close(fd);
		snprintf(c->state, sizeof(c->state), "disconnected: fcntl");
		goto retry;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0)
		c->peer_pid = (long)cr.pid;
	c->fd = fd;
	c->retry_ms = TCONN_RETRY_MIN_MS;
	snprintf(c->state, sizeof(c->state), "connected");
	if (c->on_up != NULL)
		c->on_up();
	return;
retry:
	c->retry_at = tui_now_ms() + c->retry_ms;
	c->retry_ms *= 2;
	if (c->retry_ms > TCONN_RETRY_MAX_MS)
		c->retry_ms = TCONN_RETRY_MAX_MS;
}

int
tconn_maintain(struct tconn *c, int64_t now)
{
	if (c->fd != -1)
		return -1;
	if (now >= c->retry_at)
		try_connect(c);
	if (c->fd != -1)
		return -1;
	return c->retry_at > now ? (int)(c->retry_at - now) : 0;
}

static struct pending *
pending_find(struct tconn *c, int64_t id)
{
	size_t	 i;

	for (i = 0; i < TCONN_PENDING_MAX; i++)
		if (c->pend[i].id == id && id != 0)
			return &c->pend[i];
	return NULL;
}

void
tconn_forget(struct tconn *c, int64_t id)
{
	struct pending	*p;

	if ((p = pending_find(c, id)) != NULL)
		p->cb = NULL;
}

static void
dispatch(struct tconn *c, const char *line, size_t len)
{
	struct adminproto_msg	 m;
	struct pending		*p, copy;
	const char		*why;

	if (adminproto_msg_parse(line, len, &m, &why) != PDS_OK) {
		drop(c, "unreadable reply from pdsd");
		return;
	}
	if (m.id == -1) {
		/* the daemon refused the connection (or our line) */
		char	 why2[ADMINPROTO_ERRNAME_MAX + ADMINPROTO_MSG_MAX + 2];

		snprintf(why2, sizeof(why2), "%s: %s", m.error, m.message);
		adminproto_msg_clear(&m);
		drop(c, why2);
		return;
	}
	if ((p = pending_find(c, m.id)) == NULL) {
		adminproto_msg_clear(&m);
		return;
	}
	copy = *p;
	if (m.kind != AP_MSG_EVENT)
		p->id = 0;	/* the last message for this id */
	if (copy.cb != NULL)
		copy.cb(copy.arg, &m);
	adminproto_msg_clear(&m);
}

static void
do_read(struct tconn *c)
{
	enum adminproto_read	 r;
	const char		*line;
	size_t			 len, avail;
	ssize_t			 n;
	char			*p;

	for (;;) {
		p = adminproto_reader_space(&c->in, &avail);
		if (avail == 0)
			break;
		n = recv(c->fd, p, avail, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			drop(c, n == 0 ? "pdsd closed the connection" :
			    strerror(errno));
			return;
		}
		adminproto_reader_commit(&c->in, (size_t)n);
		while (c->fd != -1 &&
		    (r = adminproto_reader_next(&c->in, &line, &len)) !=
		    AP_READ_MORE) {
			if (r == AP_READ_TOOLONG) {
				drop(c, "reply line too long");
				return;
			}
			dispatch(c, line, len);
		}
		if (c->fd == -1)
			return;
	}
}

static void
do_write(struct tconn *c)
{
	ssize_t	 n;

	while (c->fd != -1 && c->out.len > c->out_off) {
		n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			drop(c, strerror(errno));
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	}
}

void
tconn_io(struct tconn *c, short revents)
{
	if (c->fd == -1)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR))
		do_read(c);
	if (c->fd != -1 && (revents & POLLOUT))
		do_write(c);
}

int64_t
tconn_request(struct tconn *c, const char *cmd, json_t *args, tconn_cb cb,
    void *arg)
{
	struct pending	*slot;
	int64_t		 id;
	size_t		 i;
	int		 rc;

	slot = NULL;
	for (i = 0; i < TCONN_PENDING_MAX && c->fd != -1; i++)
		if (c->pend[i].id == 0) {
			slot = &c->pend[i];
			break;
		}
	if (slot == NULL) {
		json_decref(args);
		return -1;
	}
	id = c->next_id++;
	rc = adminproto_put_request(&c->out, id, cmd, args);
	json_decref(args);
	if (rc != PDS_OK)
		return -1;
	slot->id = id;
	slot->cb = cb;
	slot->arg = arg;
	do_write(c);
	return id;
}

int64_t
tconn_next_id(const struct tconn *c)
{
	return c->next_id;
}

bool
tconn_answered(const struct tconn *c, int64_t from, int64_t to)
{
	size_t	 i;

	for (i = 0; i < TCONN_PENDING_MAX; i++)
		if (c->pend[i].id != 0 && c->pend[i].id >= from &&
		    c->pend[i].id <= to)
			return false;
	return true;
}
