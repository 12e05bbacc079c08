/*
 * log: the daemon's and tools' logging, after OpenBSD's log.c.
 *
 * log_init() chooses stderr (foreground) or syslog.  log_warn() appends
 * strerror(errno); log_warnx() does not.  fatal()/fatalx() log and exit(1):
 * only at start-up or on a broken invariant, never on a request path.
 * Messages at debug level are dropped unless the verbosity asks for them.
 * Never pass secrets (passwords, keys, tokens) to these functions.
 */
#ifndef PDS_LOG_H
#define PDS_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void	log_init(const char *progname, int to_syslog, int verbosity);
void	log_setverbose(int verbosity);	/* 0 warn, 1 info, 2 debug */
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Errors the program cannot go on from (it then exits): level "error". */
void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_errx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
