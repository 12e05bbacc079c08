/*
 * hang: a loopback HTTP host for the outbound stress test.  It listens
 * on 127.0.0.1 (an ephemeral port, printed on stdout) and
 *   - without FILE accepts every connection and never answers (a host
 *     that hangs: the worst a did:web or a handle's host can do),
 *   - with FILE answers every request with FILE's bytes as JSON (a
 *     did:web document), read anew for each request (so a test may
 *     write it once it knows the port).
 * It runs until killed.  With -n N it listens on N ports (one a line)
 * and never answers on any: N hosts that hang.
 *
 * usage: hang [FILE] | hang -n N
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KEEP_MAX	8192

static char	doc[65536];
static size_t	doclen;

static void
answer(int fd, const char *file)
{
	char	 buf[8192], head[256];
	size_t	 got = 0;
	ssize_t	 r;
	int	 n;
	FILE	*f;

	doclen = 0;
	if ((f = fopen(file, "r")) != NULL) {
		doclen = fread(doc, 1, sizeof(doc), f);
		fclose(f);
	}

	/* Read the request head, then answer and close. */
	while (got < sizeof(buf) - 1 &&
	    (r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", doclen);
	(void)!write(fd, head, (size_t)n);
	(void)!write(fd, doc, doclen);
	close(fd);
}

static void *
hold(void *arg)
{
	int	s = (int)(intptr_t)arg;

	while (accept(s, NULL, NULL) >= 0)
		;	/* each connection held open, never read */
	return NULL;
}

/* One more listener on 127.0.0.1; its port, or 0. */
static unsigned
listener(int *sp)
{
	struct sockaddr_in	 sa = { .sin_family = AF_INET };
	socklen_t		 sl = sizeof(sa);
	int			 s, one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s, 1024) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) != 0)
		return 0;
	*sp = s;
	return ntohs(sa.sin_port);
}

static int
many(int n)
{
	pthread_t	 t;
	unsigned	 port;
	int		 i, s;

	for (i = 0; i < n; i++) {
		if ((port = listener(&s)) == 0 || pthread_create(&t, NULL,
		    hold, (void *)(intptr_t)s) != 0) {
			perror("hang: listen");
			return 1;
		}
		printf("%u\n", port);
	}
	fflush(stdout);
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sa = { .sin_family = AF_INET };
	socklen_t		 sl = sizeof(sa);
	int			 s, fd, nkept = 0, one = 1;

	if (argc == 3 && strcmp(argv[1], "-n") == 0)
		return many(atoi(argv[2]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s, 1024) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) != 0) {
		perror("hang: listen");
		return 1;
	}
	printf("%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		if ((fd = accept(s, NULL, NULL)) < 0)
			continue;
		if (argc == 2)
			answer(fd, argv[1]);
		else if (nkept < KEEP_MAX)
			nkept++;	/* fd held open, never read */
		else
			close(fd);
	}
}
