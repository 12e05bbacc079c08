/*
 * module: starting and stopping the modules of a list.  See module.h.
 */
#include <stddef.h>

#include "log.h"
#include "module.h"

static const struct pdsd_module *const *mlist;
static size_t	 nstarted;	/* mlist[0..nstarted-1] are running */

int
modules_init(const struct pdsd_module *const *list, size_t n,
    const struct config *cfg)
{
	const struct pdsd_module *m;
	int	 rc;

	mlist = list;
	nstarted = 0;
	for (; nstarted < n; nstarted++) {
		m = list[nstarted];
		if (m->init != NULL && (rc = m->init(cfg)) != 0) {
			log_warnx("module %s: start-up failed", m->name);
			modules_fini();
			return rc;
		}
		log_debug("module %s started", m->name);
	}
	return 0;
}

void
modules_fini(void)
{
	const struct pdsd_module *m;

	while (nstarted > 0) {
		m = mlist[--nstarted];
		if (m->fini != NULL)
			m->fini();
		log_debug("module %s stopped", m->name);
	}
}
