/*
 * writeload: sustained createRecord on pdsd, and the write-ahead log's
 * size meanwhile.  CONNS threads, each on one keep-alive loopback
 * connection, post com.atproto.repo.createRecord back to back for
 * SECONDS, going round the accounts of ACCOUNTS (one "DID TOKEN" per
 * line).  Another thread samples the size of the file WAL every 10 ms.
 * Prints one line of JSON:
 *
 *	{"n":N,"ok":N,"failed":N,"secs":X,"wal_max":BYTES,"wal_end":BYTES}
 *
 * Only a 200 counts as ok.  A connection that breaks is opened again.
 *
 * usage: writeload PORT SECONDS CONNS ACCOUNTS WAL
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ACCTS_MAX	64
#define REQ_MAX		4096
#define RESP_MAX	16384

struct acct {
	char	 did[128];
	char	 token[1024];
};

static struct acct	 accts[ACCTS_MAX];
static int		 naccts;
static unsigned		 port;
static const char	*wal;
static double		 end_ms;
static atomic_long	 n_ok, n_failed;
static atomic_int	 running = 1;
static long long	 wal_max;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long long
wal_size(void)
{
	struct stat st;

	return stat(wal, &st) == 0 ? (long long)st.st_size : 0;
}

static int
dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { 10, 0 };
	int fd, one = 1;

	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request on fd; its HTTP status, or -1 if the connection broke. */
static int
one(int fd, const struct acct *a, long i)
{
	char body[512], req[REQ_MAX], resp[RESP_MAX], *hend, *cl;
	size_t got = 0, need;
	int blen, n, status;
	ssize_t r;

	blen = snprintf(body, sizeof(body), "{\"repo\":\"%s\",\"collection\":"
	    "\"app.bsky.feed.post\",\"record\":{\"$type\":"
	    "\"app.bsky.feed.post\",\"text\":\"stress post %ld\","
	    "\"createdAt\":\"2024-05-01T12:00:00.000Z\"}}", a->did, i);
	n = snprintf(req, sizeof(req), "POST /xrpc/com.atproto.repo."
	    "createRecord HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
	    "Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\n\r\n%s", a->token, blen, body);
	if (n <= 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) !=
	    n)
		return -1;
	for (;;) {
		if (got == sizeof(resp) - 1)
			return -1;
		if ((r = read(fd, resp + got, sizeof(resp) - 1 - got)) <= 0)
			return -1;
		got += (size_t)r;
		resp[got] = '\0';
		if ((hend = strstr(resp, "\r\n\r\n")) != NULL)
			break;
	}
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	need = 0;
	for (cl = resp; (cl = strchr(cl, '\n')) != NULL && cl < hend; cl++)
		if (strncasecmp(cl + 1, "content-length:", 15) == 0)
			need = strtoul(cl + 16, NULL, 10);
	need += (size_t)(hend + 4 - resp);
	while (got < need) {
		/* Bodies longer than the buffer are read and dropped. */
		size_t room = sizeof(resp) - 1 - (got % (sizeof(resp) - 1));

		if ((r = read(fd, resp, room)) <= 0)
			return -1;
		got += (size_t)r;
	}
	return status;
}

static void *
worker(void *arg)
{
	long id = (long)(intptr_t)arg, i;
	int fd = -1, st;

	for (i = 0; now_ms() < end_ms; i++) {
		if (fd == -1 && (fd = dial()) == -1) {
			atomic_fetch_add(&n_failed, 1);
			usleep(10000);
			continue;
		}
		st = one(fd, &accts[(id + i) % naccts], id * 1000000 + i);
		if (st == 200)
			atomic_fetch_add(&n_ok, 1);
		else
			atomic_fetch_add(&n_failed, 1);
		if (st == -1) {
			close(fd);
			fd = -1;
		}
	}
	if (fd != -1)
		close(fd);
	return NULL;
}

static void *
sampler(void *arg)
{
	long long sz;

	(void)arg;
	while (atomic_load(&running)) {
		if ((sz = wal_size()) > wal_max)
			wal_max = sz;
		usleep(10000);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t *th, smp;
	FILE *f;
	double t0;
	char line[1200];
	int conns, i;

	if (argc != 6) {
		fprintf(stderr, "usage: writeload PORT SECONDS CONNS ACCOUNTS "
		    "WAL\n");
		return 2;
	}
	port = (unsigned)atoi(argv[1]);
	conns = atoi(argv[3]);
	wal = argv[5];
	if ((f = fopen(argv[4], "r")) == NULL) {
		perror(argv[4]);
		return 2;
	}
	while (naccts < ACCTS_MAX && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%127s %1023s", accts[naccts].did,
		    accts[naccts].token) == 2)
			naccts++;
	fclose(f);
	if (naccts == 0 || conns < 1 ||
	    (th = calloc((size_t)conns, sizeof(*th))) == NULL) {
		fprintf(stderr, "writeload: no accounts or connections\n");
		return 2;
	}
	pthread_create(&smp, NULL, sampler, NULL);
	t0 = now_ms();
	end_ms = t0 + atof(argv[2]) * 1e3;
	for (i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	for (i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	atomic_store(&running, 0);
	pthread_join(smp, NULL);
	printf("{\"n\":%ld,\"ok\":%ld,\"failed\":%ld,\"secs\":%.1f,"
	    "\"wal_max\":%lld,\"wal_end\":%lld}\n",
	    atomic_load(&n_ok) + atomic_load(&n_failed), atomic_load(&n_ok),
	    atomic_load(&n_failed), (now_ms() - t0) / 1e3, wal_max,
	    wal_size());
	free(th);
	return 0;
}
