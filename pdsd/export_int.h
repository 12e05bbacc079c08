/*
 * export_int: the job export.c and import.c share: one at a time, on
 * its own thread, reporting progress to an admin stream.
 */
#ifndef PDSD_EXPORT_INT_H
#define PDSD_EXPORT_INT_H

#include <sys/types.h>

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "admin_service.h"
#include "bgjob.h"
#include "syntax.h"

struct admin_call;
struct config;

struct xjob {
	struct bgjob		 bg;		/* its mu guards progress */
	unsigned		 serial, reported;
	const char		*what;		/* "export", "import" */
	void			(*run)(struct xjob *);
	/* progress, under mu */
	size_t			 acc_done, acc_total;
	size_t			 blobs_done, blobs_total;
	char			 cur[DID_MAX + 1];
	/* the thread's */
	size_t			 skipped, blobs, reused;
	int64_t			 bytes;
	double			 seconds;
	json_t			*extra;		/* added to the result */
	int			 dirfd;
	uid_t			 uid;
	bool			 secrets;
	struct admin_actor	 actor;
	char			**dids;
	size_t			 ndids;
	char			 dest[PATH_MAX];
};

extern const struct config *xcfg_export;

struct xjob *xjob_new(struct admin_call *, const char *what,
	    const char *dest, int dirfd, void (*run)(struct xjob *));
/* Start its thread and the call's stream (takes the job). */
int	xjob_start(struct admin_call *, struct xjob *);
void	xjob_unref(struct xjob *);
void	xjob_fail(struct xjob *, int rc, const char *name, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));
void	xjob_progress(struct xjob *, size_t acc_done, const char *did,
	    size_t blobs_done, size_t blobs_total);
void	xjob_own(struct xjob *, int dirfd, const char *name);

#endif
