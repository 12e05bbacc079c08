/*
 * slow_headers: the slowloris load of issue 16 finding 7.  Keeps CONNS
 * connections to pdsd open from one address, each sending its request
 * head one byte every INTERVAL_MS and never finishing it; a connection
 * the server closes is opened again after 500 ms.  Runs for SECONDS.
 *
 * usage: slow_headers PORT CONNS SECONDS [INTERVAL_MS]
 *
 * With SLOW_SRC set (say 127.0.0.9), the connections come from that
 * loopback address.
 *
 * Prints one line of JSON:
 *
 *	{"conns":N,"opened":N,"closed_by_server":N,"open_at_end":N}
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

#define REOPEN_MS	500.0

static const char head[] = "GET /xrpc/_health HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\n";
static const char filler[] = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

struct conn {
	int	 fd;
	size_t	 pos;		/* bytes of the head sent */
	double	 next;		/* when the next byte (or reopen) is due */
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct sockaddr_in srv;
static long	opened, closed_by_server;

static void
conn_open(struct conn *c)
{
	c->pos = 0;
	const char *src = getenv("SLOW_SRC");

	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return;
	if (src != NULL && *src != '\0') {
		struct sockaddr_in from = { .sin_family = AF_INET };

		if (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
		    bind(c->fd, (struct sockaddr *)&from,
		    sizeof(from)) == -1) {
			close(c->fd);
			c->fd = -1;
			return;
		}
	}
	if (connect(c->fd, (struct sockaddr *)&srv, sizeof(srv)) == -1) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	(void)fcntl(c->fd, F_SETFL, O_NONBLOCK);
	opened++;
}

/* The byte at pos of an endless head: the request line, then filler. */
static char
head_byte(size_t pos)
{
	if (pos < sizeof(head) - 1)
		return head[pos];
	pos -= sizeof(head) - 1;
	return filler[pos % (sizeof(filler) - 1)];
}

int
main(int argc, char **argv)
{
	struct conn	*c;
	char		 b, junk[512];
	long		 n, secs, iv = 1000, open_now = 0;
	double		 end, t;
	int		 i;

	if (argc < 4) {
		fprintf(stderr, "usage: slow_headers PORT CONNS SECONDS "
		    "[INTERVAL_MS]\n");
		return 2;
	}
	n = atol(argv[2]);
	secs = atol(argv[3]);
	if (argc > 4)
		iv = atol(argv[4]);
	if (n <= 0 || (c = calloc((size_t)n, sizeof(*c))) == NULL)
		return 2;
	srv.sin_family = AF_INET;
	srv.sin_port = htons((unsigned short)atoi(argv[1]));
	srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t = now_ms();
	for (i = 0; i < n; i++) {
		conn_open(&c[i]);
		/* spread the bytes over the interval */
		c[i].next = t + (double)iv * i / (double)n;
	}
	end = t + (double)secs * 1000;
	while ((t = now_ms()) < end) {
		for (i = 0; i < n; i++) {
			if (c[i].next > t)
				continue;
			if (c[i].fd == -1) {
				conn_open(&c[i]);
				c[i].next = t + (double)iv;
				continue;
			}
			/* closed by the server?  (EOF, or a reset) */
			if (recv(c[i].fd, junk, sizeof(junk), 0) == 0 ||
			    (b = head_byte(c[i].pos),
			    send(c[i].fd, &b, 1, MSG_NOSIGNAL) != 1 &&
			    errno != EAGAIN)) {
				close(c[i].fd);
				c[i].fd = -1;
				closed_by_server++;
				c[i].next = t + REOPEN_MS;
				continue;
			}
			c[i].pos++;
			c[i].next = t + (double)iv;
		}
		usleep(10000);
	}
	for (i = 0; i < n; i++)
		if (c[i].fd != -1) {
			open_now++;
			close(c[i].fd);
		}
	printf("{\"conns\":%ld,\"opened\":%ld,\"closed_by_server\":%ld,"
	    "\"open_at_end\":%ld}\n", n, opened, closed_by_server, open_now);
	free(c);
	return 0;
}
