/*
 * t_http: a plain HTTP/1.1 client for the unit tests that start pdsd's
 * server on 127.0.0.1 (test_pdsd_xrpc, _auth, _oauth_as,
 * _oauth_resource): one request per connection, the whole reply read.
 * Include after t.h; needs _GNU_SOURCE (asprintf), as the build sets.
 */
#ifndef T_HTTP_H
#define T_HTTP_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

struct t_resp {
	char		*raw;		/* the whole reply */
	unsigned	 status;
	const char	*body;		/* into raw */
	json_t		*json;		/* body, if JSON */
};

static inline void
t_resp_free(struct t_resp *r)
{
	free(r->raw);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * method path to 127.0.0.1:port with the extra header lines headers
 * (each ending in CRLF; may be NULL), a Content-Length header when
 * cl >= 0, then len bytes of body.  0 with *r filled (free it with
 * t_resp_free), or -1 when no HTTP reply came back.
 */
static inline int
t_request(struct t_resp *r, uint16_t port, const char *method,
    const char *path, const char *headers, long cl, const char *body,
    size_t len)
{
	struct sockaddr_in sin;
	char		 clh[48] = "", *head, *nr;
	size_t		 cap = 65536, n = 0;
	ssize_t		 k;
	int		 fd, hn;

	memset(r, 0, sizeof(*r));
	if (cl >= 0)
		snprintf(clh, sizeof(clh), "Content-Length: %ld\r\n", cl);
	hn = asprintf(&head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s%s\r\n", method, path,
	    headers != NULL ? headers : "", clh);
	if (hn == -1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		free(head);
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		free(head);
		close(fd);
		return -1;
	}
	(void)send(fd, head, (size_t)hn, MSG_NOSIGNAL);
	free(head);
	if (body != NULL && len > 0)
		(void)send(fd, body, len, MSG_NOSIGNAL);
	r->raw = malloc(cap);
	while (r->raw != NULL) {
		if (cap - n < 4096) {
			if ((nr = realloc(r->raw, cap * 2)) == NULL)
				break;
			r->raw = nr;
			cap *= 2;
		}
		if ((k = recv(fd, r->raw + n, cap - n - 1, 0)) <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	if (r->raw == NULL)
		return -1;
	r->raw[n] = '\0';
	if (sscanf(r->raw, "HTTP/1.%*c %u", &r->status) != 1)
		return -1;
	r->body = strstr(r->raw, "\r\n\r\n");
	r->body = r->body != NULL ? r->body + 4 : "";
	r->json = json_loads(r->body, 0, NULL);
	return 0;
}

/* A reply header's value (case-insensitive name), or NULL; static. */
static inline const char *
t_header(const struct t_resp *r, const char *name)
{
	static char	 v[512];
	const char	*p = r->raw, *e;
	size_t		 nl = strlen(name), n;

	while ((p = strstr(p, "\r\n")) != NULL && p + 2 < r->body) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			for (p += nl + 1; *p == ' '; p++)
				;
			e = strstr(p, "\r\n");
			n = (size_t)(e - p) < sizeof(v) ? (size_t)(e - p) :
			    sizeof(v) - 1;
			memcpy(v, p, n);
			v[n] = '\0';
			return v;
		}
	}
	return NULL;
}

#endif
