/*
 * flood: N requests to pdsd at once, each on its own loopback
 * connection, and what came back: one line of JSON
 *
 *	{"n":N,"answered":N,"unanswered":N,"p50_ms":X,"max_ms":X,
 *	 "refused_without_retry_after":N,"status":{"200":N,...}}
 *
 * where a request is unanswered if no full reply came within the
 * deadline, and a refusal is a 429 or 503 (which must carry
 * Retry-After).  All requests are sent before any reply is read, so the
 * load is the same whatever the machine's speed.
 *
 * usage: flood [-s FIRST:COUNT] [-a TOKENS] [-b BODY] [-f PATHS]
 *	      [-t DEADLINE_MS] PORT N METHOD PATH
 *
 *   -s  send from 127.0.0.FIRST .. FIRST+COUNT-1 in turn (many clients)
 *   -a  a file of bearer tokens, one a line: request i carries line i
 *       (cycled) as "Authorization: Bearer"
 *   -b  a JSON body (Content-Type: application/json)
 *   -f  a file of paths, one a line, used in turn instead of PATH
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NMAX		4096
#define HEAD_MAX	4096

struct conn {
	int	 fd;
	char	*req;
	size_t	 reqlen, sent;
	char	 head[HEAD_MAX + 1];
	size_t	 got;
	double	 t0, ms;
	int	 status;	/* 0: no reply yet */
	int	 retry_after;
	int	 done;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The lines of a file (at most max), or exit. */
static size_t
read_lines(const char *path, char **out, size_t max)
{
	FILE	*f = fopen(path, "r");
	char	*line = NULL;
	size_t	 cap = 0, n = 0;
	ssize_t	 len;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while (n < max && (len = getline(&line, &cap, f)) > 0) {
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len > 0)
			out[n++] = strdup(line);
	}
	free(line);
	fclose(f);
	return n;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
finish(struct conn *c)
{
	char	*p, *eoh;

	c->done = 1;
	c->ms = now_ms() - c->t0;
	close(c->fd);
	c->head[c->got] = '\0';
	if (strncmp(c->head, "HTTP/1.", 7) == 0 && c->got > 12 &&
	    (eoh = strstr(c->head, "\r\n\r\n")) != NULL) {
		c->status = atoi(c->head + 9);
		for (p = strstr(c->head, "\r\n"); p != NULL && p < eoh;
		    p = strstr(p + 2, "\r\n"))
			if (strncasecmp(p + 2, "Retry-After:", 12) == 0)
				c->retry_after = 1;
	}
}

int
main(int argc, char **argv)
{
	static struct conn	 cs[NMAX];
	static struct pollfd	 pfd[NMAX];
	static double		 lat[NMAX];
	static char		*tokens[NMAX], *paths[NMAX];
	const char		*body = NULL, *method, *path;
	size_t			 ntok = 0, npath = 0;
	int			 src_first = 0, src_count = 0, opt, status[600];
	int			 port, n, i, left, answered = 0, noretry = 0;
	double			 deadline_ms = 20000, start, maxms = 0;

	while ((opt = getopt(argc, argv, "s:a:b:f:t:")) != -1) {
		switch (opt) {
		case 's':
			if (sscanf(optarg, "%d:%d", &src_first,
			    &src_count) != 2)
				return 64;
			break;
		case 'a':
			ntok = read_lines(optarg, tokens, NMAX);
			break;
		case 'b':
			body = optarg;
			break;
		case 'f':
			npath = read_lines(optarg, paths, NMAX);
			break;
		case 't':
			deadline_ms = atof(optarg);
			break;
		default:
			return 64;
		}
	}
	if (argc - optind != 4) {
		fprintf(stderr, "usage: flood [-s FIRST:COUNT] [-a TOKENS] "
		    "[-b BODY] [-f PATHS] [-t MS] PORT N METHOD PATH\n");
		return 64;
	}
	port = atoi(argv[optind]);
	n = atoi(argv[optind + 1]);
	method = argv[optind + 2];
	path = argv[optind + 3];
	if (n < 1 || n > NMAX)
		return 64;
	memset(status, 0, sizeof(status));

	start = now_ms();
	for (i = 0; i < n; i++) {
		struct conn		*c = &cs[i];
		struct sockaddr_in	 sa = { .sin_family = AF_INET };
		char			 auth[8192] = "";
		size_t			 cap;

		if (ntok > 0)
			snprintf(auth, sizeof(auth),
			    "Authorization: Bearer %s\r\n", tokens[i % ntok]);
		cap = strlen(auth) + 1024 + (body ? strlen(body) : 0);
		c->req = malloc(cap);
		c->reqlen = (size_t)snprintf(c->req, cap,
		    "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		    "Connection: close\r\n%s%s%s%zu\r\n\r\n%s", method,
		    npath > 0 ? paths[i % npath] : path, auth,
		    body ? "Content-Type: application/json\r\n" : "",
		    "Content-Length: ", body ? strlen(body) : 0,
		    body ? body : "");
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (c->fd < 0) {
			perror("socket");
			return 1;
		}
		if (src_count > 0) {
			struct sockaddr_in from = { .sin_family = AF_INET };

			from.sin_addr.s_addr = htonl(0x7f000000u |
			    (unsigned)(src_first + i % src_count));
			if (bind(c->fd, (struct sockaddr *)&from,
			    sizeof(from)) != 0) {
				perror("bind");
				return 1;
			}
		}
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		sa.sin_port = htons((unsigned short)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c->t0 = now_ms();
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
		    errno != EINPROGRESS) {
			perror("connect");
			return 1;
		}
	}
	left = n;
	while (left > 0 && now_ms() - start < deadline_ms) {
		int	np = 0, idx[NMAX];

		for (i = 0; i < n; i++) {
			if (cs[i].done)
				continue;
			pfd[np].fd = cs[i].fd;
			pfd[np].events = cs[i].sent < cs[i].reqlen ?
			    POLLOUT : POLLIN;
			idx[np++] = i;
		}
		if (poll(pfd, (nfds_t)np, 100) < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < np; i++) {
			struct conn	*c = &cs[idx[i]];
			char		 tmp[8192];
			ssize_t		 r;

			if (pfd[i].revents == 0)
				continue;
			if (c->sent < c->reqlen) {
				r = write(c->fd, c->req + c->sent,
				    c->reqlen - c->sent);
				if (r > 0)
					c->sent += (size_t)r;
				else if (r < 0 && errno != EAGAIN) {
					finish(c);
					left--;
				}
				continue;
			}
			r = read(c->fd, tmp, sizeof(tmp));
			if (r > 0) {
				size_t k = (size_t)r;

				if (k > HEAD_MAX - c->got)
					k = HEAD_MAX - c->got;
				memcpy(c->head + c->got, tmp, k);
				c->got += k;
			} else if (r == 0 || errno != EAGAIN) {
				finish(c);
				left--;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (!cs[i].done)
			continue;
		if (cs[i].status <= 0 || cs[i].status >= 600)
			continue;
		status[cs[i].status]++;
		lat[answered++] = cs[i].ms;
		if (cs[i].ms > maxms)
			maxms = cs[i].ms;
		if ((cs[i].status == 429 || cs[i].status == 503) &&
		    !cs[i].retry_after)
			noretry++;
	}
	qsort(lat, (size_t)answered, sizeof(lat[0]), cmp_double);
	printf("{\"n\":%d,\"answered\":%d,\"unanswered\":%d,\"p50_ms\":%.1f,"
	    "\"max_ms\":%.1f,\"refused_without_retry_after\":%d,"
	    "\"status\":{", n, answered, n - answered,
	    answered ? lat[answered / 2] : 0.0, maxms, noretry);
	for (i = 0, opt = 0; i < 600; i++)
		if (status[i] > 0)
			printf("%s\"%d\":%d", opt++ ? "," : "", i, status[i]);
	printf("}}\n");
	return 0;
}
