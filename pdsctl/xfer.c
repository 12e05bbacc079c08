/*
 * xfer: pdsctl export and import, which pdsd runs (export.c,
 * import.c): their arguments, progress and summary.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "pdsctl.h"

/* The daemon has another cwd: make path absolute into out. */
static int
absolute(const char *path, char *out, size_t cap)
{
	char	 cwd[PATH_MAX];

	if (path[0] == '/') {
		if ((size_t)snprintf(out, cap, "%s", path) >= cap)
			return -1;
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(out, cap, "%s/%s", cwd, path) >= cap)
		return -1;
	return 0;
}

/* export [ACCOUNT...] DIR | --all DIR: the last word is the directory. */
int
prepare_export(const struct ctl_cmd *c, json_t *args, const char **cmd)
{
	json_t		*list = json_object_get(args, "accounts");
	size_t		 n = json_array_size(list);
	bool		 all = json_is_true(json_object_get(args, "all"));
	char		 abs[PATH_MAX];

	(void)cmd;
	if (n == 0 || (n == 1) != all) {
		fprintf(stderr, "pdsctl: export needs accounts or --all, and "
		    "then the directory\nusage: ");
		ctl_usage_line(stderr, c);
		return EXIT_USAGE;
	}
	if (absolute(json_string_value(json_array_get(list, n - 1)), abs,
	    sizeof(abs)) == -1) {
		fprintf(stderr, "pdsctl: export: the directory's path is too "
		    "long\n");
		return EXIT_USAGE;
	}
	json_object_set_new(args, "dest", json_string(abs));
	json_array_remove(list, n - 1);
	if (all)
		json_object_del(args, "accounts");
	return EXIT_OK;
}

int
prepare_import(const struct ctl_cmd *c, json_t *args, const char **cmd)
{
	const char	*src;
	char		 abs[PATH_MAX];

	(void)c;
	(void)cmd;
	src = json_string_value(json_object_get(args, "src"));
	if (src == NULL || absolute(src, abs, sizeof(abs)) == -1) {
		fprintf(stderr, "pdsctl: import: a directory is needed\n");
		return EXIT_USAGE;
	}
	json_object_set_new(args, "src", json_string(abs));
	return EXIT_OK;
}

static long long
num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

void
event_xfer(const struct ctl_cmd *c, const json_t *e)
{
	bool	 tty = isatty(STDERR_FILENO);
	char	 bar[31];
	long long pct = num(e, "percent");
	int	 i;

	(void)c;
	for (i = 0; i < 30; i++)
		bar[i] = i < pct * 30 / 100 ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "%s%s: [%s] %3lld%% account %lld/%lld %s blobs "
	    "%lld/%lld%s", tty ? "\r\033[K" : "", out_str(e, "phase"), bar, pct,
	    num(e, "accountsDone"), num(e, "accountsTotal"), out_str(e, "did"),
	    num(e, "blobsDone"), num(e, "blobsTotal"), tty ? "" : "\n");
	fflush(stderr);
}

void
print_xfer(const struct ctl_cmd *c, const json_t *r)
{
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
	if (strcmp(c->cmd, "import") == 0)
		printf("imported %lld accounts from %s (%lld blobs, %lld "
		    "bytes, %lld with their signing keys) in %.1f s; %lld "
		    "DIDs now point here (%lld PLC operations)\n",
		    num(r, "accounts"), out_str(r, "dir"), num(r, "blobs"),
		    num(r, "bytes"), num(r, "keysKept"),
		    json_number_value(json_object_get(r, "seconds")),
		    num(r, "moved"), num(r, "plcOperations"));
	else
		printf("exported %lld accounts to %s (%lld unchanged since the "
		    "last run), %lld blobs (%lld kept), %lld bytes written, "
		    "%.1f s\n", num(r, "accounts"), out_str(r, "dir"),
		    num(r, "skipped"), num(r, "blobs"), num(r, "blobsReused"),
		    num(r, "bytes"), json_number_value(json_object_get(r,
		    "seconds")));
}
