/*
 * body_flood: many connections at once, each sending a large request
 * body to pdsd, then holding the connection open: the load of issue 16
 * finding 3 (bodies buffered before credentials were checked).  All
 * connections are opened and their heads sent first, then the bodies
 * go out round-robin, 64 KiB at a time, until each is sent or refused;
 * then the connections wait up to HOLD_MS for their answers.
 *
 * usage: body_flood PORT PATH CONNS BODY_BYTES HOLD_MS [AUTH_HEADER]
 *
 * Prints one line of JSON:
 *
 *	{"conns":N,"sent_mb":X,"refused":N,"answered":N,"s2xx":N,
 *	 "s4xx":N,"s5xx":N,"none":N}
 *
 * refused: connections the server stopped reading (write failed);
 * answered: those that got a status line (counted by class).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PIECE	65536

struct conn {
	int	 fd;
	long	 left;		/* body bytes still to send */
	int	 refused;
	int	 status;
	char	 reply[16];
	size_t	 got;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	static char	 piece[PIECE];
	struct sockaddr_in sin;
	struct conn	*c;
	char		 head[8192];
	const char	*authz;
	long		 body, hold;
	int		 n, i, busy, answered = 0, s2 = 0, s4 = 0, s5 = 0;
	int		 none = 0, refused = 0;
	double		 sent = 0, until;
	ssize_t		 k;

	if (argc < 6) {
		fprintf(stderr, "usage: body_flood PORT PATH CONNS BYTES "
		    "HOLD_MS [AUTH]\n");
		return 2;
	}
	n = atoi(argv[3]);
	body = atol(argv[4]);
	hold = atol(argv[5]);
	authz = argc > 6 ? argv[6] : NULL;
	if (n <= 0 || (c = calloc((size_t)n, sizeof(*c))) == NULL)
		return 2;
	memset(piece, 'x', sizeof(piece));
	snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Content-Type: application/vnd.ipld.car\r\n"
	    "Content-Length: %ld\r\n%s%s%s\r\n", argv[2], body,
	    authz ? "Authorization: " : "", authz ? authz : "",
	    authz ? "\r\n" : "");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < n; i++) {
		c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (c[i].fd == -1 || connect(c[i].fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == -1 || send(c[i].fd, head, strlen(head),
		    MSG_NOSIGNAL) != (ssize_t)strlen(head)) {
			c[i].refused = 1;
			continue;
		}
		(void)fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
		c[i].left = body;
	}
	/* the bodies, round-robin, as fast as pdsd takes them */
	do {
		busy = 0;
		for (i = 0; i < n; i++) {
			size_t	 m;

			if (c[i].refused || c[i].left == 0)
				continue;
			m = c[i].left > PIECE ? PIECE : (size_t)c[i].left;
			k = send(c[i].fd, piece, m, MSG_NOSIGNAL);
			if (k > 0) {
				c[i].left -= k;
				sent += (double)k;
			} else if (k == -1 && errno != EAGAIN &&
			    errno != EWOULDBLOCK)
				c[i].refused = 1;
			if (!c[i].refused && c[i].left > 0)
				busy++;
		}
		if (busy > 0)
			usleep(1000);
	} while (busy > 0);
	/* hold, collecting status lines */
	until = now_ms() + (double)hold;
	while (now_ms() < until) {
		busy = 0;
		for (i = 0; i < n; i++) {
			if (c[i].fd == -1 || c[i].got >= sizeof(c[i].reply) - 1)
				continue;
			k = recv(c[i].fd, c[i].reply + c[i].got,
			    sizeof(c[i].reply) - 1 - c[i].got, 0);
			if (k > 0)
				c[i].got += (size_t)k;
			else if (k == 0 || (errno != EAGAIN &&
			    errno != EWOULDBLOCK)) {
				close(c[i].fd);		/* closed: done */
				c[i].fd = -1;
			} else
				busy++;
		}
		if (busy == 0)
			break;
		usleep(20000);
	}
	for (i = 0; i < n; i++) {
		refused += c[i].refused;
		if (c[i].got > 12 && memcmp(c[i].reply, "HTTP/1.", 7) == 0)
			c[i].status = atoi(c[i].reply + 9);
		if (c[i].status == 0)
			none++;
		else {
			answered++;
			s2 += c[i].status / 100 == 2;
			s4 += c[i].status / 100 == 4;
			s5 += c[i].status / 100 == 5;
		}
		if (c[i].fd != -1)
			close(c[i].fd);
	}
	printf("{\"conns\":%d,\"sent_mb\":%.1f,\"refused\":%d,\"answered\":%d,"
	    "\"s2xx\":%d,\"s4xx\":%d,\"s5xx\":%d,\"none\":%d}\n", n,
	    sent / 1048576.0, refused, answered, s2, s4, s5, none);
	free(c);
	return 0;
}
