/*
 * config_init: a new env file with fresh secrets.  See config_init.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "config_init.h"
#include "err.h"
#include "keys.h"
#include "manifest.h"

#define INIT_TEXT_MAX	((size_t)64 << 10)	/* reserved once: no copies */
#define INIT_VALUE_MAX	2048

/* The settings of a server on the real network, in the file's order. */
struct init_var {
	const char	*name;
	const char	*def;		/* NULL: from the environment only */
	const char	*comment;	/* written above the line, or NULL */
};

static const struct init_var init_vars[] = {
	{ "PDS_HOSTNAME", NULL,
	    "The public host name; members' handles are NAME.<this name>." },
	{ "PDS_CONTACT_EMAIL_ADDRESS", NULL,
	    "Shown by describeServer; also the address for TLS notices." },
	{ "PDS_PORT", "2583", "pdsd listens here, behind the TLS proxy." },
	{ "PDS_BIND_ADDRESS", "127.0.0.1", NULL },
	{ "PDS_DATA_DIRECTORY", "/pds", NULL },
	{ "PDS_BLOBSTORE_DISK_LOCATION", NULL, NULL },	/* <data>/blocks */
	{ "PDS_BLOB_UPLOAD_LIMIT", "104857600", NULL },
	{ "PDS_DID_PLC_URL", "https://plc.directory",
	    "The network: the PLC directory, the Bluesky AppView, its "
	    "moderation\n# service and the relay told about new posts." },
	{ "PDS_BSKY_APP_VIEW_URL", "https://api.bsky.app", NULL },
	{ "PDS_BSKY_APP_VIEW_DID", "did:web:api.bsky.app", NULL },
	{ "PDS_REPORT_SERVICE_URL", "https://mod.bsky.app", NULL },
	{ "PDS_REPORT_SERVICE_DID", "did:plc:ar7c4by46qjdydhdevvrndac", NULL },
	{ "PDS_CRAWLERS", "https://bsky.network", NULL },
	{ "PDS_INVITE_REQUIRED", "true", "Accounts: invite codes required; "
	    "the reference's rate limits on." },
	{ "PDS_RATE_LIMITS_ENABLED", "true", NULL },
};

#define NINIT	(sizeof(init_vars) / sizeof(init_vars[0]))

/* The secrets, drawn fresh unless the environment gives them. */
enum secret_kind { S_HEX16, S_HEX32, S_K256 };

static const struct {
	const char		*name;
	enum secret_kind	 kind;
} secrets[] = {
	{ "PDS_JWT_SECRET", S_HEX32 },
	{ "PDS_ADMIN_PASSWORD", S_HEX16 },
	{ "PDS_DPOP_SECRET", S_HEX32 },
	{ "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX", S_K256 },
};

#define NSECRETS	(sizeof(secrets) / sizeof(secrets[0]))

/* Every failure to write the file is reported as PDS_EINVAL. */
#define init_fail(err, errlen, ...)	\
	pds_errf(err, errlen, PDS_EINVAL, __VA_ARGS__)

/* The environment's value of name; an empty value counts as unset. */
static const char *
env_value(char *const *envp, const char *name)
{
	size_t	 n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return (*envp)[n + 1] != '\0' ? *envp + n + 1 : NULL;
	return NULL;
}

static bool
in_init_vars(const char *name, size_t n)
{
	size_t	 i;

	for (i = 0; i < NINIT; i++)
		if (strlen(init_vars[i].name) == n &&
		    memcmp(init_vars[i].name, name, n) == 0)
			return true;
	for (i = 0; i < NSECRETS; i++)
		if (strlen(secrets[i].name) == n &&
		    memcmp(secrets[i].name, name, n) == 0)
			return true;
	return false;
}

/*
 * One KEY=VALUE line, quoted so that the env-file reader gives back
 * exactly the value: control characters and values that need both kinds
 * of quote are refused.
 */
static int
put_line(struct buf *b, const char *name, const char *v, char *err,
    size_t errlen)
{
	size_t		 n = strlen(v);
	const char	*p, *q = "";

	if (n == 0 || n > INIT_VALUE_MAX)
		return init_fail(err, errlen, "%s: empty or longer than %d "
		    "bytes", name, INIT_VALUE_MAX);
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return init_fail(err, errlen, "%s: contains control "
			    "characters", name);
	if (v[0] == '"' || v[0] == '\'' || v[0] == ' ' || v[n - 1] == ' ' ||
	    v[0] == '#') {
		if (strchr(v, '"') == NULL)
			q = "\"";
		else if (strchr(v, '\'') == NULL)
			q = "'";
		else
			return init_fail(err, errlen, "%s: cannot be written "
			    "with both kinds of quote", name);
	}
	return buf_printf(b, "%s=%s%s%s\n", name, q, v, q);
}

static int
draw_secret(enum secret_kind kind, char out[KEY_HEX_LEN])
{
	unsigned char	 r[32];
	struct pds_key	*k = NULL;
	size_t		 n = kind == S_HEX16 ? 16 : 32;
	int		 rc;

	if (kind == S_K256) {
		if ((rc = key_generate(&k, KEY_K256)) != PDS_OK)
			return rc;
		rc = key_export_private_hex(k, out);
		key_free(k);
		return rc;
	}
	randombytes_buf(r, n);
	sodium_bin2hex(out, KEY_HEX_LEN, r, n);
	sodium_memzero(r, sizeof(r));
	return PDS_OK;
}

/* Every unknown PDS_* variable of the environment, in one message. */
static int
check_environment(char *const *envp, char *err, size_t errlen)
{
	char	 list[512];
	size_t	 used = 0;
	const char *eq;
	int	 n;

	list[0] = '\0';
	for (; envp != NULL && *envp != NULL; envp++) {
		if (strncmp(*envp, "PDS_", 4) != 0 ||
		    (eq = strchr(*envp, '=')) == NULL ||
		    config_var_index(*envp, (size_t)(eq - *envp)) >= 0)
			continue;
		n = snprintf(list + used, sizeof(list) - used, "%s%.*s",
		    used ? ", " : "", (int)(eq - *envp), *envp);
		if (n > 0 && used + (size_t)n < sizeof(list))
			used += (size_t)n;
	}
	if (used > 0)
		return init_fail(err, errlen, "unknown variable%s in the "
		    "environment: %s", strchr(list, ',') ? "s" : "", list);
	return PDS_OK;
}

/* Both required inputs, naming every one that is missing. */
static int
check_required(char *const *envp, char *err, size_t errlen)
{
	const char	*host = env_value(envp, "PDS_HOSTNAME");
	const char	*mail = env_value(envp, "PDS_CONTACT_EMAIL_ADDRESS");

	if (host == NULL || mail == NULL)
		return init_fail(err, errlen, "set %s%s%s in the environment "
		    "(for example PDS_HOSTNAME=pds.example.org "
		    "PDS_CONTACT_EMAIL_ADDRESS=ops@example.org pdsd -c FILE "
		    "--init-config)", host == NULL ? "PDS_HOSTNAME" : "",
		    host == NULL && mail == NULL ? " and " : "",
		    mail == NULL ? "PDS_CONTACT_EMAIL_ADDRESS" : "");
	if (strcmp(host, "localhost") == 0)
		return init_fail(err, errlen, "PDS_HOSTNAME: localhost is for "
		    "development; give the server's public name");
	return PDS_OK;
}

/* The environment's other PDS_* variables, as given. */
static int
put_rest(struct buf *b, char *const *envp, char *err, size_t errlen)
{
	const char	*eq;
	char		 name[128];
	size_t		 n;
	bool		 first = true;
	int		 rc;

	for (; envp != NULL && *envp != NULL; envp++) {
		if (strncmp(*envp, "PDS_", 4) != 0 ||
		    (eq = strchr(*envp, '=')) == NULL || eq[1] == '\0')
			continue;
		n = (size_t)(eq - *envp);
		if (in_init_vars(*envp, n))
			continue;
		if (n >= sizeof(name))
			return init_fail(err, errlen, "%.40s...: name too "
			    "long", *envp);
		memcpy(name, *envp, n);
		name[n] = '\0';
		if (first && (rc = buf_puts(b, "\n# From the environment of "
		    "--init-config.\n")) != PDS_OK)
			return rc;
		first = false;
		if ((rc = put_line(b, name, eq + 1, err, errlen)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

static int
compose(struct buf *b, char *const *envp, char *err, size_t errlen)
{
	const struct init_var *iv;
	const char	*v, *data;
	char		 sec[KEY_HEX_LEN], blocks[PATH_MAX], stamp[32];
	time_t		 now = time(NULL);
	struct tm	 tm;
	size_t		 i;
	int		 rc;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "?");
	if ((rc = buf_printf(b, "# pdsd settings, written by pdsd "
	    "--init-config on %s.\n# Every variable is in pdsd(8); check "
	    "this file with: pdsd -c FILE --check-config\n# Keep a copy "
	    "with your backups: without the rotation key below no one\n# "
	    "can move the members' identities to another server.\n",
	    stamp)) != PDS_OK)
		return rc;
	data = env_value(envp, "PDS_DATA_DIRECTORY");
	if (data == NULL)
		data = "/pds";
	if ((size_t)snprintf(blocks, sizeof(blocks), "%s/blocks", data) >=
	    sizeof(blocks))
		return init_fail(err, errlen, "PDS_DATA_DIRECTORY: too long");
	for (i = 0; i < NINIT; i++) {
		iv = &init_vars[i];
		if ((v = env_value(envp, iv->name)) == NULL)
			v = iv->def;
		if (v == NULL && strcmp(iv->name,
		    "PDS_BLOBSTORE_DISK_LOCATION") == 0)
			v = blocks;
		if (v == NULL)
			continue;
		if (iv->comment != NULL &&
		    (rc = buf_printf(b, "\n# %s\n", iv->comment)) != PDS_OK)
			return rc;
		if ((rc = put_line(b, iv->name, v, err, errlen)) != PDS_OK)
			return rc;
	}
	if ((rc = buf_puts(b, "\n# Secrets, drawn by --init-config.\n")) !=
	    PDS_OK)
		return rc;
	for (i = 0; i < NSECRETS; i++) {
		if ((v = env_value(envp, secrets[i].name)) == NULL) {
			if ((rc = draw_secret(secrets[i].kind, sec)) != PDS_OK)
				return rc;
			v = sec;
		}
		rc = put_line(b, secrets[i].name, v, err, errlen);
		sodium_memzero(sec, sizeof(sec));
		if (rc != PDS_OK)
			return rc;
	}
	return put_rest(b, envp, err, errlen);
}

/* Write all of b to a new temporary file beside path; its name in tmp. */
static int
write_temp(const char *path, const struct buf *b, char *tmp, size_t tmplen,
    char *err, size_t errlen)
{
	int	 fd;

	if ((size_t)snprintf(tmp, tmplen, "%s.XXXXXX", path) >= tmplen)
		return init_fail(err, errlen, "%s: path too long", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return init_fail(err, errlen, "%s: %s", tmp, strerror(errno));
	if (manifest_write_all(fd, b->p, b->len) != PDS_OK ||
	    fsync(fd) == -1) {
		init_fail(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return PDS_EIO;
	}
	close(fd);
	return PDS_OK;
}

/* The directory of path, made durable after the link. */
static void
sync_dir(const char *path)
{
	char	 d[PATH_MAX];
	int	 fd;

	if ((size_t)snprintf(d, sizeof(d), "%s", path) >= sizeof(d))
		return;
	if ((fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return;
	(void)fsync(fd);
	close(fd);
}

int
config_init_write(const char *path, char *const *envp, char *err,
    size_t errlen)
{
	static char *const	 noenv[] = { NULL };
	struct config		*cfg = NULL;
	struct buf		 b;
	struct stat		 st;
	char			 tmp[PATH_MAX], lerr[512];
	int			 rc;

	if (errlen > 0)
		err[0] = '\0';
	if (path == NULL || *path == '\0')
		return init_fail(err, errlen, "--init-config needs -c FILE, "
		    "the file to write");
	if (lstat(path, &st) == 0)
		return init_fail(err, errlen, "%s exists; --init-config never "
		    "overwrites an env file (it holds the secrets)", path);
	if ((rc = check_environment(envp, err, errlen)) != PDS_OK ||
	    (rc = check_required(envp, err, errlen)) != PDS_OK)
		return rc;
	buf_init(&b, INIT_TEXT_MAX);
	if ((rc = buf_reserve(&b, INIT_TEXT_MAX)) != PDS_OK ||
	    (rc = compose(&b, envp, err, errlen)) != PDS_OK ||
	    (rc = write_temp(path, &b, tmp, sizeof(tmp), err, errlen)) !=
	    PDS_OK)
		goto out;
	/* the file must load as pdsd will load it, with no environment */
	if ((rc = config_load(&cfg, tmp, noenv, lerr, sizeof(lerr))) !=
	    PDS_OK) {
		init_fail(err, errlen, "the new file would not load: %s",
		    lerr);
		unlink(tmp);
		goto out;
	}
	config_free(cfg);
	if (link(tmp, path) == -1) {
		rc = init_fail(err, errlen, "%s: %s", path, errno == EEXIST ?
		    "exists; --init-config never overwrites an env file" :
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	unlink(tmp);
	sync_dir(path);
	rc = PDS_OK;
out:
	if (b.p != NULL)
		sodium_memzero(b.p, b.cap);
	buf_clear(&b);
	if (rc == PDS_ENOMEM && errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	else if (rc != PDS_OK && errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "%s", pds_strerror(rc));
	return rc;
}

int
config_init_main(const char *path)
{
	extern char	**environ;
	char		  err[768];

	if (config_init_write(path, environ, err, sizeof(err)) != PDS_OK) {
		fprintf(stderr, "pdsd: --init-config: %s\n", err);
		return 1;
	}
	printf("pdsd: wrote %s with new secrets; check it with: pdsd -c %s "
	    "--check-config\n", path, path);
	return fflush(stdout) == 0 ? 0 : 1;
}
