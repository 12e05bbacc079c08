/*
 * module: how a pdsd service (sequencer, firehose, jobs, admin socket,
 * ...) joins the daemon's lifecycle.
 *
 * In the module's own file:
 *
 *	static int  seq_init(const struct config *cfg) { ...; return 0; }
 *	static void seq_fini(void) { ... }
 *	PDSD_MODULE(sequencer, seq_init, seq_fini);
 *
 * which defines pdsd_module_sequencer; declare it below and put it in
 * the start-up list in main.c, at the place its dependencies ask for.
 * init runs in the main thread after the store is open and migrated and
 * before the HTTP server starts (a good time to call routes_add() or to
 * start the module's own threads); a non-zero return aborts start-up.
 * fini runs after the HTTP server has stopped, before the store closes,
 * in the reverse order of the list.  Tests that link pdsd's objects
 * start the modules they need by calling their init and fini.
 */
#ifndef PDSD_MODULE_H
#define PDSD_MODULE_H

#include <stddef.h>

struct config;

struct pdsd_module {
	const char	*name;
	int		(*init)(const struct config *);	/* may be NULL */
	void		(*fini)(void);			/* may be NULL */
};

#define PDSD_MODULE(id, initfn, finifn)					\
	const struct pdsd_module pdsd_module_##id =			\
	    { #id, initfn, finifn };

/* Every module pdsd has (main.c lists them in start-up order). */
extern const struct pdsd_module pdsd_module_accounts;
extern const struct pdsd_module pdsd_module_admin_socket;
extern const struct pdsd_module pdsd_module_backup;
extern const struct pdsd_module pdsd_module_export;
extern const struct pdsd_module pdsd_module_report;
extern const struct pdsd_module pdsd_module_blobs;
extern const struct pdsd_module pdsd_module_blobstore_migrate;
extern const struct pdsd_module pdsd_module_describe_server;
extern const struct pdsd_module pdsd_module_email_tokens;
extern const struct pdsd_module pdsd_module_firehose;
extern const struct pdsd_module pdsd_module_get_repo;
extern const struct pdsd_module pdsd_module_jobs;
extern const struct pdsd_module pdsd_module_lexicon_resolve;
extern const struct pdsd_module pdsd_module_mailer;
extern const struct pdsd_module pdsd_module_migration;
extern const struct pdsd_module pdsd_module_oauth;
extern const struct pdsd_module pdsd_module_offload;
extern const struct pdsd_module pdsd_module_oauth_account;
extern const struct pdsd_module pdsd_module_oauth_authorize;
extern const struct pdsd_module pdsd_module_ratelimit;
extern const struct pdsd_module pdsd_module_repo_writer;
extern const struct pdsd_module pdsd_module_stats;
extern const struct pdsd_module pdsd_module_metrics;

/*
 * Run the inits of list[0..n-1] in order; on a failure, fini the
 * started ones in reverse and return it.  The list must outlive
 * modules_fini().
 */
int	modules_init(const struct pdsd_module *const *list, size_t n,
	    const struct config *);
/* Fini the started modules, last started first; idempotent. */
void	modules_fini(void);

#endif
