/*
 * config_init: `pdsd -c FILE --init-config`, a new env file for a
 * production server, with fresh secrets.
 *
 * The host name and the contact email come from PDS_HOSTNAME and
 * PDS_CONTACT_EMAIL_ADDRESS in the environment (both required); every
 * other PDS_* variable of the environment is written as given, over the
 * defaults for the real network (plc.directory, the Bluesky AppView,
 * its moderation service and relay).  The secrets (PDS_JWT_SECRET,
 * PDS_ADMIN_PASSWORD, PDS_DPOP_SECRET and the PLC rotation key) are
 * drawn fresh unless the environment gives them.
 *
 * The file is checked with config_load() before it appears, and it is
 * never overwritten: an existing FILE is an error.  It is created mode
 * 0600 by the caller's user.
 */
#ifndef PDSD_CONFIG_INIT_H
#define PDSD_CONFIG_INIT_H

#include <stddef.h>

/*
 * Write the env file at path from the environment envp.  Returns PDS_OK,
 * or an error code with the reason (naming every missing variable) in err.
 */
int	config_init_write(const char *path, char *const *envp, char *err,
	    size_t errlen);
/*
 * `pdsd -c FILE --init-config`: config_init_write() with the process
 * environment; says what it did on stdout or why not on stderr.
 * Returns the exit status.
 */
int	config_init_main(const char *path);

#endif
