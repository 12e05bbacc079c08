/*
 * blobstore_migrate: `pdsctl blobstore migrate --to s3|disk', online.
 *
 * The admin command "blobstore.migrate" {to} first makes `to' the store
 * new uploads go to (remembered in <data>/blobstore.active, so a restart
 * keeps it), then a thread walks every blob row in (did, cid) order and
 * moves its bytes with blobs_move(): copied, verified against the CID
 * after the copy, and only then removed from the old store.  Reads look
 * in both stores meanwhile (blobs.c), so they keep working.  A blob
 * already only in `to' (an earlier, interrupted run) is counted and
 * skipped: running the command again resumes.  The stream reports
 * progress about every 200 ms and ends with the counts; if the client
 * goes away the move goes on, and a new call follows it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin_service.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "bgjob.h"
#include "blobs.h"
#include "blobstore.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "module.h"
#include "store_blobstore.h"

#define PAGE	64

struct mig {
	pthread_mutex_t	 mu;
	int		 to, from;
	bool		 running, abort;
	int64_t		 total, total_bytes;
	int64_t		 done, bytes, copied, already, missing, failed;
	double		 started, seconds;
	char		 last_error[200];
	struct admin_actor actor;
};

static struct mig	 mig = { .mu = PTHREAD_MUTEX_INITIALIZER };
static struct bgjob_slot mig_slot = BGJOB_SLOT_INITIALIZER;	/* its thread */

static const char *
kind_name(int k)
{
	return k == BLOBSTORE_S3 ? "s3" : "disk";
}

static void
count(const struct store_blobstore_row *r, enum blobs_moved what, int rc)
{
	pthread_mutex_lock(&mig.mu);
	mig.done++;
	mig.bytes += r->size;
	switch (what) {
	case BLOBS_MOVE_COPIED:		mig.copied++; break;
	case BLOBS_MOVE_ALREADY:	mig.already++; break;
	case BLOBS_MOVE_MISSING:	mig.missing++; break;
	default:
		mig.failed++;
		snprintf(mig.last_error, sizeof(mig.last_error), "%.80s/%.64s: %s",
		    r->did, r->cid, pds_strerror(rc));
	}
	pthread_mutex_unlock(&mig.mu);
}

static void *
mig_main(void *arg)
{
	struct store_blobstore_row *rows;
	char		 did[sizeof(rows->did)] = "", cid[CID_STR_MAX] = "";
	enum blobs_moved what;
	size_t		 i, n;
	bool		 stop = false;
	int		 rc;

	(void)arg;
	if ((rows = calloc(PAGE, sizeof(*rows))) == NULL)
		stop = true;
	while (!stop) {
		if (store_blobstore_page(did, cid, PAGE, rows, &n) != PDS_OK ||
		    n == 0)
			break;
		for (i = 0; i < n && !stop; i++) {
			rc = blobs_move(rows[i].did, rows[i].cid, rows[i].size,
			    rows[i].takendown, mig.from, mig.to, &what);
			count(&rows[i], what, rc);
			pthread_mutex_lock(&mig.mu);
			stop = mig.abort;
			pthread_mutex_unlock(&mig.mu);
		}
		snprintf(did, sizeof(did), "%s", rows[n - 1].did);
		snprintf(cid, sizeof(cid), "%s", rows[n - 1].cid);
	}
	free(rows);
	pthread_mutex_lock(&mig.mu);
	mig.running = false;
	mig.seconds = clock_mono_s() - mig.started;
	pthread_mutex_unlock(&mig.mu);
	log_info("blobs: moved to %s: %lld copied, %lld already there, "
	    "%lld missing, %lld failed", kind_name(mig.to),
	    (long long)mig.copied, (long long)mig.already,
	    (long long)mig.missing, (long long)mig.failed);
	admin_audit(&mig.actor, "blobstore.migrate", kind_name(mig.to), NULL,
	    mig.failed == 0 ? "ok" : "failed", NULL, NULL);
	return NULL;
}

static json_t *
progress_json(void)
{
	json_t	*o;

	pthread_mutex_lock(&mig.mu);
	o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:s?}",
	    "from", kind_name(mig.from), "to", kind_name(mig.to),
	    "done", (json_int_t)mig.done, "total", (json_int_t)mig.total,
	    "bytes", (json_int_t)mig.bytes,
	    "totalBytes", (json_int_t)mig.total_bytes,
	    "copied", (json_int_t)mig.copied,
	    "already", (json_int_t)mig.already,
	    "missing", (json_int_t)mig.missing,
	    "failed", (json_int_t)mig.failed,
	    "percent", mig.total > 0 ? (int)(mig.done * 100 / mig.total) : 100,
	    "lastError", mig.last_error[0] != '\0' ? mig.last_error : NULL);
	pthread_mutex_unlock(&mig.mu);
	return o;
}

static enum admin_stream_rc
mig_tick(struct admin_call *call, void *state, int *next_ms)
{
	json_t	*ev;
	bool	 running;

	(void)state;
	pthread_mutex_lock(&mig.mu);
	running = mig.running;
	pthread_mutex_unlock(&mig.mu);
	if ((ev = progress_json()) != NULL) {
		if (running)
			admin_stream_event(call, ev);
		else {
			json_object_set_new(ev, "seconds",
			    json_real(mig.seconds));
			call->result = ev;
			return ADMIN_STREAM_END;
		}
		json_decref(ev);
	}
	*next_ms = 200;
	return ADMIN_STREAM_MORE;
}

static void
mig_free(void *state)
{
	(void)state;
}

static const struct admin_stream_ops mig_ops = { mig_tick, mig_free };

int
blobstore_cmd_migrate(struct admin_call *call)
{
	const char	*to = json_string_value(json_object_get(call->args,
			    "to"));
	int		 k, rc;

	if (to == NULL || (strcmp(to, "s3") != 0 && strcmp(to, "disk") != 0))
		return bgjob_refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "to must be s3 or disk");
	k = strcmp(to, "s3") == 0 ? BLOBSTORE_S3 : BLOBSTORE_DISK;
	if (!blobstore_s3_configured())
		return bgjob_refuse(call, PDS_EINVAL, AP_E_NOT_AVAILABLE,
		    "S3 is not configured (PDS_BLOBSTORE_S3_BUCKET and its "
		    "keys): there is nothing to move between");
	pthread_mutex_lock(&mig.mu);
	if (mig.running) {
		rc = mig.to == k ? PDS_OK : PDS_EEXIST;
		pthread_mutex_unlock(&mig.mu);
		if (rc != PDS_OK)
			return bgjob_refuse(call, rc, AP_E_NOT_AVAILABLE,
			    "a move the other way is running");
		call->stream = &mig_ops;	/* follow the running one */
		call->first_ms = 0;
		return PDS_OK;
	}
	pthread_mutex_unlock(&mig.mu);
	bgjob_reap(&mig_slot);
	if ((rc = blobs_store_switch(k)) != PDS_OK)
		return bgjob_refuse(call, rc, AP_E_IO_ERROR,
		    "cannot record the new store in the data directory");
	pthread_mutex_lock(&mig.mu);
	mig.to = k;
	mig.from = k == BLOBSTORE_S3 ? BLOBSTORE_DISK : BLOBSTORE_S3;
	mig.done = mig.bytes = mig.copied = mig.already = mig.missing =
	    mig.failed = 0;
	mig.last_error[0] = '\0';
	mig.abort = false;
	mig.started = clock_mono_s();
	mig.actor = *call->actor;
	(void)store_blobstore_count(&mig.total, &mig.total_bytes);
	mig.running = true;
	pthread_mutex_unlock(&mig.mu);
	log_info("blobs: new uploads go to %s; moving %lld blobs there",
	    to, (long long)mig.total);
	if (bgjob_spawn(&mig_slot, mig_main, NULL) != PDS_OK) {
		pthread_mutex_lock(&mig.mu);
		mig.running = false;
		pthread_mutex_unlock(&mig.mu);
		return bgjob_refuse(call, PDS_EIO, AP_E_INTERNAL,
		    "cannot start the thread");
	}
	call->stream = &mig_ops;
	call->first_ms = 0;
	return PDS_OK;
}

static int
mig_init(const struct config *cfg)
{
	(void)cfg;
	return PDS_OK;
}

/* At shutdown: stop after the blob in hand; a new run resumes. */
static void
mig_fini(void)
{
	pthread_mutex_lock(&mig.mu);
	mig.abort = true;
	pthread_mutex_unlock(&mig.mu);
	bgjob_reap(&mig_slot);
}

PDSD_MODULE(blobstore_migrate, mig_init, mig_fini)
