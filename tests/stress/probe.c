/*
 * probe: how quickly pdsd answers one cheap request while a stress test
 * loads it.  Sends "GET PATH" on a fresh loopback connection every
 * INTERVAL_MS for SECONDS, each with a 5 s deadline, and prints one
 * line of JSON:
 *
 *	{"n":N,"ok":N,"failed":N,"p50_ms":X,"p99_ms":X,"max_ms":X}
 *
 * A request that fails or passes its deadline counts as failed and as
 * 5000 ms in the percentiles.  Only a 200 counts as ok.
 *
 * usage: probe PORT PATH SECONDS [INTERVAL_MS]
 *
 * With PROBE_SRC set (say 127.0.0.2), connections come from that
 * loopback address, so a test can load pdsd from 127.0.0.1 and still
 * see how another client fares.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS	5000.0

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One request; its latency in ms, or -1 if it failed. */
static double
one(unsigned port, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[512], resp[256];
	const char *src = getenv("PROBE_SRC");
	double t0 = now_ms();
	size_t got = 0;
	int fd, n, one = 1;

	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != NULL && *src != '\0') {
		struct sockaddr_in from = { .sin_family = AF_INET };

		if (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0) {
			close(fd);
			return -1;
		}
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1"
	    "\r\nConnection: close\r\n\r\n", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = DEADLINE_MS - (now_ms() - t0);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		r = read(fd, got < sizeof(resp) - 1 ? resp + got : req,
		    got < sizeof(resp) - 1 ? sizeof(resp) - 1 - got :
		    sizeof(req));
		if (r <= 0)
			break;
		if (got < sizeof(resp) - 1)
			got += (size_t)r;
	}
	close(fd);
	resp[got] = '\0';
	if (strncmp(resp, "HTTP/1.1 200", 12) != 0 ||
	    now_ms() - t0 >= DEADLINE_MS)
		return -1;
	return now_ms() - t0;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	double *lat, end, interval;
	size_t n = 0, cap = 1024, ok = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: probe PORT PATH SECONDS "
		    "[INTERVAL_MS]\n");
		return 2;
	}
	interval = argc > 4 ? atof(argv[4]) : 20;
	end = now_ms() + atof(argv[3]) * 1e3;
	if ((lat = malloc(cap * sizeof(*lat))) == NULL)
		return 1;
	while (now_ms() < end) {
		double t0 = now_ms(), l = one((unsigned)atoi(argv[1]),
		    argv[2]);

		if (n == cap && (lat = realloc(lat,
		    (cap *= 2) * sizeof(*lat))) == NULL)
			return 1;
		if (l >= 0)
			ok++;
		lat[n++] = l >= 0 ? l : DEADLINE_MS;
		l = interval - (now_ms() - t0);
		if (l > 0)
			usleep((useconds_t)(l * 1e3));
	}
	qsort(lat, n, sizeof(*lat), cmp);
	printf("{\"n\":%zu,\"ok\":%zu,\"failed\":%zu,\"p50_ms\":%.1f,"
	    "\"p99_ms\":%.1f,\"max_ms\":%.1f}\n", n, ok, n - ok,
	    n ? lat[n / 2] : 0.0, n ? lat[(n * 99) / 100 < n ?
	    (n * 99) / 100 : n - 1] : 0.0, n ? lat[n - 1] : 0.0);
	free(lat);
	return 0;
}
