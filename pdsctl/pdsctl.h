/*
 * pdsctl: what its files share.
 *
 *   main.c    options, choosing the socket, running a command, exit codes,
 *             the commands' prepare hooks
 *   parser.c  the command grammar (a table) and help
 *   client.c  the admin socket client (adminproto.h)
 *   output.c  human-readable output, one formatter per command
 */
#ifndef PDSCTL_H
#define PDSCTL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "adminproto.h"

/* Exit statuses (documented in pdsctl(8)). */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* the daemon failed (internal, upstream, I/O) */
#define EXIT_NOTFOUND	3	/* no such account, record, blob or code */
#define EXIT_CONFLICT	4	/* taken, exists, or taken down */
#define EXIT_USAGE	64	/* EX_USAGE: the command line was wrong */
#define EXIT_DATAERR	65	/* EX_DATAERR: the daemon refused a value */
#define EXIT_UNAVAIL	69	/* EX_UNAVAILABLE: pdsd unreachable or busy */
#define EXIT_PROTOCOL	70	/* EX_SOFTWARE: a reply we cannot read */
#define EXIT_NOPERM	77	/* EX_NOPERM: permission refused */

/*
 * JSON output: doubles (rates) with 9 significant digits, not the 17
 * that bring back a double's binary noise (0.0052735900001152913).
 */
#define CTL_JSON_REAL	JSON_REAL_PRECISION(9)

/* ---- the grammar (parser.c) ---- */

enum ctl_argkind {
	CA_POS,		/* a required positional argument */
	CA_POS_OPT,	/* an optional positional argument */
	CA_POS_LIST,	/* the rest of the positional arguments (array) */
	CA_STR,		/* --name VALUE */
	CA_INT,		/* --name N */
	CA_FLAG,	/* --name (true) */
	CA_LIST,	/* --name VALUE, repeatable (array) */
};

struct ctl_arg {
	const char		*name;	/* "ACCOUNT" or "--reason" */
	const char		*key;	/* the request's args key; NULL: ours */
	enum ctl_argkind	 kind;
	bool			 required;
	const char		*help;
};

#define CTL_CONFIRM	0x01	/* destructive: --yes or a terminal prompt */
#define CTL_STREAM	0x02	/* a stream of events */
#define CTL_PAGED	0x04	/* follow the cursor to the end */
#define CTL_LOCAL	0x08	/* no daemon needed (help) */
#define CTL_EITHER	0x10	/* exactly one of its optional positional
				   argument and its flag */
#define CTL_RUN		0x20	/* not one request: ctl_run() runs it */
#define CTL_OFFLINE	0x40	/* pdsctl does the work itself */

struct ctl_cmd;
typedef void	(*ctl_print_fn)(const struct ctl_cmd *, const json_t *result);
typedef void	(*ctl_event_fn)(const struct ctl_cmd *, const json_t *event);
/*
 * Before the request: check or complete its args, and change the name
 * sent (*cmd) if need be.  Returns EXIT_OK, or prints why not and
 * returns the exit status.
 */
typedef int	(*ctl_prepare_fn)(const struct ctl_cmd *, json_t *args,
		    const char **cmd);

struct ctl_cmd {
	const char		*words[3];	/* "account", "takedown" */
	const char		*cmd;		/* "account.takedown" */
	unsigned		 flags;
	const struct ctl_arg	*args;		/* ends with a NULL name */
	const char		*help;
	ctl_print_fn		 print;
	ctl_event_fn		 event;		/* for CTL_STREAM */
	const char		*page_key;	/* CTL_PAGED: the array */
	ctl_prepare_fn		 prepare;	/* NULL: args as parsed */
};

struct ctl_parsed {
	const struct ctl_cmd	*cmd;
	json_t			*args;		/* the request's args */
	bool			 help;		/* `help ...' was asked */
	const struct ctl_cmd	*help_cmd;	/* NULL: general help */
	const char		*help_words[3];	/* a partial command */
	int			 nhelp_words;
};

/*
 * Parse argv (after the global options) into a command and its request
 * arguments.  On a usage error prints what was wrong and what would
 * have been valid, and returns EXIT_USAGE.
 */
int	ctl_parse(int argc, char **argv, struct ctl_parsed *);
void	ctl_parsed_clear(struct ctl_parsed *);
/* Print help: everything (cmd NULL), one command, or a word's commands. */
void	ctl_help(FILE *, const struct ctl_parsed *);
void	ctl_usage_line(FILE *, const struct ctl_cmd *);
const struct ctl_cmd *ctl_table(size_t *n);
/* The flags ctl_parse handles itself: --yes, --password-stdin, --watch. */
bool	ctl_opt_yes(void);
bool	ctl_opt_password_stdin(void);
bool	ctl_opt_watch(void);

/* ---- preparing a request (main.c) ---- */

/* Hooks named in the table. */
int	prepare_stats(const struct ctl_cmd *, json_t *, const char **);
int	prepare_backup(const struct ctl_cmd *, json_t *, const char **);
int	prepare_import_reference(const struct ctl_cmd *, json_t *,
	    const char **);
int	prepare_export(const struct ctl_cmd *, json_t *, const char **);
int	prepare_import(const struct ctl_cmd *, json_t *, const char **);
int	prepare_report(const struct ctl_cmd *, json_t *, const char **);
int	prepare_revoke_session(const struct ctl_cmd *, json_t *,
	    const char **);

/* ---- the client (client.c) ---- */

struct ctl_conn {
	int				 fd;
	struct adminproto_reader	 in;
	int64_t				 next_id;
	const char			*path;
};

/* Connect; on failure prints why and returns an exit status. */
int	ctl_connect(struct ctl_conn *, const char *path);
void	ctl_close(struct ctl_conn *);
/*
 * Send one request and read until its final reply.  Events go to
 * on_event (may be NULL).  On success *result holds the result (a new
 * reference; for a stream, the end's result or NULL).  On an error
 * reply, msg holds it and the exit status for it is returned.
 */
int	ctl_request(struct ctl_conn *, const char *cmd, const json_t *args,
	    void (*on_event)(void *, const json_t *), void *arg,
	    json_t **result, struct adminproto_msg *msg);
/* The exit status for a daemon error name. */
int	ctl_exit_for(const char *error);

/* ---- commands that run here (dns.c) ---- */

/*
 * A CTL_RUN command (cmd names it: "dns.zone", "dns.check"): make its
 * requests on c, print its own output (text or --json) and return the
 * exit status.  A daemon error is left in msg for main to report.
 */
int	ctl_run(struct ctl_conn *c, const struct ctl_parsed *,
	    struct adminproto_msg *msg);

/* ---- output (output.c) ---- */

extern bool	ctl_json;	/* --json */

void	out_json(const json_t *);
/*
 * o's string member key for the human formatters: "" when it is absent
 * (out_str), dflt when it is absent or empty (out_str_or).
 */
const char *out_str(const json_t *o, const char *key);
const char *out_str_or(const json_t *o, const char *key, const char *dflt);
/* Human formatters named in the table. */
void	print_generic(const struct ctl_cmd *, const json_t *);
void	print_accounts(const struct ctl_cmd *, const json_t *);
void	print_account(const struct ctl_cmd *, const json_t *);
void	print_created(const struct ctl_cmd *, const json_t *);
void	print_password(const struct ctl_cmd *, const json_t *);
void	print_done(const struct ctl_cmd *, const json_t *);
void	print_status(const struct ctl_cmd *, const json_t *);
void	print_codes(const struct ctl_cmd *, const json_t *);
void	print_invites(const struct ctl_cmd *, const json_t *);
void	print_migrations(const struct ctl_cmd *, const json_t *);
void	print_purged(const struct ctl_cmd *, const json_t *);
void	print_token(const struct ctl_cmd *, const json_t *);
void	print_sessions(const struct ctl_cmd *, const json_t *);
void	print_revoked(const struct ctl_cmd *, const json_t *);
void	print_stats(const struct ctl_cmd *, const json_t *);
void	print_subscribers(const struct ctl_cmd *, const json_t *);
void	print_crawl(const struct ctl_cmd *, const json_t *);
void	print_audit(const struct ctl_cmd *, const json_t *);
void	print_backup(const struct ctl_cmd *, const json_t *);
void	print_lexicon(const struct ctl_cmd *, const json_t *);
void	event_stats(const struct ctl_cmd *, const json_t *);
void	event_backup(const struct ctl_cmd *, const json_t *);
void	print_blobstore_migrate(const struct ctl_cmd *, const json_t *);
void	event_blobstore_migrate(const struct ctl_cmd *, const json_t *);
void	event_tail(const struct ctl_cmd *, const json_t *);
void	print_xfer(const struct ctl_cmd *, const json_t *);
void	event_xfer(const struct ctl_cmd *, const json_t *);
void	print_report(const struct ctl_cmd *, const json_t *);

/* ---- commands run here, without the daemon (offline.c) ---- */

/* Run a CTL_OFFLINE command; returns the exit status. */
int	ctl_offline_run(const struct ctl_parsed *);
int	ctl_restore(const char *backup, const char *datadir);

/* A progress bar on standard error (a line per 10% when not a tty). */
struct ctl_progress {
	const char	*what;
	int64_t		 bytes, done;
	size_t		 files, files_done;
	double		 started, drawn;
	int		 last_tenth;
	bool		 tty;
};
void	ctl_progress_begin(struct ctl_progress *, const char *what,
	    int64_t bytes, size_t files);
void	ctl_progress_add(struct ctl_progress *, int64_t bytes);
void	ctl_progress_file(struct ctl_progress *);
void	ctl_progress_end(struct ctl_progress *, bool ok);

#endif
