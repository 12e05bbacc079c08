/*
 * ws_idle: WebSocket subscribers that never read, to see what pdsd does
 * with them.  Opens N connections to 127.0.0.1:PORT at once, each with
 * a small receive buffer (set before connect, so the window it offers
 * stays small), and asks each to upgrade on
 * /xrpc/com.atproto.sync.subscribeRepos plus QUERY.  It reads the reply
 * to the upgrade and nothing after it: no frame is ever read.  Then it
 * holds the connections for up to SECONDS, watching (poll, POLLRDHUP)
 * for the ones the server closes or resets, and stops early once every
 * upgraded one is closed.  One line of JSON:
 *
 *	{"n":N,"upgraded":U,"refused":R,"failed":F,"closed":C,"open":O,
 *	 "last_closed_ms":T,"statuses":"101:U 429:R ..."}
 *
 * refused counts HTTP answers other than 101 (with statuses saying
 * which), failed the connections that got no answer at all, closed the
 * upgraded ones the server closed while we held them, open the rest;
 * last_closed_ms is when the last of them was seen closed, counted from
 * the last upgrade.
 *
 * usage: ws_idle PORT N SECONDS [QUERY]	(QUERY like "?cursor=0")
 * WS_IDLE_RCVBUF sets the receive buffer (default 4096 bytes);
 * WS_IDLE_XFF, an X-Forwarded-For header to send (pdsd believes it from
 * a loopback peer: a client address of the test's choosing).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HANDSHAKE_MS	10000
#define HEAD_MAX	4096
#define NSTATUS		8

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Connect and ask for the upgrade.  The fd, or -1. */
static int
start_one(unsigned port, const char *query, int rcvbuf)
{
	struct sockaddr_in sa;
	char	 req[1024];
	const char *xff = getenv("WS_IDLE_XFF");
	int	 fd, n;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	n = snprintf(req, sizeof(req), "GET /xrpc/com.atproto.sync."
	    "subscribeRepos%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: "
	    "websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13"
	    "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s%s%s\r\n",
	    query, xff != NULL ? "X-Forwarded-For: " : "",
	    xff != NULL ? xff : "", xff != NULL ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The reply's head, if all of it is in: peek, then consume exactly up
 * to its blank line (the frames after it stay unread).  1 with *status
 * set, 0 when more must come, -1 on failure.
 */
static int
read_head(int fd, int *status)
{
	char	 head[HEAD_MAX + 1], *end;
	ssize_t	 r;
	int	 n;

	if ((r = recv(fd, head, HEAD_MAX, MSG_PEEK | MSG_DONTWAIT)) <= 0)
		return r < 0 && errno == EAGAIN ? 0 : -1;
	head[r] = '\0';
	if ((end = strstr(head, "\r\n\r\n")) == NULL)
		return r == HEAD_MAX ? -1 : 0;
	n = (int)(end + 4 - head);
	if (recv(fd, head, (size_t)n, 0) != n ||
	    sscanf(head, "HTTP/1.1 %d", status) != 1)
		return -1;
	return 1;
}

int
main(int argc, char *argv[])
{
	struct pollfd	*p;
	const char	*query = argc > 4 ? argv[4] : "", *rb;
	double		 t0, t_up, t_last = 0, deadline;
	unsigned	 port;
	int		 n, secs, rcvbuf = 4096, i, st, up = 0, refused = 0;
	int		 pending, r;
	int		 failed = 0, closed = 0, codes[NSTATUS], counts[NSTATUS];
	int		 ncodes = 0, k;
	char		 sts[256];
	size_t		 sl = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: ws_idle PORT N SECONDS [QUERY]\n");
		return 2;
	}
	port = (unsigned)atoi(argv[1]);
	n = atoi(argv[2]);
	secs = atoi(argv[3]);
	if ((rb = getenv("WS_IDLE_RCVBUF")) != NULL && atoi(rb) > 0)
		rcvbuf = atoi(rb);
	if (n <= 0 || (p = calloc((size_t)n, sizeof(*p))) == NULL)
		return 2;
	/* all at once: connect and ask */
	for (i = 0; i < n; i++) {
		p[i].fd = start_one(port, query, rcvbuf);
		p[i].events = POLLIN;
		if (p[i].fd < 0)
			failed++;
	}
	/* the answers, as they come */
	t0 = now_ms();
	for (pending = n - failed; pending > 0 &&
	    now_ms() - t0 < HANDSHAKE_MS; ) {
		if (poll(p, (nfds_t)n, 100) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			if (p[i].fd < 0 || p[i].events != POLLIN ||
			    p[i].revents == 0)
				continue;
			if ((r = read_head(p[i].fd, &st)) == 0)
				continue;
			pending--;
			if (r < 0) {
				failed++;
				close(p[i].fd);
				p[i].fd = -1;
				continue;
			}
			for (k = 0; k < ncodes && codes[k] != st; k++)
				;
			if (k == ncodes && ncodes < NSTATUS) {
				codes[ncodes] = st;
				counts[ncodes++] = 0;
			}
			if (k < ncodes)
				counts[k]++;
			if (st == 101) {
				up++;
				p[i].events = POLLRDHUP;
			} else {
				refused++;
				close(p[i].fd);
				p[i].fd = -1;	/* poll skips it */
			}
		}
	}
	/* no answer in time: failed */
	for (i = 0; i < n; i++)
		if (p[i].fd >= 0 && p[i].events == POLLIN) {
			failed++;
			close(p[i].fd);
			p[i].fd = -1;
		}
	t_up = now_ms();
	deadline = t_up + secs * 1000.0;
	while (closed < up && now_ms() < deadline) {
		r = poll(p, (nfds_t)n, 200);
		if (r < 0 && errno != EINTR)
			break;
		for (i = 0; r > 0 && i < n; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			closed++;
			t_last = now_ms();
			close(p[i].fd);
			p[i].fd = -1;
		}
	}
	for (k = 0; k < ncodes; k++) {
		int	 w = snprintf(sts + sl, sizeof(sts) - sl, "%s%d:%d",
		    k > 0 ? " " : "", codes[k], counts[k]);

		if (w < 0 || (size_t)w >= sizeof(sts) - sl)
			break;
		sl += (size_t)w;
	}
	sts[sl] = '\0';
	printf("{\"n\":%d,\"upgraded\":%d,\"refused\":%d,\"failed\":%d,"
	    "\"closed\":%d,\"open\":%d,\"last_closed_ms\":%.0f,"
	    "\"statuses\":\"%s\"}\n", n, up, refused, failed, closed,
	    up - closed, closed > 0 ? t_last - t_up : 0.0, sts);
	for (i = 0; i < n; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	free(p);
	return 0;
}
