/*
 * module: the list of registered modules.  See module.h.
 */
#include <stddef.h>

#include "log.h"
#include "module.h"

static struct pdsd_module *modules;	/* registration order, reversed */

void
module_register(struct pdsd_module *m)
{
	m->next = modules;
	modules = m;
}

static void
fini_started(struct pdsd_module *upto)
{
	struct pdsd_module *m;

	/* the list is newest first, so this is reverse init order */
	for (m = modules; m != upto; m = m->next)
		if (m->started && m->fini != NULL) {
			m->fini();
			m->started = 0;
		}
}

/* Inits run oldest registration first; finis newest first. */
static int
init_from(struct pdsd_module *m, const struct config *cfg)
{
	int	 rc;

	if (m == NULL)
		return 0;
	if ((rc = init_from(m->next, cfg)) != 0)
		return rc;
	if (m->init != NULL && (rc = m->init(cfg)) != 0) {
		log_warnx("module %s: start-up failed", m->name);
		return rc;
	}
	m->started = 1;
	log_debug("module %s started", m->name);
	return 0;
}

int
modules_init(const struct config *cfg)
{
	int	 rc;

	if ((rc = init_from(modules, cfg)) != 0)
		fini_started(NULL);
	return rc;
}

void
modules_fini(void)
{
	fini_started(NULL);
}
