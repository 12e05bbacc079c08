/*
 * client: pdsctl's side of the admin socket.  One request at a time;
 * replies are read line by line with the shared capped reader.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "adminproto.h"
#include "buf.h"
#include "err.h"
#include "pdsctl.h"

int
ctl_exit_for(const char *error)
{
	switch (adminproto_error_class(error)) {
	case AP_CLASS_USAGE:		return EXIT_USAGE;
	case AP_CLASS_DATA:		return EXIT_DATAERR;
	case AP_CLASS_NOPERM:		return EXIT_NOPERM;
	case AP_CLASS_NOTFOUND:		return EXIT_NOTFOUND;
	case AP_CLASS_CONFLICT:		return EXIT_CONFLICT;
	case AP_CLASS_UNAVAILABLE:	return EXIT_UNAVAIL;
	case AP_CLASS_OTHER:		break;
	}
	return EXIT_FAIL;
}

int
ctl_connect(struct ctl_conn *c, const char *path)
{
	struct sockaddr_un	 sun;
	size_t			 n = strlen(path);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->path = path;
	c->next_id = 1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(sun.sun_path)) {
		fprintf(stderr, "pdsctl: socket path too long: %s\n", path);
		return EXIT_USAGE;
	}
	memcpy(sun.sun_path, path, n);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "pdsctl: socket: %s\n", strerror(errno));
		return EXIT_UNAVAIL;
	}
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int	 e = errno;

		close(c->fd);
		c->fd = -1;
		if (e == EACCES || e == EPERM) {
			fprintf(stderr, "pdsctl: %s: permission denied "
			    "(you need to be in the socket's group)\n", path);
			return EXIT_NOPERM;
		}
		fprintf(stderr, "pdsctl: cannot reach pdsd at %s: %s\n", path,
		    e == ENOENT || e == ECONNREFUSED ? "not running "
		    "(or another socket; see --socket)" : strerror(e));
		return EXIT_UNAVAIL;
	}
	if (adminproto_reader_init(&c->in, ADMINPROTO_REPLY_MAX) != PDS_OK) {
		close(c->fd);
		c->fd = -1;
		fprintf(stderr, "pdsctl: out of memory\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

void
ctl_close(struct ctl_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	adminproto_reader_clear(&c->in);
}

static int
send_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next line; EXIT_OK, or an exit status after printing why. */
static int
read_line(struct ctl_conn *c, const char **line, size_t *len)
{
	enum adminproto_read	 r;
	size_t			 avail;
	ssize_t			 n;
	char			*p;

	for (;;) {
		r = adminproto_reader_next(&c->in, line, len);
		if (r == AP_READ_LINE)
			return EXIT_OK;
		if (r == AP_READ_TOOLONG) {
			fprintf(stderr, "pdsctl: reply line too long\n");
			return EXIT_PROTOCOL;
		}
		p = adminproto_reader_space(&c->in, &avail);
		n = recv(c->fd, p, avail, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "pdsctl: pdsd closed the connection%s"
			    "%s\n", n == -1 ? ": " : "",
			    n == -1 ? strerror(errno) : "");
			return EXIT_UNAVAIL;
		}
		adminproto_reader_commit(&c->in, (size_t)n);
	}
}

int
ctl_request(struct ctl_conn *c, const char *cmd, const json_t *args,
    void (*on_event)(void *, const json_t *), void *arg, json_t **result,
    struct adminproto_msg *msg)
{
	struct buf	 b;
	const char	*line, *why;
	size_t		 len;
	int64_t		 id = c->next_id++;
	int		 rc;

	*result = NULL;
	memset(msg, 0, sizeof(*msg));
	buf_init(&b, ADMINPROTO_REQ_MAX + 1);
	if (adminproto_put_request(&b, id, cmd, args) != PDS_OK) {
		buf_clear(&b);
		fprintf(stderr, "pdsctl: request too large\n");
		return EXIT_USAGE;
	}
	rc = send_all(c->fd, b.p, b.len);
	buf_clear(&b);
	/*
	 * A send that fails may mean pdsd refused the connection and
	 * closed it: its one-line reason is still there to read.
	 */
	if (rc == -1 && errno != EPIPE && errno != ECONNRESET) {
		fprintf(stderr, "pdsctl: cannot send to pdsd: %s\n",
		    strerror(errno));
		return EXIT_UNAVAIL;
	}
	for (;;) {
		if ((rc = read_line(c, &line, &len)) != EXIT_OK)
			return rc;
		if (adminproto_msg_parse(line, len, msg, &why) != PDS_OK) {
			fprintf(stderr, "pdsctl: unreadable reply: %s\n", why);
			return EXIT_PROTOCOL;
		}
		/* id null: the daemon refused the connection or the line */
		if (msg->id != id && msg->id != -1) {
			adminproto_msg_clear(msg);
			continue;
		}
		switch (msg->kind) {
		case AP_MSG_OK:
			*result = msg->result;
			msg->result = NULL;
			return EXIT_OK;
		case AP_MSG_ERROR:
			return ctl_exit_for(msg->error);
		case AP_MSG_EVENT:
			if (on_event != NULL)
				on_event(arg, msg->result);
			adminproto_msg_clear(msg);
			break;
		case AP_MSG_END:
			*result = msg->result;
			msg->result = NULL;
			return EXIT_OK;
		}
	}
}
