/*
 * rawreq: one HTTP/1.1 request over a plain socket, for the tests that
 * need what curl will not do: announce a Content-Length and send fewer
 * bytes, write a whole body before reading the answer (as many simple
 * clients do), or dribble the request head.  Used by
 * tests/integration/test_limits.sh and the stress tests.
 *
 * usage: rawreq PORT METHOD PATH [-H header]... [-l content-length]
 *		[-b body-bytes] [-C] [-d dribble-ms] [-w wait-ms] [-s src]
 *
 *   -l N	send "Content-Length: N"
 *   -b N	send N body bytes ('x'), or with -C as 64 KiB chunks
 *   -C		Transfer-Encoding: chunked
 *   -d MS	send the head one byte every MS ms (never finishing it
 *		while the server keeps the connection)
 *   -w MS	how long to wait for the answer (default 5000)
 *   -s ADDR	connect from this loopback address
 *
 * Prints one line:
 *
 *	status=N ms=T write=OK|EPIPE|ECONNRESET|... closed_ms=T error=NAME
 *
 * status is 0 when no status line came back; ms is the time from the
 * connect to the status line; closed_ms the time until the server
 * closed (or -1); error the XRPC error name in the body, if any.
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

#define MAXH	16

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *write_err = "OK";

/* All of p[n], unless the server stops taking it. */
static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t	 k;

	while (n > 0) {
		if ((k = send(fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			write_err = errno == EPIPE ? "EPIPE" :
			    errno == ECONNRESET ? "ECONNRESET" : "ERROR";
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin, src;
	const char	*hdrs[MAXH], *srcaddr = NULL;
	static char	 zbuf[65536], reply[65536];
	char		 head[8192], sz[32], *p, *e;
	long		 cl = -1, body = 0, dribble = 0, wait_ms = 5000;
	int		 nh = 0, chunked = 0, fd, c, status = 0;
	size_t		 hl, got = 0, i;
	double		 t0, t_status = -1, t_closed = -1;
	ssize_t		 k;

	if (argc < 4) {
		fprintf(stderr, "usage: rawreq PORT METHOD PATH [options]\n");
		return 2;
	}
	optind = 4;
	while ((c = getopt(argc, argv, "H:l:b:Cd:w:s:")) != -1)
		switch (c) {
		case 'H':
			if (nh < MAXH)
				hdrs[nh++] = optarg;
			break;
		case 'l': cl = atol(optarg); break;
		case 'b': body = atol(optarg); break;
		case 'C': chunked = 1; break;
		case 'd': dribble = atol(optarg); break;
		case 'w': wait_ms = atol(optarg); break;
		case 's': srcaddr = optarg; break;
		default: return 2;
		}
	hl = (size_t)snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nConnection: close\r\n", argv[2], argv[3]);
	for (c = 0; c < nh; c++)
		hl += (size_t)snprintf(head + hl, sizeof(head) - hl,
		    "%s\r\n", hdrs[c]);
	if (cl >= 0)
		hl += (size_t)snprintf(head + hl, sizeof(head) - hl,
		    "Content-Length: %ld\r\n", cl);
	if (chunked)
		hl += (size_t)snprintf(head + hl, sizeof(head) - hl,
		    "Transfer-Encoding: chunked\r\n");
	hl += (size_t)snprintf(head + hl, sizeof(head) - hl, "\r\n");
	memset(zbuf, 'x', sizeof(zbuf));

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 2;
	if (srcaddr != NULL) {
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		inet_pton(AF_INET, srcaddr, &src.sin_addr);
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1)
			return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t0 = now_ms();
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		printf("status=0 ms=-1 write=CONNECT closed_ms=-1 error=\n");
		return 0;
	}
	if (dribble > 0) {
		/* one byte at a time; the head is never finished */
		for (i = 0; i + 2 < hl; i++) {
			struct pollfd pf = { fd, POLLIN, 0 };

			if (send_all(fd, head + i, 1) == -1)
				break;
			if (poll(&pf, 1, (int)dribble) > 0) {
				k = recv(fd, reply + got, sizeof(reply) - 1 -
				    got, 0);
				if (k <= 0)
					break;
				got += (size_t)k;
			}
			if (now_ms() - t0 > (double)wait_ms)
				break;
		}
		t_closed = now_ms() - t0;
		if (now_ms() - t0 > (double)wait_ms)
			t_closed = -1;
		goto out;
	}
	if (send_all(fd, head, hl) == 0) {
		while (body > 0) {
			size_t	 n = body > (long)sizeof(zbuf) ?
			    sizeof(zbuf) : (size_t)body;

			if (chunked) {
				snprintf(sz, sizeof(sz), "%zx\r\n", n);
				if (send_all(fd, sz, strlen(sz)) == -1 ||
				    send_all(fd, zbuf, n) == -1 ||
				    send_all(fd, "\r\n", 2) == -1)
					break;
			} else if (send_all(fd, zbuf, n) == -1)
				break;
			body -= (long)n;
		}
		if (chunked && body == 0)
			(void)send_all(fd, "0\r\n\r\n", 5);
	}
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		double	 left = (double)wait_ms - (now_ms() - t0);

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		k = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
		if (k <= 0) {
			t_closed = now_ms() - t0;
			break;
		}
		if (got == 0)
			t_status = now_ms() - t0;
		got += (size_t)k;
		if (got >= sizeof(reply) - 1)
			break;
	}
out:
	reply[got] = '\0';
	if (got > 12 && memcmp(reply, "HTTP/1.", 7) == 0)
		status = atoi(reply + 9);
	printf("status=%d ms=%.0f write=%s closed_ms=%.0f error=", status,
	    t_status, write_err, t_closed);
	if ((p = strstr(reply, "\"error\":\"")) != NULL) {
		p += 9;
		if ((e = strchr(p, '"')) != NULL)
			printf("%.*s", (int)(e - p), p);
	}
	printf("\n");
	close(fd);
	return 0;
}
