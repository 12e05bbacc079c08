/*
 * import-reference: converting a reference PDS data directory needs
 * pdsd's store, so pdsctl runs "pdsd import-reference" (pdsd/import_ref.c)
 * in its place: the pdsd next to this pdsctl, or $PDSCTL_PDSD, or the
 * first pdsd on PATH.  It works offline: no daemon, no socket.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "pdsctl.h"

/* The pdsd beside our own executable, if there is one. */
static const char *
pdsd_beside(char out[PATH_MAX])
{
	char	 self[PATH_MAX], *slash;
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return NULL;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return NULL;
	*slash = '\0';
	if (snprintf(out, PATH_MAX, "%s/pdsd", self) >= PATH_MAX ||
	    access(out, X_OK) == -1)
		return NULL;
	return out;
}

int
prepare_import_reference(const struct ctl_cmd *c, json_t *args,
    const char **cmd)
{
	char		 buf[PATH_MAX];
	const char	*av[12], *prog, *blobs, *actors;
	int		 n = 0;

	if ((prog = getenv("PDSCTL_PDSD")) == NULL || prog[0] == '\0')
		prog = pdsd_beside(buf);
	av[n++] = prog != NULL ? prog : "pdsd";
	av[n++] = "import-reference";
	if (ctl_json)
		av[n++] = "--json";
	if (json_is_true(json_object_get(args, "quiet")))
		av[n++] = "--quiet";
	if ((blobs = json_string_value(json_object_get(args, "blobs"))) !=
	    NULL) {
		av[n++] = "--blobs";
		av[n++] = blobs;
	}
	if ((actors = json_string_value(json_object_get(args, "actors"))) !=
	    NULL) {
		av[n++] = "--actors";
		av[n++] = actors;
	}
	av[n++] = "--";
	av[n++] = json_string_value(json_object_get(args, "source"));
	av[n++] = json_string_value(json_object_get(args, "dest"));
	av[n] = NULL;
	fflush(stdout);
	execvp(av[0], (char *const *)av);
	fprintf(stderr, "pdsctl: import-reference: cannot run %s: %s (set "
	    "PDSCTL_PDSD to pdsd's path)\n", av[0], strerror(errno));
	return EXIT_FAIL;
}
