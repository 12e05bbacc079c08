#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char	*log_prog = "pds";
static int		 log_syslog;
static int		 log_verbose = 1;
static pthread_mutex_t	 log_mtx = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *progname, int to_syslog, int verbosity)
{
	log_prog = progname;
	log_syslog = to_syslog;
	log_verbose = verbosity;
	if (to_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void	vlog(int, const char *, int, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));

static void
vlog(int pri, const char *lvl, int with_errno, const char *fmt, va_list ap)
{
	char		 msg[2048];
	int		 saved = errno;
	struct timespec	 ts;
	struct tm	 tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		if (with_errno)
			syslog(pri, "%s: %s", msg, strerror(saved));
		else
			syslog(pri, "%s", msg);
		errno = saved;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	pthread_mutex_lock(&log_mtx);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: %s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_prog, lvl, msg);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_mtx);
	errno = saved;
}

#define LOGFN(name, pri, lvl, min, err)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	if (log_verbose < (min))				\
		return;						\
	va_start(ap, fmt);					\
	vlog(pri, lvl, err, fmt, ap);				\
	va_end(ap);						\
}

LOGFN(log_warn, LOG_WARNING, "warn", 0, 1)
LOGFN(log_warnx, LOG_WARNING, "warn", 0, 0)
LOGFN(log_err, LOG_ERR, "error", 0, 1)
LOGFN(log_errx, LOG_ERR, "error", 0, 0)
LOGFN(log_info, LOG_INFO, "info", 1, 0)
LOGFN(log_debug, LOG_DEBUG, "debug", 2, 0)

#define FATALFN(name, err)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	vlog(LOG_CRIT, "fatal", err, fmt, ap);			\
	va_end(ap);						\
	exit(1);						\
}

FATALFN(fatal, 1)
FATALFN(fatalx, 0)
