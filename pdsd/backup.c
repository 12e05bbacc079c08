/*
 * backup: `pdsctl backup DEST', a consistent copy of the database made
 * with SQLite's online backup API while pdsd keeps serving.
 *
 * The copy runs on its own thread (so the admin socket stays
 * responsive) into a temporary file in the data directory, holding one
 * read transaction so that it is a single snapshot; the admin stream
 * reports progress.  When it is complete the file is renamed (never
 * over an existing file) into DEST's directory, or copied there when
 * that is another file system.
 *
 * DEST is written by pdsd, which may run as another user than the
 * operator, so it must be an absolute path in a directory that the
 * requesting user owns (root and pdsd's own user may use any); the
 * directory is opened once and every later step works relative to that
 * descriptor, so swapping a symbolic link in cannot redirect the file.
 * The result is mode 0600, owned by the requesting user.
 * One backup at a time.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin_service.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "module.h"
#include "store.h"
#include "store_admin.h"

#define BACKUP_STEP_PAGES	256
#define BACKUP_TICK_MS		250

enum phase { PH_COPY, PH_PLACE, PH_DONE };

struct job {
	pthread_mutex_t		 mu;
	int			 refs;
	bool			 abort;
	enum phase		 phase;
	int			 rc;
	const char		*err_name;
	char			 msg[256];
	int			 remaining, total;
	int			 reported;	/* pages done last reported */
	int64_t			 bytes;
	double			 started, seconds;
	int			 dirfd;
	char			 base[NAME_MAX + 1];
	char			 dest[PATH_MAX];
	char			 tmp[PATH_MAX];
	uid_t			 uid;
	struct admin_actor	 actor;
};

static const struct config	*bcfg;
static pthread_mutex_t		 job_mu = PTHREAD_MUTEX_INITIALIZER;
static struct job		*current;	/* running, or NULL */
static pthread_t		 job_thread;
static bool			 job_joinable;
static unsigned			 job_serial;

static void
job_unref(struct job *j)
{
	bool	 last;

	pthread_mutex_lock(&j->mu);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (!last)
		return;
	if (j->dirfd != -1)
		close(j->dirfd);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static void
job_fail(struct job *j, int rc, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
job_fail(struct job *j, int rc, const char *name, const char *fmt, ...)
{
	va_list	 ap;

	pthread_mutex_lock(&j->mu);
	if (j->rc == PDS_OK) {
		j->rc = rc;
		j->err_name = name;
		va_start(ap, fmt);
		vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&j->mu);
}

/* Copy tmp into DEST (another file system). */
static int
place_copy(struct job *j)
{
	char	 buf[65536];
	ssize_t	 n, w, off;
	int	 in, out, rc = PDS_OK;

	if ((in = open(j->tmp, O_RDONLY | O_CLOEXEC)) == -1)
		return PDS_EIO;
	out = openat(j->dirfd, j->base, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out == -1) {
		rc = errno == EEXIST ? PDS_EEXIST : PDS_EIO;
		close(in);
		return rc;
	}
	while (rc == PDS_OK && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			rc = PDS_EIO;
			break;
		}
		for (off = 0; off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) <=
			    0) {
				rc = PDS_EIO;
				break;
			}
	}
	if (rc == PDS_OK && fsync(out) == -1)
		rc = PDS_EIO;
	close(in);
	if (close(out) == -1 && rc == PDS_OK)
		rc = PDS_EIO;
	if (rc != PDS_OK)
		(void)unlinkat(j->dirfd, j->base, 0);
	return rc;
}

static void *
job_main(void *arg)
{
	struct job		*j = arg;
	struct store_backup	*b = NULL;
	struct stat		 st;
	int			 rc, rem = 0, tot = 0;
	bool			 fin = false, stop;

	rc = store_backup_start(j->tmp, &b);
	if (rc != PDS_OK)
		job_fail(j, rc, AP_E_IO_ERROR, "cannot start the backup "
		    "into %.200s", j->tmp);
	while (rc == PDS_OK && !fin) {
		rc = store_backup_step(b, BACKUP_STEP_PAGES, &rem, &tot, &fin);
		pthread_mutex_lock(&j->mu);
		j->remaining = rem;
		j->total = tot;
		stop = j->abort;
		pthread_mutex_unlock(&j->mu);
		if (rc != PDS_OK)
			job_fail(j, rc, AP_E_IO_ERROR, "copying failed: %s",
			    pds_strerror(rc));
		else if (stop) {
			rc = PDS_EIO;
			job_fail(j, rc, AP_E_IO_ERROR, "%s",
			    "the backup was cancelled");
		}
	}
	if (b != NULL && (rc = store_backup_finish(b, rc == PDS_OK)) !=
	    PDS_OK)
		job_fail(j, rc, AP_E_IO_ERROR, "finishing the copy "
		    "failed: %s", pds_strerror(rc));
	store_thread_close();

	if (rc == PDS_OK) {
		pthread_mutex_lock(&j->mu);
		j->phase = PH_PLACE;
		pthread_mutex_unlock(&j->mu);
		if (stat(j->tmp, &st) == 0)
			j->bytes = (int64_t)st.st_size;
		if (renameat2(AT_FDCWD, j->tmp, j->dirfd, j->base,
		    RENAME_NOREPLACE) == 0)
			rc = PDS_OK;
		else if (errno == EXDEV || errno == EINVAL || errno == ENOSYS)
			rc = place_copy(j);
		else
			rc = errno == EEXIST ? PDS_EEXIST : PDS_EIO;
		if (rc != PDS_OK)
			job_fail(j, rc, rc == PDS_EEXIST ? AP_E_ALREADY_EXISTS :
			    AP_E_IO_ERROR, "cannot write %.200s", j->dest);
		else if (j->uid != geteuid() && fchownat(j->dirfd, j->base,
		    j->uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) == -1)
			log_warn("backup %s: chown", j->dest);
	}
	(void)unlink(j->tmp);
	pthread_mutex_lock(&j->mu);
	j->phase = PH_DONE;
	j->seconds = clock_mono_s() - j->started;
	rc = j->rc;
	pthread_mutex_unlock(&j->mu);
	admin_audit(&j->actor, "backup", j->dest, NULL,
	    rc == PDS_OK ? "ok" : "failed", rc == PDS_OK ? NULL : j->err_name,
	    NULL);
	if (rc == PDS_OK)
		log_info("backup written to %s (%lld bytes)", j->dest,
		    (long long)j->bytes);
	pthread_mutex_lock(&job_mu);
	current = NULL;
	pthread_mutex_unlock(&job_mu);
	job_unref(j);
	return NULL;
}

static enum admin_stream_rc
backup_tick(struct admin_call *call, void *state, int *next_ms)
{
	struct job	*j = state;
	json_t		*ev;
	enum phase	 ph;
	int		 done, total, rc;

	pthread_mutex_lock(&j->mu);
	ph = j->phase;
	total = j->total;
	done = total - j->remaining;
	rc = j->rc;
	pthread_mutex_unlock(&j->mu);
	if (ph == PH_DONE && rc == PDS_OK && total > 0 &&
	    j->reported != total) {
		/* a small copy may finish between ticks: still say 100% */
		j->reported = total;
		ev = json_pack("{s:s,s:i,s:i,s:i}", "phase", "copy",
		    "pagesDone", total, "pagesTotal", total, "percent", 100);
		if (ev != NULL)
			admin_stream_event(call, ev);
		json_decref(ev);
	}
	if (ph == PH_DONE) {
		if (rc != PDS_OK) {
			call->err.name = j->err_name != NULL ? j->err_name :
			    AP_E_IO_ERROR;
			snprintf(call->err.e.msg, sizeof(call->err.e.msg), "%s",
			    j->msg);
			return ADMIN_STREAM_ERROR;
		}
		call->result = json_pack("{s:s,s:I,s:i,s:f}", "dest", j->dest,
		    "bytes", (json_int_t)j->bytes, "pages", total, "seconds",
		    j->seconds);
		return ADMIN_STREAM_END;
	}
	if (total > 0 && done != j->reported) {
		j->reported = done;
		ev = json_pack("{s:s,s:i,s:i,s:i}", "phase",
		    ph == PH_COPY ? "copy" : "place", "pagesDone", done,
		    "pagesTotal", total, "percent", (int)((int64_t)done * 100 /
		    total));
		if (ev != NULL)
			admin_stream_event(call, ev);
		json_decref(ev);
	}
	*next_ms = BACKUP_TICK_MS;
	return ADMIN_STREAM_MORE;
}

/* The client went away, or the stream ended: let go of the job. */
static void
backup_free(void *state)
{
	struct job	*j = state;

	pthread_mutex_lock(&j->mu);
	if (j->phase != PH_DONE)
		j->abort = true;
	pthread_mutex_unlock(&j->mu);
	job_unref(j);
}

static const struct admin_stream_ops backup_ops = { backup_tick,
    backup_free };

static int
refuse(struct admin_call *call, int rc, const char *name, const char *msg,
    const char *dest)
{
	call->err.name = name;
	snprintf(call->err.e.msg, sizeof(call->err.e.msg), "%s", msg);
	admin_audit(call->actor, "backup", dest, NULL, "failed", name, NULL);
	return rc;
}

int
admin_backup_start(struct admin_call *call)
{
	const json_t	*v = json_object_get(call->args, "dest");
	struct job	*j;
	struct stat	 st;
	const char	*dest, *slash;
	char		 dir[PATH_MAX], why[sizeof(call->err.e.msg)];
	size_t		 n;
	int		 fd, e;

	if (bcfg == NULL)
		return refuse(call, PDS_EINVAL, AP_E_NOT_AVAILABLE,
		    "backups are not set up", NULL);
	if (!json_is_string(v))
		return refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "argument dest (an absolute path) is required", NULL);
	dest = json_string_value(v);
	n = strlen(dest);
	if (n != json_string_length(v) || dest[0] != '/' || n >= PATH_MAX ||
	    dest[n - 1] == '/')
		return refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "dest must be an absolute path to a file", dest);
	slash = strrchr(dest, '/');
	if (strlen(slash + 1) > NAME_MAX || strcmp(slash + 1, ".") == 0 ||
	    strcmp(slash + 1, "..") == 0)
		return refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "dest must name a file", dest);
	n = (size_t)(slash - dest);
	memcpy(dir, dest, n);
	dir[n] = '\0';
	if (n == 0)
		memcpy(dir, "/", 2);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		e = errno;
		if (fd != -1)
			close(fd);
		if (snprintf(why, sizeof(why), "cannot open dest's directory "
		    "%s: %s", dir, strerror(e)) >= (int)sizeof(why))
			snprintf(why, sizeof(why), "cannot open dest's "
			    "directory: %s", strerror(e));
		return refuse(call, PDS_EIO, AP_E_IO_ERROR, why, dest);
	}
	if (call->peer_uid != 0 && call->peer_uid != geteuid() &&
	    st.st_uid != call->peer_uid) {
		close(fd);
		return refuse(call, PDS_EINVAL, AP_E_PERMISSION_DENIED,
		    "dest's directory must be one you own", dest);
	}
	if (fstatat(fd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		close(fd);
		return refuse(call, PDS_EEXIST, AP_E_ALREADY_EXISTS,
		    "dest exists; backups never overwrite", dest);
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		close(fd);
		return PDS_ENOMEM;
	}
	pthread_mutex_init(&j->mu, NULL);
	j->dirfd = fd;
	j->uid = call->peer_uid;
	j->actor = *call->actor;
	j->started = clock_mono_s();
	j->reported = -1;
	snprintf(j->base, sizeof(j->base), "%s", slash + 1);
	snprintf(j->dest, sizeof(j->dest), "%s", dest);

	pthread_mutex_lock(&job_mu);
	if (current != NULL) {
		pthread_mutex_unlock(&job_mu);
		j->refs = 1;
		job_unref(j);
		return refuse(call, PDS_EEXIST, AP_E_NOT_AVAILABLE,
		    "a backup is already running", dest);
	}
	if (job_joinable) {
		pthread_join(job_thread, NULL);	/* finished: reap it */
		job_joinable = false;
	}
	if ((size_t)snprintf(j->tmp, sizeof(j->tmp), "%s/.backup-%ld-%u.tmp",
	    bcfg->data_dir, (long)getpid(), ++job_serial) >= sizeof(j->tmp)) {
		pthread_mutex_unlock(&job_mu);
		j->refs = 1;
		job_unref(j);
		return refuse(call, PDS_ETOOBIG, AP_E_IO_ERROR,
		    "data directory path too long", dest);
	}
	j->refs = 2;	/* the thread's and the stream's */
	if (pthread_create(&job_thread, NULL, job_main, j) != 0) {
		pthread_mutex_unlock(&job_mu);
		j->refs = 1;
		job_unref(j);
		return refuse(call, PDS_EIO, AP_E_INTERNAL,
		    "cannot start the backup thread", dest);
	}
	job_joinable = true;
	current = j;
	pthread_mutex_unlock(&job_mu);
	call->stream = &backup_ops;
	call->stream_state = j;
	call->first_ms = 0;
	return PDS_OK;
}

static int
backup_init(const struct config *cfg)
{
	bcfg = cfg;
	return PDS_OK;
}

/* At shutdown: stop a running copy and wait for its thread. */
static void
backup_fini(void)
{
	pthread_mutex_lock(&job_mu);
	if (current != NULL) {
		pthread_mutex_lock(&current->mu);
		current->abort = true;
		pthread_mutex_unlock(&current->mu);
	}
	pthread_mutex_unlock(&job_mu);
	if (job_joinable) {
		pthread_join(job_thread, NULL);
		job_joinable = false;
	}
	bcfg = NULL;
}

PDSD_MODULE(backup, backup_init, backup_fini)
