/*
 * test_pdsd_offload: the offload pools' bounds (a full queue refuses
 * with PDS_EBUSY, one client past its cap with PDS_ERATELIMIT, both
 * with a Retry-After of at least a second, and the slots come back when
 * the jobs end), the worker guard, and the resolver's failure cache
 * against a loopback host that accepts connections and never answers:
 * the first look waits the timeout, the next ones fail at once without
 * a connection, a guarded look never connects, resolver_forget()
 * clears the failure.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../../pdsd/offload.h"
#include "../../pdsd/outbound.h"
#include "../../pdsd/plc_client.h"
#include "../../pdsd/resolver.h"
#include "clock.h"
#include "err.h"
#include "log.h"

#include "t.h"

/* ---- jobs that wait at a gate ---- */

static pthread_mutex_t	gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	gate_cv = PTHREAD_COND_INITIALIZER;
static bool		gate_open;
static atomic_int	ran;

static void
gated_job(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate_mu);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	atomic_fetch_add(&ran, 1);
}

static void
gate(bool open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* Wait (up to 2 s) until the net pool has `running' and `queued'. */
static bool
wait_pool(unsigned running, unsigned queued)
{
	struct offload_stats	 st;
	int			 i;

	for (i = 0; i < 200; i++) {
		offload_get_stats(OFFLOAD_NET, &st);
		if (st.running == running && st.queued == queued)
			return true;
		usleep(10000);
	}
	return false;
}

static void
test_bounds(void)
{
	struct offload_stats	 st;
	unsigned		 retry = 0;
	int			 rc;

	t_group("bounds");
	gate(false);
	/* net: 1 thread, 2 queued at most, 2 per client */
	rc = offload_submit(OFFLOAD_NET, "10.0.0.1", gated_job, NULL, &retry);
	CHECK(rc == PDS_OK, "first job: %d", rc);
	CHECK(wait_pool(1, 0), "the first job runs");
	rc = offload_submit(OFFLOAD_NET, "10.0.0.1", gated_job, NULL, &retry);
	CHECK(rc == PDS_OK, "second job of the client, queued: %d", rc);
	rc = offload_submit(OFFLOAD_NET, "10.0.0.1", gated_job, NULL, &retry);
	CHECK(rc == PDS_ERATELIMIT, "a third of the same client: %d", rc);
	CHECK(retry >= 1, "with a Retry-After: %u", retry);
	rc = offload_submit(OFFLOAD_NET, "10.0.0.2", gated_job, NULL, &retry);
	CHECK(rc == PDS_OK, "another client still fits the queue: %d", rc);
	CHECK(wait_pool(1, 2), "one running, two queued");
	retry = 0;
	rc = offload_submit(OFFLOAD_NET, "10.0.0.3", gated_job, NULL, &retry);
	CHECK(rc == PDS_EBUSY, "a full queue refuses anyone: %d", rc);
	CHECK(retry >= 1, "with a Retry-After: %u", retry);
	rc = offload_submit(OFFLOAD_NET, NULL, gated_job, NULL, NULL);
	CHECK(rc == PDS_EBUSY, "even a job of no client: %d", rc);
	/* the other pool is not affected */
	rc = offload_submit(OFFLOAD_CPU, "10.0.0.3", gated_job, NULL, NULL);
	CHECK(rc == PDS_OK, "the cpu pool has its own queue: %d", rc);

	offload_get_stats(OFFLOAD_NET, &st);
	CHECK(st.refused_busy == 2 && st.refused_client == 1,
	    "refusals counted: busy %lu, client %lu", st.refused_busy,
	    st.refused_client);
	gate(true);
	CHECK(wait_pool(0, 0), "the jobs finish");
	/* the cpu pool's job finishes on its own thread: wait for it too */
	for (rc = 0; rc < 200 && atomic_load(&ran) < 4; rc++)
		usleep(10000);
	usleep(20000);			/* and nothing runs twice */
	CHECK(atomic_load(&ran) == 4, "every accepted job ran once: %d",
	    atomic_load(&ran));
	rc = offload_submit(OFFLOAD_NET, "10.0.0.1", gated_job, NULL, NULL);
	CHECK(rc == PDS_OK, "the client's slots came back: %d", rc);
	CHECK(wait_pool(0, 0), "and that job ran too");
	t_group_end();
}

/* ---- the guard and the failure cache ---- */

static int		 hang_fd = -1;
static atomic_int	 accepted;

static void *
hang_main(void *arg)
{
	int	fd;

	(void)arg;
	while ((fd = accept(hang_fd, NULL, NULL)) >= 0)
		atomic_fetch_add(&accepted, 1);	/* held, never answered */
	return NULL;
}

static uint16_t
hang_start(void)
{
	struct sockaddr_in	 sa = { .sin_family = AF_INET };
	socklen_t		 sl = sizeof(sa);
	pthread_t		 t;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((hang_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(hang_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(hang_fd, 64) != 0 ||
	    getsockname(hang_fd, (struct sockaddr *)&sa, &sl) != 0 ||
	    pthread_create(&t, NULL, hang_main, NULL) != 0)
		return 0;
	pthread_detach(t);
	return ntohs(sa.sin_port);
}

static void
test_failure_cache(void)
{
	struct resolver_config	 rc;
	struct outbound_config	 oc;
	json_t			*doc = NULL;
	char			 did[64], out[256];
	uint16_t		 port;
	int64_t			 t0, ms;
	int			 r;

	t_group("failure cache");
	memset(&oc, 0, sizeof(oc));
	oc.allow_private = true;	/* loopback, as in dev mode */
	memset(&rc, 0, sizeof(rc));
	rc.timeout_ms = 300;
	rc.failure_ttl_ms = 60000;
	rc.allow_test_tld = true;
	port = hang_start();
	CHECK(port != 0, "a hung loopback host");
	CHECK(outbound_init(&oc) == PDS_OK && plc_client_init(
	    "http://127.0.0.1:9", 0) == PDS_OK && resolver_init(&rc) ==
	    PDS_OK, "set-up");
	snprintf(did, sizeof(did), "did:web:localhost%%3A%u", port);

	t0 = clock_mono_ms();
	r = resolver_did_doc(did, &doc);
	ms = clock_mono_ms() - t0;
	CHECK(r == PDS_EIO, "a host that never answers: %d", r);
	CHECK(ms >= 250 && ms < 2000, "after the timeout: %lld ms",
	    (long long)ms);
	CHECK(atomic_load(&accepted) >= 1, "it connected");

	r = atomic_load(&accepted);
	t0 = clock_mono_ms();
	CHECK(resolver_did_doc(did, &doc) == PDS_EIO, "again: the same error");
	ms = clock_mono_ms() - t0;
	CHECK(ms < 100, "at once, from the failure cache: %lld ms",
	    (long long)ms);
	usleep(50000);
	CHECK(atomic_load(&accepted) == r, "without a connection");

	/* A guarded thread never goes to the network. */
	CHECK(!offload_would_block(), "unguarded: calls may block");
	offload_guard_begin(OFFLOAD_GUARD_RETRY);
	CHECK(offload_guard() == OFFLOAD_GUARD_RETRY, "guarded");
	t0 = clock_mono_ms();
	r = resolver_handle("nobody.test", out, sizeof(out));
	ms = clock_mono_ms() - t0;
	CHECK(offload_guard_end(), "the guard noted the handle look-up");
	CHECK(r == PDS_EIO && ms < 100, "refused at once: %d, %lld ms", r,
	    (long long)ms);
	CHECK(!offload_guard_end(), "the guard's note is cleared");

	/* resolver_forget() clears the failure; the next look connects */
	resolver_forget(did);
	r = atomic_load(&accepted);
	offload_guard_begin(OFFLOAD_GUARD_RETRY);
	CHECK(resolver_did_doc(did, &doc) == PDS_EIO, "guarded: EIO");
	CHECK(offload_guard_end(), "and noted");
	usleep(50000);
	CHECK(atomic_load(&accepted) == r, "without a connection");
	CHECK(resolver_did_doc(did, &doc) == PDS_EIO, "unguarded: EIO");
	usleep(50000);
	CHECK(atomic_load(&accepted) == r + 1,
	    "after the forget, a connection again: %d", atomic_load(&accepted));
	resolver_shutdown();
	t_group_end();
}

int
main(void)
{
	struct offload_config	 c;

	log_init("test_pdsd_offload", 0, 0);
	/* the guard is off while the pools are not running */
	offload_guard_begin(OFFLOAD_GUARD_RETRY);
	CHECK(!offload_would_block(), "no pools: nothing is guarded");
	(void)offload_guard_end();

	memset(&c, 0, sizeof(c));
	c.threads[OFFLOAD_NET] = 1;
	c.threads[OFFLOAD_CPU] = 1;
	c.queue[OFFLOAD_NET] = 2;
	c.queue[OFFLOAD_CPU] = 1;
	c.client_max = 2;
	CHECK(offload_start(&c) == PDS_OK, "pools start");
	test_bounds();
	test_failure_cache();
	offload_stop();
	return t_done("test_pdsd_offload");
}
