/*
 * module: how a pdsd service (sequencer, firehose, jobs, admin socket,
 * ...) joins the daemon's lifecycle without editing main.c.
 *
 * In the module's own file:
 *
 *	static int  seq_init(const struct config *cfg) { ...; return 0; }
 *	static void seq_fini(void) { ... }
 *	PDSD_MODULE(sequencer, seq_init, seq_fini);
 *
 * init runs in the main thread after the store is open and migrated and
 * before the HTTP server starts (a good time to call routes_add() or to
 * start the module's own threads); a non-zero return aborts start-up.
 * fini runs after the HTTP server has stopped, before the store closes,
 * in the reverse order of the inits.  Modules must not depend on each
 * other's init order (it is the link order).
 */
#ifndef PDSD_MODULE_H
#define PDSD_MODULE_H

struct config;

struct pdsd_module {
	const char		*name;
	int			(*init)(const struct config *);
	void			(*fini)(void);
	struct pdsd_module	*next;
	int			 started;
};

void	module_register(struct pdsd_module *);
/* Run every init; on a failure, fini the started ones and return it. */
int	modules_init(const struct config *);
void	modules_fini(void);

#define PDSD_MODULE(id, initfn, finifn)					\
	static struct pdsd_module pdsd_module_##id =			\
	    { #id, initfn, finifn, 0, 0 };				\
	__attribute__((constructor)) static void			\
	pdsd_module_reg_##id(void)					\
	{								\
		module_register(&pdsd_module_##id);			\
	}

#endif
