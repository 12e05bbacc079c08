/*
 * hang: a loopback HTTP host for the outbound stress test.  It listens
 * on 127.0.0.1 (an ephemeral port, printed on stdout) and
 *   - without FILE accepts every connection and never answers (a host
 *     that hangs: the worst a did:web or a handle's host can do),
 *   - with FILE answers every request with FILE's bytes as JSON (a
 *     did:web document), read anew for each request (so a test may
 *     write it once it knows the port).
 * It runs until killed.
 *
 * usage: hang [FILE]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sa = { .sin_family = AF_INET };
	socklen_t		 sl = sizeof(sa);
	int			 s, fd, nkept = 0, one = 1;
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
