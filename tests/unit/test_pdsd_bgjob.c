/*
 * test_pdsd_bgjob: the admin jobs' shared lifecycle: the first failure
 * is the one kept and answered, a done job ignores a cancel, the last
 * reference is reported once, a slot runs one job at a time (a second
 * start is PDS_EEXIST, the call's stream is set only on success), and
 * bgjob_stop() cancels the running job and joins its thread.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../pdsd/admin_socket.h"
#include "../../pdsd/bgjob.h"
#include "adminproto.h"
#include "err.h"

#include "t.h"

static struct bgjob_slot	 slot = BGJOB_SLOT_INITIALIZER;

static enum admin_stream_rc
tick(struct admin_call *call, void *state, int *next_ms)
{
	(void)call;
	(void)state;
	*next_ms = 0;
	return ADMIN_STREAM_END;
}

static void
state_free(void *state)
{
	(void)state;
}

static const struct admin_stream_ops	 ops = { tick, state_free };

/* A job's thread: run until cancelled, like a long copy. */
static void *
until_cancelled(void *arg)
{
	struct bgjob		*j = arg;
	struct timespec		 ts = { 0, 1000000 };

	while (!bgjob_aborted(j))
		nanosleep(&ts, NULL);
	bgjob_fail(j, PDS_EIO, AP_E_IO_ERROR, "%s", "cancelled");
	pthread_mutex_lock(&j->mu);
	j->done = true;
	pthread_mutex_unlock(&j->mu);
	bgjob_finished(&slot);
	(void)bgjob_release(j);
	return NULL;
}

static void
test_failures(void)
{
	struct bgjob		 j;
	struct admin_call	 call;

	t_group("failures");
	memset(&j, 0, sizeof(j));
	bgjob_init(&j);
	CHECK(j.refs == 1, "refs %d", j.refs);
	bgjob_fail(&j, PDS_ENOTFOUND, AP_E_NO_SUCH_ACCOUNT, "first %d", 1);
	bgjob_fail(&j, PDS_EIO, AP_E_INTERNAL, "%s", "second");
	CHECK(j.rc == PDS_ENOTFOUND, "rc %d", j.rc);
	memset(&call, 0, sizeof(call));
	CHECK(bgjob_stream_error(&call, &j) == ADMIN_STREAM_ERROR, "rc");
	CHECK(call.err.name != NULL &&
	    strcmp(call.err.name, AP_E_NO_SUCH_ACCOUNT) == 0, "name %s",
	    call.err.name ? call.err.name : "(null)");
	CHECK(strcmp(call.err.e.msg, "first 1") == 0, "msg %s",
	    call.err.e.msg);

	/* no name given: an I/O error */
	j.err_name = NULL;
	memset(&call, 0, sizeof(call));
	(void)bgjob_stream_error(&call, &j);
	CHECK(call.err.name != NULL &&
	    strcmp(call.err.name, AP_E_IO_ERROR) == 0, "default name");

	memset(&call, 0, sizeof(call));
	CHECK(bgjob_refuse(&call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
	    "no") == PDS_EINVAL, "refuse rc");
	CHECK(strcmp(call.err.name, AP_E_INVALID_ARGUMENT) == 0 &&
	    strcmp(call.err.e.msg, "no") == 0, "refuse err");

	/* a cancel reaches a running job, not a done one */
	bgjob_cancel(&j);
	CHECK(bgjob_aborted(&j), "cancel a running job");
	j.abort = false;
	j.done = true;
	bgjob_cancel(&j);
	CHECK(!bgjob_aborted(&j), "cancel a done job");

	j.refs = 2;
	CHECK(!bgjob_release(&j), "not the last reference");
	CHECK(bgjob_release(&j), "the last reference");
	t_group_end();
}

static void
test_slot(void)
{
	struct bgjob		 a, b;
	struct admin_call	 call;
	int			 rc;

	t_group("slot");
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	bgjob_init(&a);
	bgjob_init(&b);
	memset(&call, 0, sizeof(call));
	rc = bgjob_start(&slot, &a, &a, until_cancelled, &call, &ops);
	CHECK(rc == PDS_OK, "start: %d", rc);
	CHECK(call.stream == &ops && call.stream_state == &a &&
	    call.first_ms == 0, "the stream is set");
	CHECK(slot.running == &a && slot.joinable, "a runs");

	memset(&call, 0, sizeof(call));
	rc = bgjob_start(&slot, &b, &b, until_cancelled, &call, &ops);
	CHECK(rc == PDS_EEXIST, "a second start: %d", rc);
	CHECK(call.stream == NULL, "no stream for the refused one");
	CHECK(b.refs == 1, "the caller keeps its reference: %d", b.refs);

	bgjob_stop(&slot);
	CHECK(slot.running == NULL && !slot.joinable, "stopped and joined");
	CHECK(a.rc == PDS_EIO, "the job saw the cancel");
	CHECK(bgjob_release(&a), "the stream's was the last reference");

	/* the slot is free again: b starts, is stopped */
	memset(&call, 0, sizeof(call));
	rc = bgjob_start(&slot, &b, &b, until_cancelled, &call, &ops);
	CHECK(rc == PDS_OK, "start after stop: %d", rc);
	bgjob_stop(&slot);
	CHECK(bgjob_release(&b), "b released");
	bgjob_stop(&slot);	/* nothing running: a no-op */
	CHECK(slot.running == NULL && !slot.joinable, "idle");
	t_group_end();
}

int
main(void)
{
	test_failures();
	test_slot();
	return t_done("test_pdsd_bgjob");
}
