/*
 * crawlers: requestCrawl to the configured relays.  See crawlers.h.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "crawlers.h"
#include "err.h"
#include "log.h"
#include "outbound.h"
#include "thread.h"

#define CRAWL_URL_MAX	2048

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;
static pthread_t	 thr;
static bool		 running, stopping, pending;
static const struct config *ccfg;
static int64_t		*last_ms;	/* per relay, unix ms; 0: never */
static struct crawlers_stats st;

static void
crawl_one(const char *relay, const json_t *body)
{
	char	 url[CRAWL_URL_MAX], err[256];
	json_t	*resp = NULL;
	long	 status = 0;
	size_t	 n = strlen(relay);
	int	 rc;

	while (n > 0 && relay[n - 1] == '/')
		n--;
	if ((size_t)snprintf(url, sizeof(url),
	    "%.*s/xrpc/com.atproto.sync.requestCrawl", (int)n, relay) >=
	    sizeof(url)) {
		log_warnx("crawler %s: URL too long", relay);
		return;
	}
	err[0] = '\0';
	rc = outbound_json(url, body, OUTBOUND_TRUSTED, 10000, 0, &status,
	    &resp, err, sizeof(err));
	json_decref(resp);
	pthread_mutex_lock(&mu);
	st.last_ms = clock_wall_ms();
	if (rc == PDS_OK && status >= 200 && status <= 299) {
		st.sent++;
		st.last_ok_ms = st.last_ms;
	} else
		st.failed++;
	pthread_mutex_unlock(&mu);
	if (rc != PDS_OK)
		log_warnx("requestCrawl %s: %s", relay, err[0] ? err :
		    pds_strerror(rc));
	else if (status < 200 || status > 299)
		log_warnx("requestCrawl %s: HTTP %ld", relay, status);
	else
		log_info("requestCrawl %s: ok", relay);
}

static void *
crawl_main(void *arg)
{
	json_t	*body;
	size_t	 i;
	int64_t	 now;
	bool	 due;

	body = json_pack("{s:s}", "hostname", ccfg->hostname);
	pthread_mutex_lock(&mu);
	while (!stopping) {
		if (!pending) {
			pthread_cond_wait(&cv, &mu);
			continue;
		}
		pending = false;
		for (i = 0; i < ccfg->crawlers.n && !stopping; i++) {
			now = clock_wall_ms();
			due = last_ms[i] == 0 ||
			    now - last_ms[i] >= CRAWLERS_INTERVAL_MS;
			if (!due || body == NULL)
				continue;
			last_ms[i] = now;
			pthread_mutex_unlock(&mu);
			crawl_one(ccfg->crawlers.v[i], body);
			pthread_mutex_lock(&mu);
		}
	}
	pthread_mutex_unlock(&mu);
	json_decref(body);
	return NULL;
}

int
crawlers_start(const struct config *cfg)
{
	ccfg = cfg;
	if (cfg->crawlers.n == 0 || cfg->hostname == NULL)
		return PDS_OK;
	if ((last_ms = calloc(cfg->crawlers.n, sizeof(*last_ms))) == NULL)
		return PDS_ENOMEM;
	stopping = pending = false;
	if (pthread_create(&thr, NULL, crawl_main, NULL) != 0) {
		free(last_ms);
		last_ms = NULL;
		return PDS_EIO;
	}
	running = true;
	return PDS_OK;
}

void
crawlers_stop(void)
{
	if (!running)
		return;
	thread_stop(thr, &mu, &cv, &stopping);
	running = false;
	free(last_ms);
	last_ms = NULL;
}

void
crawlers_notify(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	if (!pending) {
		pending = true;
		pthread_cond_signal(&cv);
	}
	pthread_mutex_unlock(&mu);
}

void
crawlers_note_ok(void)
{
	pthread_mutex_lock(&mu);
	st.sent++;
	st.last_ok_ms = st.last_ms = clock_wall_ms();
	pthread_mutex_unlock(&mu);
}

void
crawlers_stats(struct crawlers_stats *out)
{
	pthread_mutex_lock(&mu);
	*out = st;
	pthread_mutex_unlock(&mu);
}
