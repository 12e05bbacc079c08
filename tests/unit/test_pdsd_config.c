/*
 * test_pdsd_config: loading pdsd's settings from an env file and an
 * environment: defaults and derived values, the env file's syntax, which
 * source wins, every kind of malformed value refused with the variable
 * named (and secrets never echoed), and the printed settings with the
 * secrets masked.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "../../pdsd/config.h"
#include "err.h"
#include "log.h"

#include "t.h"

#define KEYHEX	"4f1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0"
#define JWT	"PDS_JWT_SECRET=jwt-secret-value"
#define ADMIN	"PDS_ADMIN_PASSWORD=admin-secret-value"
#define ROTKEY	"PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=" KEYHEX

static char	 tmpdir[] = "/tmp/test_pdsd_config.XXXXXX";
static char	 err[512];

/*
 * Load with the three required variables plus up to four more (each
 * may be NULL); returns the code, *cfgp set on success.
 */
static int
load_with(struct config **cfgp, const char *file, const char *e0,
    const char *e1, const char *e2, const char *e3)
{
	const char	*env[16];
	size_t		 n = 0;

	env[n++] = JWT;
	env[n++] = ADMIN;
	env[n++] = ROTKEY;
	if (e0 != NULL)
		env[n++] = e0;
	if (e1 != NULL)
		env[n++] = e1;
	if (e2 != NULL)
		env[n++] = e2;
	if (e3 != NULL)
		env[n++] = e3;
	env[n] = NULL;
	err[0] = '\0';
	return config_load(cfgp, file, (char *const *)env, err, sizeof(err));
}

/* Whether one extra setting is refused with an error naming `name'. */
static bool
refused(const char *setting, const char *name)
{
	struct config	*cfg = (struct config *)1;
	int		 rc;

	rc = load_with(&cfg, NULL, setting, NULL, NULL, NULL);
	if (rc == PDS_OK) {
		config_free(cfg);
		return false;
	}
	return cfg == NULL && strstr(err, name) != NULL;
}

static size_t
var_idx(const char *name)
{
	size_t	 i;

	for (i = 0; i < config_nvars(); i++)
		if (strcmp(config_var_name(i), name) == 0)
			return i;
	return (size_t)-1;
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE	*f = fopen(path, "wb");

	if (f == NULL)
		return;
	fwrite(text, 1, len, f);
	fclose(f);
}

static void
test_defaults(void)
{
	struct config	*cfg = NULL;
	int		 rc;

	t_group("defaults");
	rc = load_with(&cfg, NULL, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_OK && cfg != NULL, "minimal config: %s", err);
	if (cfg == NULL) {
		t_group_end();
		return;
	}
	CHECK(strcmp(cfg->hostname, "localhost") == 0, "hostname");
	CHECK(cfg->port == 2583, "port %lld", (long long)cfg->port);
	CHECK(strcmp(cfg->bind_address, "0.0.0.0") == 0, "bind address");
	CHECK(strcmp(cfg->service_did, "did:web:localhost") == 0,
	    "service DID derived: %s", cfg->service_did);
	CHECK(cfg->handle_domains.n == 1 &&
	    strcmp(cfg->handle_domains.v[0], ".test") == 0,
	    "localhost serves .test handles");
	CHECK(cfg->blob_upload_limit == 5242880, "blob limit");
	CHECK(cfg->max_repo_import_size == cfg->blob_upload_limit,
	    "import limit follows the blob limit");
	CHECK(strcmp(cfg->public_url, "http://localhost:2583") == 0,
	    "public URL: %s", cfg->public_url);
	CHECK(strcmp(cfg->db_path, "./pds.sqlite") == 0, "db path: %s",
	    cfg->db_path);
	CHECK(strcmp(cfg->blobstore_dir, "./blocks") == 0 &&
	    strcmp(cfg->blobstore_tmp_dir, "./blocks/tempt") == 0,
	    "blob dirs: %s %s", cfg->blobstore_dir, cfg->blobstore_tmp_dir);
	CHECK(strcmp(cfg->admin_socket, "./pdsd.sock") == 0, "admin socket");
	CHECK(cfg->threads >= 2 && cfg->threads <= 64, "threads %lld",
	    (long long)cfg->threads);
	CHECK(cfg->log_verbosity == 1, "log level info");
	CHECK(cfg->invite_required && !cfg->dev_mode &&
	    !cfg->rate_limits_enabled && !cfg->disable_ssrf_protection,
	    "booleans");
	CHECK(cfg->max_connections == 4096, "max connections");
	CHECK(cfg->appview_url == NULL && cfg->dpop_secret == NULL,
	    "unset stays NULL");
	CHECK(strcmp(cfg->jwt_secret, "jwt-secret-value") == 0 &&
	    strcmp(cfg->admin_password, "admin-secret-value") == 0, "secrets");
	CHECK(cfg->plc_rotation_key[0] == 0x4f &&
	    cfg->plc_rotation_key[31] == 0xf0, "rotation key decoded");
	CHECK(cfg->src[var_idx("PDS_PORT")] == CFG_SRC_DEFAULT &&
	    cfg->src[var_idx("PDS_JWT_SECRET")] == CFG_SRC_ENV &&
	    cfg->src[var_idx("PDS_BSKY_APP_VIEW_URL")] == CFG_SRC_UNSET,
	    "sources");
	CHECK(config_is_service_handle(cfg, "alice.test"), "a .test handle");
	CHECK(config_is_service_handle(cfg, "test"), "the domain itself");
	CHECK(!config_is_service_handle(cfg, "alice.nottest"),
	    "a suffix that is not a label");
	CHECK(!config_is_service_handle(cfg, "alice.example.com"), "other");
	config_free(cfg);

	/* Derived values follow the values they derive from. */
	rc = load_with(&cfg, NULL, "PDS_HOSTNAME=PDS.Example.COM",
	    "PDS_PORT=8080", "PDS_DATA_DIRECTORY=/srv/pds",
	    "PDS_BLOB_UPLOAD_LIMIT=1000");
	CHECK(rc == PDS_OK, "derived: %s", err);
	if (rc == PDS_OK) {
		CHECK(strcmp(cfg->hostname, "pds.example.com") == 0,
		    "host folded to lower case");
		CHECK(strcmp(cfg->public_url, "https://pds.example.com") == 0,
		    "https, no port: %s", cfg->public_url);
		CHECK(strcmp(cfg->service_did, "did:web:pds.example.com") == 0,
		    "service DID");
		CHECK(cfg->handle_domains.n == 1 && strcmp(
		    cfg->handle_domains.v[0], ".pds.example.com") == 0,
		    "handle domain");
		CHECK(strcmp(cfg->db_path, "/srv/pds/pds.sqlite") == 0 &&
		    strcmp(cfg->blobstore_dir, "/srv/pds/blocks") == 0,
		    "paths under the data directory");
		CHECK(cfg->max_repo_import_size == 1000, "import limit %lld",
		    (long long)cfg->max_repo_import_size);
		CHECK(strcmp(cfg->service_name, "pds.example.com PDS") == 0,
		    "service name");
		config_free(cfg);
	}
	rc = load_with(&cfg, NULL, "PDS_HOSTNAME=pds.example.com",
	    "PDS_DEV_MODE=true", "PDS_MOD_SERVICE_URL=https://mod.example/",
	    "PDS_MOD_SERVICE_DID=did:plc:mod");
	CHECK(rc == PDS_OK, "dev mode: %s", err);
	if (rc == PDS_OK) {
		CHECK(strcmp(cfg->public_url, "http://pds.example.com:2583") ==
		    0, "dev mode: http with port: %s", cfg->public_url);
		CHECK(cfg->disable_ssrf_protection, "dev mode: no SSRF checks");
		CHECK(strcmp(cfg->mod_service_url, "https://mod.example") == 0,
		    "trailing slash dropped");
		CHECK(cfg->report_service_url != NULL && strcmp(
		    cfg->report_service_url, "https://mod.example") == 0 &&
		    strcmp(cfg->report_service_did, "did:plc:mod") == 0,
		    "reports go to the mod service");
		config_free(cfg);
	}

	/* An empty value means unset: the default comes back. */
	rc = load_with(&cfg, NULL, "PDS_PORT=", "PDS_THREADS=3", NULL, NULL);
	CHECK(rc == PDS_OK && cfg->port == 2583 && cfg->threads == 3,
	    "empty is unset; threads kept: %s", err);
	if (rc == PDS_OK)
		config_free(cfg);
	t_group_end();
}

static void
test_required(void)
{
	struct config	*cfg = (struct config *)1;
	const char	*env[4];
	int		 rc;

	t_group("required");
	env[0] = ADMIN;
	env[1] = ROTKEY;
	env[2] = NULL;
	rc = config_load(&cfg, NULL, (char *const *)env, err, sizeof(err));
	CHECK(rc == PDS_EINVAL && cfg == NULL, "no JWT secret refused");
	CHECK(strstr(err, "PDS_JWT_SECRET") != NULL &&
	    strstr(err, "required") != NULL, "named: %s", err);
	env[0] = JWT;
	env[1] = ROTKEY;
	rc = config_load(&cfg, NULL, (char *const *)env, err, sizeof(err));
	CHECK(rc == PDS_EINVAL && strstr(err, "PDS_ADMIN_PASSWORD") != NULL,
	    "no admin password: %s", err);
	env[0] = JWT;
	env[1] = ADMIN;
	rc = config_load(&cfg, NULL, (char *const *)env, err, sizeof(err));
	CHECK(rc == PDS_EINVAL && strstr(err,
	    "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX") != NULL,
	    "no rotation key: %s", err);
	CHECK(refused("PDS_JWT_SECRET=", "PDS_JWT_SECRET"),
	    "an empty secret is a missing one: %s", err);
	env[0] = NULL;
	rc = config_load(&cfg, NULL, (char *const *)env, err, sizeof(err));
	CHECK(rc == PDS_EINVAL && strstr(err, "PDS_JWT_SECRET") != NULL &&
	    strstr(err, "PDS_ADMIN_PASSWORD") != NULL && strstr(err,
	    "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX") != NULL,
	    "every missing one named at once: %s", err);
	t_group_end();
}

static void
test_malformed(void)
{
	struct config	*cfg;
	int		 rc;

	t_group("malformed values");
	CHECK(refused("PDS_PORT=0", "PDS_PORT"), "port 0: %s", err);
	CHECK(strstr(err, "1 to 65535") != NULL, "range told: %s", err);
	CHECK(refused("PDS_PORT=65536", "PDS_PORT"), "port 65536");
	CHECK(refused("PDS_PORT=80x", "PDS_PORT"), "trailing junk");
	CHECK(refused("PDS_PORT= 80", "PDS_PORT"), "leading space");
	CHECK(refused("PDS_PORT=+80", "PDS_PORT"), "plus sign");
	CHECK(refused("PDS_PORT=-1", "PDS_PORT"), "negative");
	CHECK(refused("PDS_BLOB_UPLOAD_LIMIT=99999999999999999999",
	    "PDS_BLOB_UPLOAD_LIMIT"), "overflow");
	CHECK(refused("PDS_MAX_CONNECTIONS=15", "PDS_MAX_CONNECTIONS"),
	    "below the minimum");
	CHECK(refused("PDS_HTTP_HEADERS_TIMEOUT=99",
	    "PDS_HTTP_HEADERS_TIMEOUT"), "head deadline under 100 ms");
	CHECK(refused("PDS_MAX_BUFFERED_BODY_BYTES=1000",
	    "PDS_MAX_BUFFERED_BODY_BYTES"), "body cap under 1 MiB");
	CHECK(refused("PDS_MAX_CONNECTIONS_PER_IP=0",
	    "PDS_MAX_CONNECTIONS_PER_IP"), "no connections per address");
	CHECK(refused("PDS_DEV_MODE=yes", "PDS_DEV_MODE"), "bool: %s", err);
	CHECK(strstr(err, "true or false") != NULL && strstr(err, "yes"),
	    "hint and value: %s", err);
	CHECK(refused("PDS_DID_PLC_URL=ftp://plc.example", "PDS_DID_PLC_URL"),
	    "URL scheme");
	CHECK(refused("PDS_DID_PLC_URL=https://", "PDS_DID_PLC_URL"),
	    "URL without host");
	CHECK(refused("PDS_DID_PLC_URL=https://a b", "PDS_DID_PLC_URL"),
	    "URL with a space");
	CHECK(refused("PDS_HOSTNAME=pds.example.com:443", "PDS_HOSTNAME"),
	    "host with port");
	CHECK(refused("PDS_HOSTNAME=https://pds.example.com", "PDS_HOSTNAME"),
	    "host with scheme");
	CHECK(refused("PDS_HOSTNAME=a..b", "PDS_HOSTNAME"), "empty label");
	CHECK(refused("PDS_HOSTNAME=example.", "PDS_HOSTNAME"), "final dot");
	CHECK(refused("PDS_BIND_ADDRESS=256.0.0.1", "PDS_BIND_ADDRESS"),
	    "bad IPv4");
	CHECK(refused("PDS_BIND_ADDRESS=localhost", "PDS_BIND_ADDRESS"),
	    "a name is not an address");
	CHECK(refused("PDS_SERVICE_DID=web:example.com", "PDS_SERVICE_DID"),
	    "DID without did:");
	CHECK(refused("PDS_SERVICE_DID=did:web:", "PDS_SERVICE_DID"),
	    "DID without id");
	CHECK(refused("PDS_SERVICE_DID=did:Web:x", "PDS_SERVICE_DID"),
	    "DID method in capitals");
	CHECK(refused("PDS_SERVICE_HANDLE_DOMAINS=example.com",
	    "PDS_SERVICE_HANDLE_DOMAINS"), "domain without a dot");
	CHECK(refused("PDS_SERVICE_HANDLE_DOMAINS=, ,",
	    "PDS_SERVICE_HANDLE_DOMAINS"), "an empty list");
	CHECK(refused("PDS_CRAWLERS=https://bsky.network,bsky.app",
	    "PDS_CRAWLERS"), "a crawler without scheme");
	CHECK(refused("PDS_LOG_LEVEL=verbose", "PDS_LOG_LEVEL"), "log level");
	CHECK(refused("PDS_CONTACT_EMAIL_ADDRESS=nobody",
	    "PDS_CONTACT_EMAIL_ADDRESS"), "email without @");
	CHECK(refused("PDS_BLOBSTORE_S3_ACCESS_KEY_ID=AKIA",
	    "PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY"), "half S3 keys: %s", err);
	CHECK(refused("PDS_BLOBSTORE_S3_FORCE_PATH_STYLE=maybe",
	    "PDS_BLOBSTORE_S3_FORCE_PATH_STYLE"), "S3 path style: %s", err);
	CHECK(refused("PDS_ENTRYWAY_URL=https://entry.example",
	    "PDS_ENTRYWAY_URL"), "entryway refused");
	CHECK(refused("PDS_SERVICE_NAME=My\tPDS", "PDS_SERVICE_NAME"),
	    "control character: %s", err);
	CHECK(refused("PDS_BSKY_APP_VIEW_URL=https://api.bsky.app",
	    "PDS_BSKY_APP_VIEW_DID"), "half a pair: %s", err);
	CHECK(strstr(err, "PDS_BSKY_APP_VIEW_URL") != NULL,
	    "both halves named: %s", err);
	CHECK(refused("PDS_EMAIL_FROM_ADDRESS=pds@example.com",
	    "PDS_EMAIL_SMTP_URL"), "email sender without SMTP");

	/* A refusal never echoes a secret. */
	CHECK(refused("PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=zz"
	    "1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0",
	    "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX"), "non-hex key: %s",
	    err);
	CHECK(strstr(err, "zz1b2c") == NULL, "key not echoed: %s", err);
	CHECK(refused("PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=abcd",
	    "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX"), "short key");
	CHECK(refused("PDS_EMAIL_SMTP_URL=http://user:hunter2@mail.example",
	    "PDS_EMAIL_SMTP_URL"), "SMTP URL scheme: %s", err);
	CHECK(strstr(err, "hunter2") == NULL, "SMTP password not echoed: %s",
	    err);
	CHECK(refused("PDS_JWT_SECRET=hunter2\x01", "PDS_JWT_SECRET"),
	    "control character in a secret");
	CHECK(strstr(err, "hunter2") == NULL, "secret not echoed: %s", err);

	/* Accepted: ignored reference variables, lists, stray environment. */
	rc = load_with(&cfg, NULL, "PDS_PRIMARY_COLOR=#ff0000",
	    "PDS_CRAWLERS=https://bsky.network/, http://relay.example",
	    "PDS_NOT_A_VARIABLE=1", "PDS_LOG_LEVEL=debug");
	CHECK(rc == PDS_OK, "accepted: %s", err);
	if (rc == PDS_OK) {
		CHECK(cfg->crawlers.n == 2 &&
		    strcmp(cfg->crawlers.v[0], "https://bsky.network") == 0 &&
		    strcmp(cfg->crawlers.v[1], "http://relay.example") == 0,
		    "crawler list");
		CHECK(cfg->log_verbosity == 2, "debug");
		config_free(cfg);
	}
	rc = load_with(&cfg, NULL, "PDS_DEV_MODE=TRUE", "PDS_INVITE_REQUIRED=0",
	    "PDS_BIND_ADDRESS=::1", NULL);
	CHECK(rc == PDS_OK && cfg->dev_mode && !cfg->invite_required,
	    "TRUE and 0: %s", err);
	if (rc == PDS_OK)
		config_free(cfg);
	t_group_end();
}

static void
test_envfile(void)
{
	static const char text[] =
	    "# a comment\n"
	    "\n"
	    "   PDS_HOSTNAME=file.example.com   \n"
	    "export PDS_PORT=\"3000\"\n"
	    "PDS_SERVICE_NAME='Quoted Name'\n"
	    "NODE_ENV=production\n"
	    "LOG_ENABLED=true\n"
	    "PDS_THREADS=5\n"
	    "PDS_DATA_DIRECTORY=/var/pds\n";
	struct config	*cfg;
	char		 path[128];
	int		 rc;

	t_group("env file");
	snprintf(path, sizeof(path), "%s/pds.env", tmpdir);
	write_file(path, text, sizeof(text) - 1);
	rc = load_with(&cfg, path, "PDS_THREADS=7", NULL, NULL, NULL);
	CHECK(rc == PDS_OK, "load: %s", err);
	if (rc == PDS_OK) {
		CHECK(strcmp(cfg->hostname, "file.example.com") == 0,
		    "whitespace trimmed: %s", cfg->hostname);
		CHECK(cfg->port == 3000, "export and double quotes");
		CHECK(strcmp(cfg->service_name, "Quoted Name") == 0,
		    "single quotes");
		CHECK(cfg->threads == 7, "the environment wins");
		CHECK(strcmp(cfg->data_dir, "/var/pds") == 0, "data dir");
		CHECK(cfg->src[var_idx("PDS_PORT")] == CFG_SRC_FILE &&
		    cfg->src[var_idx("PDS_THREADS")] == CFG_SRC_ENV,
		    "sources");
		config_free(cfg);
	}

	write_file(path, "PDS_PORT=1\nPDS_BOGUS=1\n", 23);
	rc = load_with(&cfg, path, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_EINVAL && strstr(err, ":2: PDS_BOGUS: unknown") !=
	    NULL, "unknown PDS_ key, line named: %s", err);
	CHECK(strstr(err, path) != NULL, "file named");
	write_file(path, "# ok\njust words\n", 16);
	rc = load_with(&cfg, path, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_EINVAL && strstr(err, ":2: not a KEY=VALUE") != NULL,
	    "not KEY=VALUE: %s", err);
	write_file(path, "PDS-PORT=1\n", 11);
	rc = load_with(&cfg, path, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_EINVAL && strstr(err, "bad variable name") != NULL,
	    "bad name: %s", err);
	write_file(path, "PDS_SERVICE_NAME=\"open\n", 23);
	rc = load_with(&cfg, path, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_EINVAL && strstr(err, "PDS_SERVICE_NAME") != NULL &&
	    strstr(err, "unterminated quote") != NULL, "open quote: %s", err);
	write_file(path, "PDS_SERVICE_NAME=\"\n", 19);
	rc = load_with(&cfg, path, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_EINVAL && strstr(err, "unterminated quote") != NULL,
	    "a lone quote: %s", err);
	write_file(path, "PDS_PORT=1\0\n", 12);
	rc = load_with(&cfg, path, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_EINVAL && strstr(err, "NUL") != NULL, "NUL byte: %s",
	    err);
	write_file(path, "PDS_PORT=99999\n", 15);
	rc = load_with(&cfg, path, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_EINVAL && strstr(err, "PDS_PORT") != NULL,
	    "a bad value from the file: %s", err);
	rc = load_with(&cfg, path, "PDS_PORT=4000", NULL, NULL, NULL);
	CHECK(rc == PDS_OK && cfg->port == 4000,
	    "... overridden by the environment: %s", err);
	if (rc == PDS_OK)
		config_free(cfg);
	write_file(path, "", 0);
	rc = load_with(&cfg, path, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_OK, "an empty file: %s", err);
	if (rc == PDS_OK)
		config_free(cfg);
	unlink(path);
	rc = load_with(&cfg, path, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_EINVAL && strstr(err, path) != NULL,
	    "a missing file named: %s", err);
	t_group_end();
}

/* Run config_print with fd 1 sent to a file; the output, or NULL. */
static char *
print_captured(const struct config *cfg, bool json)
{
	char	 path[128];
	char	*out;
	int	 fd, saved, rc;

	snprintf(path, sizeof(path), "%s/print.out", tmpdir);
	fflush(stdout);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return NULL;
	saved = dup(1);
	dup2(fd, 1);
	close(fd);
	rc = config_print(cfg, json);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	out = rc == PDS_OK ? t_slurp(path, NULL) : NULL;
	unlink(path);
	return out;
}

static void
test_print(void)
{
	struct config	*cfg;
	json_t		*o;
	char		*out;
	int		 rc;

	t_group("print");
	rc = load_with(&cfg, NULL, "PDS_EMAIL_SMTP_URL=smtps://u:smtp-pw@mx",
	    "PDS_EMAIL_FROM_ADDRESS=pds@example.com",
	    "PDS_RATE_LIMIT_BYPASS_KEY=bypass-secret",
	    "PDS_DPOP_SECRET=dpop-secret-value");
	CHECK(rc == PDS_OK, "load: %s", err);
	if (rc != PDS_OK) {
		t_group_end();
		return;
	}
	out = print_captured(cfg, false);
	CHECK(out != NULL, "text printed");
	if (out != NULL) {
		CHECK(strstr(out, "PDS_JWT_SECRET=********\n") != NULL &&
		    strstr(out, "PDS_ADMIN_PASSWORD=********\n") != NULL &&
		    strstr(out, "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="
		    "********\n") != NULL, "secrets masked");
		CHECK(strstr(out, "PDS_EMAIL_SMTP_URL=********\n") != NULL &&
		    strstr(out, "PDS_RATE_LIMIT_BYPASS_KEY=********\n") != NULL,
		    "SMTP URL and bypass key masked");
		CHECK(strstr(out, "secret-value") == NULL &&
		    strstr(out, "smtp-pw") == NULL &&
		    strstr(out, "bypass-secret") == NULL &&
		    strstr(out, KEYHEX) == NULL, "no secret text anywhere");
		CHECK(strstr(out, "PDS_PORT=2583\n") != NULL &&
		    strstr(out, "PDS_EMAIL_FROM_ADDRESS=pds@example.com\n") !=
		    NULL, "plain values shown");
		CHECK(strstr(out, "PDS_BSKY_APP_VIEW_URL=# unset") != NULL,
		    "unset marked");
		CHECK(strstr(out, "# public URL: http://localhost:2583") !=
		    NULL, "public URL line");
		free(out);
	}
	out = print_captured(cfg, true);
	o = out != NULL ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_is_object(o), "JSON printed");
	if (o != NULL) {
		json_t *e = json_object_get(o, "PDS_JWT_SECRET");
		CHECK(strcmp(json_string_value(json_object_get(e, "value")),
		    "********") == 0 && strcmp(json_string_value(
		    json_object_get(e, "source")), "env") == 0,
		    "JSON: secret masked, source env");
		e = json_object_get(o, "PDS_PORT");
		CHECK(strcmp(json_string_value(json_object_get(e, "value")),
		    "2583") == 0 && strcmp(json_string_value(
		    json_object_get(e, "source")), "default") == 0,
		    "JSON: port from the default");
		CHECK(json_is_null(json_object_get(json_object_get(o,
		    "PDS_BSKY_APP_VIEW_URL"), "value")), "JSON: unset is null");
		CHECK(json_integer_value(json_object_get(o, "threads")) ==
		    cfg->threads, "JSON: threads");
		CHECK(strstr(out, "secret-value") == NULL &&
		    strstr(out, "smtp-pw") == NULL &&
		    strstr(out, "bypass-secret") == NULL, "JSON: no secrets");
		json_decref(o);
	}
	free(out);
	config_free(cfg);
	t_group_end();
}

static void
test_names(void)
{
	size_t	 i, j, n = config_nvars();
	bool	 ok = true, uniq = true;

	t_group("variable names");
	CHECK(n > 50, "%zu variables", n);
	for (i = 0; i < n; i++) {
		if (strncmp(config_var_name(i), "PDS_", 4) != 0)
			ok = false;
		for (j = i + 1; j < n; j++)
			if (strcmp(config_var_name(i), config_var_name(j)) == 0)
				uniq = false;
	}
	CHECK(ok, "every name starts PDS_");
	CHECK(uniq, "no name twice");
	CHECK(config_var_name(n) == NULL, "NULL past the end");
	CHECK(config_var_index("PDS_HOSTNAME=x", 12) >= 0 &&
	    strcmp(config_var_name((size_t)config_var_index("PDS_HOSTNAME",
	    12)), "PDS_HOSTNAME") == 0, "index of a name by its length");
	CHECK(config_var_index("PDS_HOSTNAM", 11) == -1 &&
	    config_var_index("PDS_NO_SUCH_VARIABLE", 20) == -1,
	    "-1 for an unknown name or a prefix");
	t_group_end();
}

/*
 * PDS_THREADS=0 follows the CPUs the process may run on, not the
 * machine's: pinned to one CPU (as taskset or a cpuset does) it is 1.
 */
static void
test_threads_affinity(void)
{
	struct config	*cfg = NULL;
	cpu_set_t	 saved, one;
	int		 rc, cpu;

	t_group("automatic threads follow the affinity mask");
	if (sched_getaffinity(0, sizeof(saved), &saved) != 0) {
		CHECK(0, "sched_getaffinity: %s", strerror(errno));
		t_group_end();
		return;
	}
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &saved); cpu++)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	CHECK(sched_setaffinity(0, sizeof(one), &one) == 0, "pin to CPU %d",
	    cpu);
	rc = load_with(&cfg, NULL, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_OK && cfg->threads == 1, "one CPU: 1 thread, got "
	    "%lld", rc == PDS_OK ? (long long)cfg->threads : -1LL);
	if (rc == PDS_OK)
		config_free(cfg);
	CHECK(sched_setaffinity(0, sizeof(saved), &saved) == 0,
	    "affinity restored");
	rc = load_with(&cfg, NULL, NULL, NULL, NULL, NULL);
	CHECK(rc == PDS_OK && cfg->threads == (CPU_COUNT(&saved) > 64 ? 64 :
	    CPU_COUNT(&saved)), "all CPUs: one thread each");
	if (rc == PDS_OK)
		config_free(cfg);
	t_group_end();
}

int
main(void)
{
	log_init("test_pdsd_config", 0, 0);
	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
		return 1;
	test_defaults();
	test_required();
	test_malformed();
	test_envfile();
	test_print();
	test_names();
	test_threads_affinity();
	rmdir(tmpdir);
	return t_done("test_pdsd_config");
}
