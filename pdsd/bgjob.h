/*
 * bgjob: the lifecycle an admin command's background job shares with
 * the others (backup, export and import; blobstore_migrate uses the
 * thread part): one job of a kind at a time, on its own thread, shared
 * by that thread and the admin stream reporting on it, so counted, and
 * cancelled when the stream goes away or pdsd stops.
 *
 * A job type embeds struct bgjob, whose mutex also guards the type's
 * own progress fields; the first failure is kept for the stream to
 * answer with.
 */
#ifndef PDSD_BGJOB_H
#define PDSD_BGJOB_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#include "admin_socket.h"

struct bgjob {
	pthread_mutex_t	 mu;
	int		 refs;
	bool		 abort, done;	/* under mu */
	int		 rc;		/* the first failure, under mu */
	const char	*err_name;	/* its AP_E_* name */
	char		 msg[256];
};

/* The job of one kind that runs (or NULL) and its thread. */
struct bgjob_slot {
	pthread_mutex_t	 mu;
	struct bgjob	*running;
	pthread_t	 thread;
	bool		 joinable;	/* started and not yet joined */
};

#define BGJOB_SLOT_INITIALIZER	{ .mu = PTHREAD_MUTEX_INITIALIZER }

/* A new job: one reference (the caller's). */
void	bgjob_init(struct bgjob *);
/*
 * Drop a reference; true when it was the last, and then the mutex is
 * gone and the caller frees the rest.
 */
bool	bgjob_release(struct bgjob *);
/* Keep the first failure: rc, its AP_E_* name and a message. */
void	bgjob_fail(struct bgjob *, int rc, const char *name, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));
void	bgjob_vfail(struct bgjob *, int rc, const char *name, const char *fmt,
	    va_list) __attribute__((format(printf, 4, 0)));
bool	bgjob_aborted(struct bgjob *);
/* Ask the job to stop, unless it is done (its stream went away). */
void	bgjob_cancel(struct bgjob *);
/* The audit row of a finished job: "ok", or "failed" with its error. */
void	bgjob_audit(const struct bgjob *, const struct admin_actor *,
	    const char *action, const char *subject);
/* Answer the stream with the job's failure. */
enum admin_stream_rc bgjob_stream_error(struct admin_call *,
	    const struct bgjob *);

/*
 * Start run(self) on the slot's thread and the call's stream over self
 * (ops), unless a job of the kind is running (PDS_EEXIST) or the thread
 * cannot start (PDS_EIO); on failure the caller keeps its reference.
 * The thread calls bgjob_finished() before it lets go of its own.
 */
int	bgjob_start(struct bgjob_slot *, struct bgjob *, void *self,
	    void *(*run)(void *), struct admin_call *,
	    const struct admin_stream_ops *ops);
void	bgjob_finished(struct bgjob_slot *);
/*
 * Only start run(arg) on the slot's thread (PDS_EIO if it cannot), for
 * a job that keeps its own state; bgjob_reap() first.
 */
int	bgjob_spawn(struct bgjob_slot *, void *(*run)(void *), void *arg);
/* Join the slot's thread if it was started and has not been joined. */
void	bgjob_reap(struct bgjob_slot *);
/* At shutdown: cancel the running job and wait for its thread. */
void	bgjob_stop(struct bgjob_slot *);

/* Refuse an admin call: rc, with an AP_E_* name and a message. */
int	bgjob_refuse(struct admin_call *, int rc, const char *name,
	    const char *msg);

#endif
