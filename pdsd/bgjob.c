/*
 * bgjob: the shared lifecycle of the admin commands' background jobs
 * (bgjob.h).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "admin_service.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "bgjob.h"
#include "err.h"

void
bgjob_init(struct bgjob *j)
{
	pthread_mutex_init(&j->mu, NULL);
	j->refs = 1;
}

bool
bgjob_release(struct bgjob *j)
{
	bool	 last;

	pthread_mutex_lock(&j->mu);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (last)
		pthread_mutex_destroy(&j->mu);
	return last;
}

void
bgjob_vfail(struct bgjob *j, int rc, const char *name, const char *fmt,
    va_list ap)
{
	pthread_mutex_lock(&j->mu);
	if (j->rc == PDS_OK) {
		j->rc = rc;
		j->err_name = name;
		vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
	}
	pthread_mutex_unlock(&j->mu);
}

void
bgjob_fail(struct bgjob *j, int rc, const char *name, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	bgjob_vfail(j, rc, name, fmt, ap);
	va_end(ap);
}

bool
bgjob_aborted(struct bgjob *j)
{
	bool	 a;

	pthread_mutex_lock(&j->mu);
	a = j->abort;
	pthread_mutex_unlock(&j->mu);
	return a;
}

void
bgjob_cancel(struct bgjob *j)
{
	pthread_mutex_lock(&j->mu);
	if (!j->done)
		j->abort = true;
	pthread_mutex_unlock(&j->mu);
}

void
bgjob_audit(const struct bgjob *j, const struct admin_actor *actor,
    const char *action, const char *subject)
{
	admin_audit(actor, action, subject, NULL, j->rc == PDS_OK ? "ok" :
	    "failed", j->rc == PDS_OK ? NULL : j->err_name, NULL);
}

enum admin_stream_rc
bgjob_stream_error(struct admin_call *call, const struct bgjob *j)
{
	call->err.name = j->err_name != NULL ? j->err_name : AP_E_IO_ERROR;
	snprintf(call->err.e.msg, sizeof(call->err.e.msg), "%s", j->msg);
	return ADMIN_STREAM_ERROR;
}

int
bgjob_start(struct bgjob_slot *s, struct bgjob *j, void *self,
    void *(*run)(void *), struct admin_call *call,
    const struct admin_stream_ops *ops)
{
	pthread_mutex_lock(&s->mu);
	if (s->running != NULL) {
		pthread_mutex_unlock(&s->mu);
		return PDS_EEXIST;
	}
	bgjob_reap(s);	/* the last one finished: join it */
	j->refs = 2;	/* the thread's and the stream's */
	if (bgjob_spawn(s, run, self) != PDS_OK) {
		pthread_mutex_unlock(&s->mu);
		j->refs = 1;
		return PDS_EIO;
	}
	s->running = j;
	pthread_mutex_unlock(&s->mu);
	call->stream = ops;
	call->stream_state = self;
	call->first_ms = 0;
	return PDS_OK;
}

int
bgjob_spawn(struct bgjob_slot *s, void *(*run)(void *), void *arg)
{
	if (pthread_create(&s->thread, NULL, run, arg) != 0)
		return PDS_EIO;
	s->joinable = true;
	return PDS_OK;
}

void
bgjob_finished(struct bgjob_slot *s)
{
	pthread_mutex_lock(&s->mu);
	s->running = NULL;
	pthread_mutex_unlock(&s->mu);
}

void
bgjob_reap(struct bgjob_slot *s)
{
	if (s->joinable) {
		pthread_join(s->thread, NULL);
		s->joinable = false;
	}
}

void
bgjob_stop(struct bgjob_slot *s)
{
	pthread_mutex_lock(&s->mu);
	if (s->running != NULL)
		bgjob_cancel(s->running);
	pthread_mutex_unlock(&s->mu);
	bgjob_reap(s);
}

int
bgjob_refuse(struct admin_call *call, int rc, const char *name,
    const char *msg)
{
	call->err.name = name;
	snprintf(call->err.e.msg, sizeof(call->err.e.msg), "%s", msg);
	return rc;
}
