/*
 * config: the PDS_* variable table, the env-file reader, validation and
 * derived defaults.  See config.h for the contract.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "err.h"
#include "strv.h"
#include "syntax.h"
#include "thread.h"

extern char **environ;

enum vtype {
	V_STR,		/* any non-empty text */
	V_INT,		/* decimal integer in [min, max] */
	V_BOOL,		/* true/false/1/0 */
	V_URL,		/* http(s)://..., trailing '/' dropped */
	V_SMTP,		/* smtp(s)://... */
	V_DID,		/* did:<method>:<id> */
	V_HOST,		/* DNS name, folded to lower case */
	V_IP,		/* IPv4 or IPv6 literal */
	V_DOMAINS,	/* comma list of ".domain" */
	V_URLS,		/* comma list of URLs */
	V_HEX32,	/* 64 hex digits */
	V_LOGLEVEL,	/* fatal|error|warn|info|debug|trace */
	V_EMAIL,	/* something@something */
	V_IGNORED,	/* reference variable pdsd accepts and ignores */
	V_REFUSED,	/* reference variable for a feature pdsd lacks */
};

#define F_SECRET	0x01
#define F_REQUIRED	0x02
#define NOFIELD		((size_t)-1)
#define FLD(f)		offsetof(struct config, f)

struct var {
	const char	*name;
	unsigned char	 type;
	unsigned char	 flags;
	const char	*def;		/* static default, or NULL */
	size_t		 off;		/* field in struct config */
	int64_t		 min, max;	/* V_INT range */
};

#define I64MAX	INT64_MAX
#define DAY_MS	"86400000"

static const struct var vars[] = {
	/* core */
	{ "PDS_HOSTNAME", V_HOST, 0, "localhost", FLD(hostname), 0, 0 },
	{ "PDS_PORT", V_INT, 0, "2583", FLD(port), 1, 65535 },
	{ "PDS_BIND_ADDRESS", V_IP, 0, "0.0.0.0", FLD(bind_address), 0, 0 },
	{ "PDS_SERVICE_DID", V_DID, 0, NULL, FLD(service_did), 0, 0 },
	{ "PDS_DATA_DIRECTORY", V_STR, 0, ".", FLD(data_dir), 0, 0 },
	{ "PDS_VERSION", V_STR, 0, PDSD_VERSION, FLD(version), 0, 0 },
	{ "PDS_DEV_MODE", V_BOOL, 0, "false", FLD(dev_mode), 0, 0 },
	{ "PDS_JWT_SECRET", V_STR, F_SECRET | F_REQUIRED, NULL,
	    FLD(jwt_secret), 0, 0 },
	{ "PDS_ADMIN_PASSWORD", V_STR, F_SECRET | F_REQUIRED, NULL,
	    FLD(admin_password), 0, 0 },
	{ "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX", V_HEX32,
	    F_SECRET | F_REQUIRED, NULL, FLD(plc_rotation_key), 0, 0 },
	{ "PDS_PLC_ROTATION_KEY_KMS_KEY_ID", V_REFUSED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_DPOP_SECRET", V_STR, F_SECRET, NULL, FLD(dpop_secret), 0, 0 },
	{ "PDS_ACCOUNT_DB_LOCATION", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_SEQUENCER_DB_LOCATION", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_DID_CACHE_DB_LOCATION", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_ACTOR_STORE_DIRECTORY", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_ACTOR_STORE_CACHE_SIZE", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_SQLITE_DISABLE_WAL_AUTO_CHECKPOINT", V_IGNORED, 0, NULL,
	    NOFIELD, 0, 0 },
	/* pdsd's own: the write-ahead log's bound (store_wal.h) */
	{ "PDS_SQLITE_WAL_MAX_MB", V_INT, 0, "64", FLD(wal_max_mb), 1,
	    1048576 },
	/* pdsd's own: the repo writer's per-repo state (repo_writer.h) */
	{ "PDS_REPO_CACHE_MB", V_INT, 0, "16", FLD(repo_cache_mb), 1,
	    65536 },
	/* pdsd's own: new tree nodes kept in repo_blocks_recent */
	{ "PDS_REPO_RECENT_BLOCKS", V_INT, 0, "16384",
	    FLD(repo_recent_blocks), 1, 16777216 },
	/* blobs */
	{ "PDS_BLOBSTORE_DISK_LOCATION", V_STR, 0, NULL, FLD(blobstore_dir),
	    0, 0 },
	{ "PDS_BLOBSTORE_DISK_TMP_LOCATION", V_STR, 0, NULL,
	    FLD(blobstore_tmp_dir), 0, 0 },
	/* S3 (blobstore_s3.h): the reference's variables and meanings */
	{ "PDS_BLOBSTORE_S3_BUCKET", V_STR, 0, NULL, FLD(s3_bucket), 0, 0 },
	{ "PDS_BLOBSTORE_S3_REGION", V_STR, 0, NULL, FLD(s3_region), 0, 0 },
	{ "PDS_BLOBSTORE_S3_ENDPOINT", V_URL, 0, NULL, FLD(s3_endpoint), 0, 0 },
	{ "PDS_BLOBSTORE_S3_FORCE_PATH_STYLE", V_BOOL, 0, "false",
	    FLD(s3_force_path_style), 0, 0 },
	{ "PDS_BLOBSTORE_S3_ACCESS_KEY_ID", V_STR, 0, NULL,
	    FLD(s3_access_key_id), 0, 0 },
	{ "PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY", V_STR, F_SECRET, NULL,
	    FLD(s3_secret_access_key), 0, 0 },
	{ "PDS_BLOBSTORE_S3_UPLOAD_TIMEOUT_MS", V_INT, 0, "20000",
	    FLD(s3_upload_timeout_ms), 1, 86400000 },
	{ "PDS_BLOBSTORE_S3_REQUEST_TIMEOUT_MS", V_INT, 0, "0",
	    FLD(s3_request_timeout_ms), 0, 86400000 },
	{ "PDS_BLOB_UPLOAD_LIMIT", V_INT, 0, "5242880", FLD(blob_upload_limit),
	    1, (int64_t)1 << 40 },
	{ "PDS_MAX_REPO_IMPORT_SIZE", V_INT, 0, NULL,
	    FLD(max_repo_import_size), 1, (int64_t)1 << 40 },
	{ "PDS_ACCEPTING_REPO_IMPORTS", V_BOOL, 0, "true",
	    FLD(accepting_repo_imports), 0, 0 },
	/* pdsd's own: how long an unreferenced upload is kept */
	{ "PDS_BLOB_TEMP_GRACE_SECONDS", V_INT, 0, "21600",
	    FLD(blob_temp_grace_s), 1, 30 * 86400 },
	/* identity and handles */
	{ "PDS_DID_PLC_URL", V_URL, 0, "https://plc.directory",
	    FLD(did_plc_url), 0, 0 },
	{ "PDS_DID_CACHE_STALE_TTL", V_INT, 0, "3600000",
	    FLD(did_cache_stale_ttl_ms), 0, I64MAX },
	{ "PDS_DID_CACHE_MAX_TTL", V_INT, 0, DAY_MS, FLD(did_cache_max_ttl_ms),
	    0, I64MAX },
	{ "PDS_ID_RESOLVER_TIMEOUT", V_INT, 0, "3000",
	    FLD(id_resolver_timeout_ms), 1, 600000 },
	{ "PDS_ID_RESOLVER_FAILURE_TTL", V_INT, 0, "30000",
	    FLD(id_resolver_failure_ttl_ms), 0, 3600000 },
	{ "PDS_RECOVERY_DID_KEY", V_DID, 0, NULL, FLD(recovery_did_key), 0, 0 },
	{ "PDS_SERVICE_HANDLE_DOMAINS", V_DOMAINS, 0, NULL,
	    FLD(handle_domains), 0, 0 },
	{ "PDS_HANDLE_BACKUP_NAMESERVERS", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_ENABLE_DID_DOC_WITH_SESSION", V_BOOL, 0, "false",
	    FLD(did_doc_with_session), 0, 0 },
	/* upstream services */
	{ "PDS_BSKY_APP_VIEW_URL", V_URL, 0, NULL, FLD(appview_url), 0, 0 },
	{ "PDS_BSKY_APP_VIEW_DID", V_DID, 0, NULL, FLD(appview_did), 0, 0 },
	{ "PDS_BSKY_APP_VIEW_CDN_URL_PATTERN", V_STR, 0, NULL,
	    FLD(appview_cdn_url_pattern), 0, 0 },
	{ "PDS_MOD_SERVICE_URL", V_URL, 0, NULL, FLD(mod_service_url), 0, 0 },
	{ "PDS_MOD_SERVICE_DID", V_DID, 0, NULL, FLD(mod_service_did), 0, 0 },
	{ "PDS_REPORT_SERVICE_URL", V_URL, 0, NULL, FLD(report_service_url),
	    0, 0 },
	{ "PDS_REPORT_SERVICE_DID", V_DID, 0, NULL, FLD(report_service_did),
	    0, 0 },
	{ "PDS_CRAWLERS", V_URLS, 0, NULL, FLD(crawlers), 0, 0 },
	{ "PDS_ENTRYWAY_URL", V_REFUSED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_ENTRYWAY_DID", V_REFUSED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_ENTRYWAY_JWT_VERIFY_KEY_K256_PUBLIC_KEY_HEX", V_REFUSED, 0,
	    NULL, NOFIELD, 0, 0 },
	{ "PDS_ENTRYWAY_PLC_ROTATION_KEY", V_REFUSED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_ENTRYWAY_ADMIN_TOKEN", V_REFUSED, F_SECRET, NULL, NOFIELD,
	    0, 0 },
	/* lexicon resolution (lexicon_resolve.h) */
	{ "PDS_LEXICON_AUTHORITY_DID", V_DID, 0, NULL,
	    FLD(lexicon_authority_did), 0, 0 },
	{ "PDS_LEXICON_STALE_TTL", V_INT, 0, DAY_MS,
	    FLD(lexicon_stale_ttl_ms), 0, I64MAX },
	{ "PDS_LEXICON_EXPIRY_TTL", V_INT, 0, "7776000000",
	    FLD(lexicon_expiry_ttl_ms), 0, I64MAX },
	{ "PDS_LEXICON_FAILURE_TTL", V_INT, 0, "300000",
	    FLD(lexicon_failure_ttl_ms), 0, I64MAX },
	{ "PDS_LEXICON_RESOLVE_RECORDS", V_BOOL, 0, "false",
	    FLD(lexicon_resolve_records), 0, 0 },
	/* tests only (development mode): TXT lookups go to this server */
	{ "PDS_DEV_DNS_SERVER", V_STR, 0, NULL, FLD(dev_dns_server), 0, 0 },
	/* accounts, email and invites */
	{ "PDS_INVITE_REQUIRED", V_BOOL, 0, "true", FLD(invite_required),
	    0, 0 },
	{ "PDS_INVITE_INTERVAL", V_INT, 0, NULL, FLD(invite_interval_ms),
	    0, I64MAX },
	{ "PDS_INVITE_EPOCH", V_INT, 0, "0", FLD(invite_epoch_ms), 0, I64MAX },
	{ "PDS_EMAIL_SMTP_URL", V_SMTP, F_SECRET, NULL, FLD(email_smtp_url),
	    0, 0 },
	{ "PDS_EMAIL_FROM_ADDRESS", V_STR, 0, NULL, FLD(email_from_address),
	    0, 0 },
	{ "PDS_EMAIL_DISABLE_CONFIRMATION_LINK", V_BOOL, 0, "false",
	    FLD(email_disable_confirmation_link), 0, 0 },
	/* pdsd's own: how long an email token is valid */
	{ "PDS_EMAIL_TOKEN_TTL_SECONDS", V_INT, 0, "900",
	    FLD(email_token_ttl_s), 1, 7 * 86400 },
	{ "PDS_MODERATION_EMAIL_SMTP_URL", V_SMTP, F_SECRET, NULL,
	    FLD(moderation_email_smtp_url), 0, 0 },
	{ "PDS_MODERATION_EMAIL_ADDRESS", V_STR, 0, NULL,
	    FLD(moderation_email_address), 0, 0 },
	{ "PDS_CONTACT_EMAIL_ADDRESS", V_EMAIL, 0, NULL,
	    FLD(contact_email_address), 0, 0 },
	{ "PDS_PRIVACY_POLICY_URL", V_URL, 0, NULL, FLD(privacy_policy_url),
	    0, 0 },
	{ "PDS_TERMS_OF_SERVICE_URL", V_URL, 0, NULL,
	    FLD(terms_of_service_url), 0, 0 },
	{ "PDS_HOME_URL", V_URL, 0, NULL, FLD(home_url), 0, 0 },
	{ "PDS_SUPPORT_URL", V_URL, 0, NULL, FLD(support_url), 0, 0 },
	{ "PDS_LOGO_URL", V_URL, 0, NULL, FLD(logo_url), 0, 0 },
	{ "PDS_SERVICE_NAME", V_STR, 0, NULL, FLD(service_name), 0, 0 },
	{ "PDS_PRIMARY_COLOR", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_ERROR_COLOR", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_WARNING_COLOR", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_INFO_COLOR", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_SUCCESS_COLOR", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_BACKGROUND_LIGHT_URL", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_BACKGROUND_DARK_URL", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_HCAPTCHA_SITE_KEY", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_HCAPTCHA_SECRET_KEY", V_IGNORED, F_SECRET, NULL, NOFIELD, 0, 0 },
	{ "PDS_HCAPTCHA_TOKEN_SALT", V_IGNORED, F_SECRET, NULL, NOFIELD, 0, 0 },
	{ "PDS_OAUTH_TRUSTED_CLIENTS", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	/* firehose */
	{ "PDS_MAX_SUBSCRIPTION_BUFFER", V_INT, 0, "500",
	    FLD(max_subscription_buffer), 1, 1000000 },
	/* pdsd's own: the firehose's memory and subscriber caps */
	{ "PDS_FIREHOSE_MAX_SUBSCRIBER_BYTES", V_INT, 0, "4194304",
	    FLD(firehose_max_subscriber_bytes), 65536, (int64_t)1 << 30 },
	{ "PDS_FIREHOSE_MAX_SUBSCRIBERS", V_INT, 0, "512",
	    FLD(firehose_max_subscribers), 1, 100000 },
	{ "PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP", V_INT, 0, "16",
	    FLD(firehose_max_subscribers_per_ip), 1, 100000 },
	{ "PDS_REPO_BACKFILL_LIMIT_MS", V_INT, 0, DAY_MS,
	    FLD(repo_backfill_limit_ms), 0, I64MAX },
	/* rate limits */
	{ "PDS_RATE_LIMITS_ENABLED", V_BOOL, 0, "false",
	    FLD(rate_limits_enabled), 0, 0 },
	{ "PDS_RATE_LIMIT_BYPASS_KEY", V_STR, F_SECRET, NULL,
	    FLD(rate_limit_bypass_key), 0, 0 },
	{ "PDS_RATE_LIMIT_BYPASS_IPS", V_STR, 0, NULL,
	    FLD(rate_limit_bypass_ips), 0, 0 },
	{ "PDS_RATE_LIMIT_BUDGETS", V_STR, 0, NULL,
	    FLD(rate_limit_budgets), 0, 0 },
	{ "PDS_TRUSTED_PROXIES", V_STR, 0, "127.0.0.0/8,::1",
	    FLD(trusted_proxies), 0, 0 },
	{ "PDS_REDIS_SCRATCH_ADDRESS", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_REDIS_SCRATCH_PASSWORD", V_IGNORED, F_SECRET, NULL, NOFIELD,
	    0, 0 },
	/* proxy and fetch */
	{ "PDS_DISABLE_SSRF_PROTECTION", V_BOOL, 0, NULL,
	    FLD(disable_ssrf_protection), 0, 0 },
	{ "PDS_FETCH_MAX_RESPONSE_SIZE", V_INT, 0, "524288",
	    FLD(fetch_max_response_size), 1, I64MAX },
	{ "PDS_PROXY_ALLOW_HTTP2", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	{ "PDS_PROXY_HEADERS_TIMEOUT", V_INT, 0, "10000",
	    FLD(proxy_headers_timeout_ms), 1, I64MAX },
	{ "PDS_PROXY_BODY_TIMEOUT", V_INT, 0, "30000",
	    FLD(proxy_body_timeout_ms), 1, I64MAX },
	{ "PDS_PROXY_MAX_RESPONSE_SIZE", V_INT, 0, "10485760",
	    FLD(proxy_max_response_size), 1, I64MAX },
	{ "PDS_PROXY_MAX_RETRIES", V_INT, 0, "0", FLD(proxy_max_retries),
	    0, 10 },
	{ "PDS_PROXY_PREFER_COMPRESSED", V_IGNORED, 0, NULL, NOFIELD, 0, 0 },
	/* pdsd's own */
	{ "PDS_ADMIN_SOCKET", V_STR, 0, NULL, FLD(admin_socket), 0, 0 },
	{ "PDS_ADMIN_SOCKET_GROUP", V_STR, 0, NULL, FLD(admin_socket_group),
	    0, 0 },
	{ "PDS_ADMIN_GROUP", V_STR, 0, NULL, FLD(admin_group), 0, 0 },
	{ "PDS_THREADS", V_INT, 0, "0", FLD(threads), 0, 1024 },
	{ "PDS_LOG_LEVEL", V_LOGLEVEL, 0, "info", FLD(log_verbosity), 0, 0 },
	{ "PDS_MAX_CONNECTIONS", V_INT, 0, "4096", FLD(max_connections),
	    16, 1000000 },
	{ "PDS_MAX_CONNECTIONS_PER_IP", V_INT, 0, "256",
	    FLD(max_connections_per_ip), 1, 1000000 },
	{ "PDS_HTTP_HEADERS_TIMEOUT", V_INT, 0, "10000",
	    FLD(headers_timeout_ms), 100, 3600000 },
	{ "PDS_MAX_BUFFERED_BODY_BYTES", V_INT, 0, "67108864",
	    FLD(max_buffered_body), (int64_t)1 << 20, (int64_t)1 << 40 },
	/* pdsd's own: the pools that keep slow work off the workers */
	{ "PDS_OFFLOAD_NET_THREADS", V_INT, 0, "16",
	    FLD(offload_net_threads), 1, 256 },
	{ "PDS_OFFLOAD_NET_QUEUE", V_INT, 0, "256", FLD(offload_net_queue),
	    1, 65536 },
	{ "PDS_OFFLOAD_CPU_THREADS", V_INT, 0, "0", FLD(offload_cpu_threads),
	    0, 256 },
	{ "PDS_OFFLOAD_CPU_QUEUE", V_INT, 0, "64", FLD(offload_cpu_queue),
	    1, 65536 },
	{ "PDS_OFFLOAD_CLIENT_MAX", V_INT, 0, "16", FLD(offload_client_max),
	    1, 65536 },
	/* pdsd's own: the metrics listener (metrics.c); off when unset */
	{ "PDS_METRICS_ADDRESS", V_STR, 0, NULL, FLD(metrics_address), 0, 0 },
	{ "PDS_METRICS_PUBLIC", V_BOOL, 0, "false", FLD(metrics_public),
	    0, 0 },
};

#define NVARS	(sizeof(vars) / sizeof(vars[0]))
#define ENVFILE_MAX	((size_t)1 << 20)

size_t
config_nvars(void)
{
	return NVARS;
}

const char *
config_var_name(size_t i)
{
	return i < NVARS ? vars[i].name : NULL;
}

int
config_var_index(const char *name, size_t namelen)
{
	size_t	 i;

	for (i = 0; i < NVARS; i++)
		if (strlen(vars[i].name) == namelen &&
		    memcmp(vars[i].name, name, namelen) == 0)
			return (int)i;
	return -1;
}

/* Every failure to read the configuration is PDS_EINVAL. */
#define fail(err, errlen, ...)	\
	pds_errf(err, errlen, PDS_EINVAL, __VA_ARGS__)

static void
wipe_free(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

/* Replace cfg->val[i] with a copy of v[0..n). */
static int
set_raw(struct config *cfg, size_t i, const char *v, size_t n,
    enum cfg_source src)
{
	char	*c;

	if ((c = strndup(v, n)) == NULL)
		return PDS_ENOMEM;
	wipe_free(cfg->val[i]);
	cfg->val[i] = c;
	cfg->src[i] = src;
	return PDS_OK;
}

static int	set_rawf(struct config *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
set_rawf(struct config *cfg, size_t i, const char *fmt, ...)
{
	va_list	 ap;
	char	 tmp[2048];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return PDS_ETOOBIG;
	return set_raw(cfg, i, tmp, (size_t)n, CFG_SRC_DEFAULT);
}

static bool
is_key_char(int c, bool first)
{
	return c == '_' || isalpha(c) || (!first && isdigit(c));
}

/* Parse the env file into cfg->val[]. */
static int
read_envfile(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char	*text = NULL, *line, *end, *eq, *k, *v, *ve;
	size_t	 len = 0, cap = 0, klen;
	ssize_t	 n;
	int	 fd, idx, lineno = 0, rc = PDS_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nt;
			cap = cap ? cap * 2 : 8192;
			if (cap > ENVFILE_MAX + 4096 + 1) {
				rc = fail(err, errlen, "%s: file too large",
				    path);
				goto out;
			}
			if ((nt = realloc(text, cap)) == NULL) {
				rc = PDS_ENOMEM;
				goto out;
			}
			text = nt;
		}
		n = read(fd, text + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = fail(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (text == NULL)
		goto out;
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		rc = fail(err, errlen, "%s: contains a NUL byte", path);
		goto out;
	}

	for (line = text; line != NULL && *line != '\0'; line = end) {
		lineno++;
		if ((end = strchr(line, '\n')) != NULL)
			*end++ = '\0';
		ve = line + strlen(line);
		while (ve > line && isspace((unsigned char)ve[-1]))
			*--ve = '\0';
		while (isspace((unsigned char)*line))
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		if (strncmp(line, "export ", 7) == 0)
			for (line += 7; *line == ' '; line++)
				;
		k = line;
		if (!is_key_char((unsigned char)*k, true) ||
		    (eq = strchr(k, '=')) == NULL) {
			rc = fail(err, errlen, "%s:%d: not a KEY=VALUE line",
			    path, lineno);
			goto out;
		}
		for (klen = 0; k + klen < eq; klen++)
			if (!is_key_char((unsigned char)k[klen], false))
				break;
		if (k + klen != eq) {
			rc = fail(err, errlen, "%s:%d: bad variable name",
			    path, lineno);
			goto out;
		}
		v = eq + 1;
		ve = v + strlen(v);
		if ((*v == '"' || *v == '\'') ) {
			if (ve - v < 2 || ve[-1] != *v) {
				rc = fail(err, errlen, "%s:%d: %.*s: "
				    "unterminated quote", path, lineno,
				    (int)klen, k);
				goto out;
			}
			v++;
			ve--;
		}
		idx = config_var_index(k, klen);
		if (idx < 0) {
			if (klen > 4 && strncmp(k, "PDS_", 4) == 0) {
				rc = fail(err, errlen, "%s:%d: %.*s: unknown "
				    "variable", path, lineno, (int)klen, k);
				goto out;
			}
			continue;	/* LOG_*, NODE_ENV, ...: not ours */
		}
		if ((rc = set_raw(cfg, (size_t)idx, v, (size_t)(ve - v),
		    CFG_SRC_FILE)) != PDS_OK)
			goto out;
	}
out:
	if (text != NULL) {
		sodium_memzero(text, cap);
		free(text);
	}
	close(fd);
	return rc;
}

static void
read_environment(struct config *cfg, char *const *envp)
{
	char	*const *e;
	const char *eq;
	int	 idx;

	for (e = envp; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, "PDS_", 4) != 0 ||
		    (eq = strchr(*e, '=')) == NULL)
			continue;
		idx = config_var_index(*e, (size_t)(eq - *e));
		if (idx < 0)
			continue;	/* stray environment: not an error */
		(void)set_raw(cfg, (size_t)idx, eq + 1, strlen(eq + 1),
		    CFG_SRC_ENV);
	}
}

static bool
valid_text(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool
valid_url(char *s)
{
	size_t	 n;
	const char *p;

	if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return false;
	if (*p == '\0' || *p == '/')
		return false;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return true;
}

static bool
valid_host(char *s)
{
	size_t	 n = strlen(s);
	char	*p;

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (p = s; *p != '\0'; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.'))
			return false;
	}
	return s[n - 1] != '.' && strstr(s, "..") == NULL;
}

static bool
valid_did(const char *s)
{
	const char *p;

	if (strncmp(s, "did:", 4) != 0)
		return false;
	for (p = s + 4; *p >= 'a' && *p <= 'z'; p++)
		;
	if (p == s + 4 || *p != ':' || p[1] == '\0' || strlen(s) > 2048)
		return false;
	for (p++; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || strchr("._:%-", *p)))
			return false;
	return s[strlen(s) - 1] != ':';
}

static int
parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t	 v;

	if ((!isdigit((unsigned char)*s) && *s != '-') ||
	    !syntax_dec_i64(s, &v) || v < min || v > max)
		return PDS_EINVAL;
	*out = v;
	return PDS_OK;
}

static int
parse_bool(const char *s, bool *out)
{
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = true;
	else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = false;
	else
		return PDS_EINVAL;
	return PDS_OK;
}

static void
list_clear(struct cfg_list *l)
{
	strv_free(l->v, l->n);
	l->v = NULL;
	l->n = 0;
}

/* Split a comma list; each item checked as a domain or URL. */
static int
parse_list(const char *s, bool domains, struct cfg_list *l)
{
	const char *p = s, *q;
	char	*item, **nv;
	size_t	 n;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (q = p; *q != '\0' && *q != ','; q++)
			;
		n = (size_t)(q - p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if ((item = strndup(p, n)) == NULL)
			return PDS_ENOMEM;
		if (domains ? (item[0] != '.' || !valid_host(item + 1)) :
		    !valid_url(item)) {
			free(item);
			return PDS_EINVAL;
		}
		if ((nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL) {
			free(item);
			return PDS_ENOMEM;
		}
		l->v = nv;
		l->v[l->n++] = item;
		p = q;
	}
	return PDS_OK;
}

static const char *
type_hint(const struct var *v)
{
	switch (v->type) {
	case V_BOOL:	return "expected true or false";
	case V_URL:	return "expected an http:// or https:// URL";
	case V_SMTP:	return "expected an smtp:// or smtps:// URL";
	case V_DID:	return "expected a DID (did:method:id)";
	case V_HOST:	return "expected a DNS host name without scheme or port";
	case V_IP:	return "expected an IPv4 or IPv6 address";
	case V_DOMAINS:	return "expected a comma list of domains, each "
			    "starting with '.'";
	case V_URLS:	return "expected a comma list of http(s) URLs";
	case V_HEX32:	return "expected 64 hex digits (a 32-byte key)";
	case V_LOGLEVEL: return "expected fatal, error, warn, info, debug or "
			    "trace";
	case V_EMAIL:	return "expected an email address";
	default:	return "malformed value";
	}
}

/* Check and convert one variable's value into its field. */
static int
convert(struct config *cfg, size_t i, char *err, size_t errlen)
{
	const struct var *v = &vars[i];
	char	*s = cfg->val[i];
	void	*f = (char *)cfg + v->off;
	int	 rc = PDS_OK;

	if (v->type == V_REFUSED)
		return fail(err, errlen, "%s: not supported by pdsd "
		    "(unset it)", v->name);
	if (v->type == V_IGNORED || v->off == NOFIELD)
		return PDS_OK;
	if (!valid_text(s))
		return fail(err, errlen, "%s: contains control characters",
		    v->name);
	switch (v->type) {
	case V_INT:
		if (parse_int(s, v->min, v->max, f) != PDS_OK)
			return fail(err, errlen, "%s: expected an integer from "
			    "%lld to %lld, got \"%.64s\"", v->name,
			    (long long)v->min, (long long)v->max, s);
		return PDS_OK;
	case V_BOOL:
		rc = parse_bool(s, f);
		break;
	case V_LOGLEVEL:
		if (strcmp(s, "fatal") == 0 || strcmp(s, "error") == 0 ||
		    strcmp(s, "warn") == 0)
			*(int *)f = 0;
		else if (strcmp(s, "info") == 0)
			*(int *)f = 1;
		else if (strcmp(s, "debug") == 0 || strcmp(s, "trace") == 0)
			*(int *)f = 2;
		else
			rc = PDS_EINVAL;
		break;
	case V_HEX32:
		if (strlen(s) != 64 || sodium_hex2bin(f, 32, s, 64, NULL,
		    NULL, NULL) != 0)
			rc = PDS_EINVAL;
		break;
	case V_DOMAINS:
	case V_URLS:
		rc = parse_list(s, v->type == V_DOMAINS, f);
		if (rc == PDS_OK && ((struct cfg_list *)f)->n == 0)
			rc = PDS_EINVAL;
		break;
	default:
		if ((v->type == V_URL && !valid_url(s)) ||
		    (v->type == V_SMTP && strncmp(s, "smtp://", 7) != 0 &&
		    strncmp(s, "smtps://", 8) != 0) ||
		    (v->type == V_DID && !valid_did(s)) ||
		    (v->type == V_HOST && !valid_host(s)) ||
		    (v->type == V_EMAIL && (strchr(s, '@') == NULL ||
		    strpbrk(s, " \t") != NULL))) {
			rc = PDS_EINVAL;
			break;
		}
		if (v->type == V_IP) {
			unsigned char	 a[16];
			if (inet_pton(AF_INET, s, a) != 1 &&
			    inet_pton(AF_INET6, s, a) != 1) {
				rc = PDS_EINVAL;
				break;
			}
		}
		if ((*(char **)f = strdup(s)) == NULL)
			return PDS_ENOMEM;
		return PDS_OK;
	}
	if (rc == PDS_ENOMEM)
		return rc;
	if (rc != PDS_OK) {
		if (v->flags & F_SECRET)
			return fail(err, errlen, "%s: %s", v->name,
			    type_hint(v));
		return fail(err, errlen, "%s: %s, got \"%.64s\"", v->name,
		    type_hint(v), s);
	}
	return PDS_OK;
}

static int
idx_of(const char *name)
{
	return config_var_index(name, strlen(name));
}

/* Defaults that depend on other values; they also fill val[] for printing. */
static int
derive(struct config *cfg, char *err, size_t errlen)
{
	bool	 local = strcmp(cfg->hostname, "localhost") == 0;
	int	 i, rc;

#define DERIVE(var, field, ...) do {					\
	i = idx_of(var);						\
	if (cfg->val[i] == NULL) {					\
		if ((rc = set_rawf(cfg, i, __VA_ARGS__)) != PDS_OK)	\
			return rc;					\
		if ((rc = convert(cfg, i, err, errlen)) != PDS_OK)	\
			return rc;					\
	}								\
} while (0)

	DERIVE("PDS_SERVICE_DID", service_did, "did:web:%s", cfg->hostname);
	DERIVE("PDS_SERVICE_HANDLE_DOMAINS", handle_domains, ".%s",
	    local ? "test" : cfg->hostname);
	DERIVE("PDS_SERVICE_NAME", service_name, "%s PDS", cfg->hostname);
	DERIVE("PDS_MAX_REPO_IMPORT_SIZE", max_repo_import_size, "%lld",
	    (long long)cfg->blob_upload_limit);
	DERIVE("PDS_BLOBSTORE_DISK_LOCATION", blobstore_dir, "%s/blocks",
	    cfg->data_dir);
	DERIVE("PDS_BLOBSTORE_DISK_TMP_LOCATION", blobstore_tmp_dir,
	    "%s/tempt", cfg->blobstore_dir);
	DERIVE("PDS_ADMIN_SOCKET", admin_socket, "%s/pdsd.sock",
	    cfg->data_dir);
	DERIVE("PDS_DISABLE_SSRF_PROTECTION", disable_ssrf_protection, "%s",
	    cfg->dev_mode ? "true" : "false");
	if (cfg->report_service_url == NULL && cfg->mod_service_url != NULL) {
		DERIVE("PDS_REPORT_SERVICE_URL", report_service_url, "%s",
		    cfg->mod_service_url);
		DERIVE("PDS_REPORT_SERVICE_DID", report_service_did, "%s",
		    cfg->mod_service_did);
	}
#undef DERIVE
	if (cfg->threads == 0) {
		/*
		 * One per CPU: what a request waits for that may take long
		 * is not done on a worker (the offload pools, the repo
		 * writer's deferral), so a worker is busy with CPU or a
		 * small commit.  The CPUs are those this process may run on
		 * (taskset, a container's cpuset), not the machine's.  Two
		 * runnable workers on one core share it in the scheduler's
		 * time slices of a few milliseconds, which is what the
		 * slowest answers then wait for: getRecord at c=32 had a
		 * p99 of 4.7 to 5.0 ms with two and 1.9 to 2.4 ms with one,
		 * at the same throughput, and 2.8 ms against 7.4 with a
		 * client committing preferences beside it.
		 */
		cfg->threads = thread_ncpu(1, 64);
	}
	if (cfg->dev_mode || local) {
		if (asprintf(&cfg->public_url, "http://%s:%lld", cfg->hostname,
		    (long long)cfg->port) == -1)
			return PDS_ENOMEM;
	} else if (asprintf(&cfg->public_url, "https://%s",
	    cfg->hostname) == -1)
		return PDS_ENOMEM;
	if (asprintf(&cfg->db_path, "%s/pds.sqlite", cfg->data_dir) == -1)
		return PDS_ENOMEM;
	return PDS_OK;
}

static int
check_pair(const struct config *cfg, const char *a, const char *b,
    char *err, size_t errlen)
{
	int	 ia = idx_of(a), ib = idx_of(b);

	if ((cfg->val[ia] == NULL) != (cfg->val[ib] == NULL))
		return fail(err, errlen, "%s: must be set together with %s",
		    cfg->val[ia] == NULL ? a : b, cfg->val[ia] == NULL ? b : a);
	return PDS_OK;
}

/*
 * PDS_METRICS_ADDRESS: "PORT", "IPv4:PORT" or "[IPv6]:PORT" (a bare
 * port is 127.0.0.1's).  An address that is not loopback is refused
 * unless PDS_METRICS_PUBLIC=true says the operator means it.
 */
static int
check_metrics(struct config *cfg, char *err, size_t errlen)
{
	const char	*s = cfg->metrics_address, *ip, *port;
	char		 host[INET6_ADDRSTRLEN + 1];
	unsigned char	 a[16];
	int64_t		 p;
	size_t		 n;
	bool		 v6, loop;

	if (s == NULL)
		return PDS_OK;
	if (strchr(s, ':') == NULL) {
		ip = "127.0.0.1";
		n = strlen(ip);
		port = s;
	} else if (s[0] == '[') {
		ip = s + 1;
		if ((port = strstr(ip, "]:")) == NULL)
			goto bad;
		n = (size_t)(port - ip);
		port += 2;
	} else {
		ip = s;
		port = strrchr(s, ':');
		n = (size_t)(port - ip);
		port++;
	}
	if (n == 0 || n > INET6_ADDRSTRLEN)
		goto bad;
	memcpy(host, ip, n);
	host[n] = '\0';
	v6 = strchr(host, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, a) != 1 ||
	    (v6 && s[0] != '[') || parse_int(port, 1, 65535, &p) != PDS_OK)
		goto bad;
	loop = v6 ? memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0 :
	    a[0] == 127;
	if (!loop && !cfg->metrics_public)
		return fail(err, errlen, "PDS_METRICS_ADDRESS: %s is not a "
		    "loopback address; the metrics are not meant for the "
		    "world (set PDS_METRICS_PUBLIC=true if you mean it)", host);
	memcpy(cfg->metrics_ip, host, n + 1);
	cfg->metrics_port = (int)p;
	return PDS_OK;
bad:
	return fail(err, errlen, "PDS_METRICS_ADDRESS: expected PORT, "
	    "IPv4:PORT or [IPv6]:PORT, got \"%.64s\"", s);
}

/*
 * Every required variable that is unset or empty (empty means unset),
 * named in one message so that one start-up shows all that is missing.
 */
static int
check_required(const struct config *cfg, char *err, size_t errlen)
{
	size_t	 i, n = 0, len = 0;
	int	 w;

	for (i = 0; i < NVARS; i++) {
		if (!(vars[i].flags & F_REQUIRED) || (cfg->val[i] != NULL &&
		    cfg->val[i][0] != '\0'))
			continue;
		if (n++ == 0 && errlen > 0)
			err[0] = '\0';
		if (len < errlen) {
			w = snprintf(err + len, errlen - len, "%s%s",
			    n > 1 ? ", " : "", vars[i].name);
			if (w > 0)
				len += (size_t)w;
		}
	}
	if (n == 0)
		return PDS_OK;
	if (len < errlen)
		snprintf(err + len, errlen - len, ": required but not set");
	return PDS_EINVAL;
}

int
config_load(struct config **cfgp, const char *envfile, char *const *envp,
    char *err, size_t errlen)
{
	struct config	*cfg;
	size_t		 i;
	int		 rc;

	*cfgp = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->val = calloc(NVARS, sizeof(char *))) == NULL ||
	    (cfg->src = calloc(NVARS, 1)) == NULL) {
		config_free(cfg);
		return PDS_ENOMEM;
	}
	for (i = 0; i < NVARS; i++)
		if (vars[i].def != NULL &&
		    (rc = set_raw(cfg, i, vars[i].def, strlen(vars[i].def),
		    CFG_SRC_DEFAULT)) != PDS_OK)
			goto bad;
	if (envfile != NULL &&
	    (rc = read_envfile(cfg, envfile, err, errlen)) != PDS_OK)
		goto bad;
	read_environment(cfg, envp != NULL ? envp : environ);

	if ((rc = check_required(cfg, err, errlen)) != PDS_OK)
		goto bad;
	for (i = 0; i < NVARS; i++) {
		if (cfg->val[i] != NULL && cfg->val[i][0] == '\0') {
			/* empty means unset; fall back to the default */
			free(cfg->val[i]);
			cfg->val[i] = NULL;
			cfg->src[i] = CFG_SRC_UNSET;
			if (vars[i].def != NULL &&
			    (rc = set_raw(cfg, i, vars[i].def,
			    strlen(vars[i].def), CFG_SRC_DEFAULT)) != PDS_OK)
				goto bad;
		}
		if (cfg->val[i] == NULL)
			continue;
		if ((rc = convert(cfg, i, err, errlen)) != PDS_OK)
			goto bad;
	}
	if ((rc = check_pair(cfg, "PDS_BSKY_APP_VIEW_URL",
	    "PDS_BSKY_APP_VIEW_DID", err, errlen)) != PDS_OK ||
	    (rc = check_pair(cfg, "PDS_MOD_SERVICE_URL",
	    "PDS_MOD_SERVICE_DID", err, errlen)) != PDS_OK ||
	    (rc = check_pair(cfg, "PDS_REPORT_SERVICE_URL",
	    "PDS_REPORT_SERVICE_DID", err, errlen)) != PDS_OK ||
	    (rc = check_pair(cfg, "PDS_EMAIL_SMTP_URL",
	    "PDS_EMAIL_FROM_ADDRESS", err, errlen)) != PDS_OK ||
	    (rc = check_pair(cfg, "PDS_MODERATION_EMAIL_SMTP_URL",
	    "PDS_MODERATION_EMAIL_ADDRESS", err, errlen)) != PDS_OK ||
	    (rc = check_pair(cfg, "PDS_BLOBSTORE_S3_ACCESS_KEY_ID",
	    "PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY", err, errlen)) != PDS_OK)
		goto bad;
	if ((rc = derive(cfg, err, errlen)) != PDS_OK ||
	    (rc = check_metrics(cfg, err, errlen)) != PDS_OK)
		goto bad;
	*cfgp = cfg;
	return PDS_OK;
bad:
	if (rc == PDS_ENOMEM && errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	config_free(cfg);
	return rc;
}

void
config_free(struct config *cfg)
{
	size_t	 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < NVARS && cfg->val != NULL; i++) {
		if (vars[i].off == NOFIELD)
			continue;
		switch (vars[i].type) {
		case V_DOMAINS:
		case V_URLS:
			list_clear((struct cfg_list *)((char *)cfg +
			    vars[i].off));
			break;
		case V_INT:
		case V_BOOL:
		case V_LOGLEVEL:
		case V_HEX32:
		case V_IGNORED:
		case V_REFUSED:
			break;
		default:
			wipe_free(*(char **)((char *)cfg + vars[i].off));
			break;
		}
	}
	for (i = 0; i < NVARS && cfg->val != NULL; i++)
		wipe_free(cfg->val[i]);
	sodium_memzero(cfg->plc_rotation_key, sizeof(cfg->plc_rotation_key));
	free(cfg->val);
	free(cfg->src);
	free(cfg->public_url);
	free(cfg->db_path);
	free(cfg);
}

static const char *
shown_value(const struct config *cfg, size_t i)
{
	if (cfg->val[i] == NULL)
		return NULL;
	if (vars[i].flags & F_SECRET)
		return "********";
	return cfg->val[i];
}

int
config_print(const struct config *cfg, bool json)
{
	static const char *srcname[] = { "unset", "default", "file", "env" };
	json_t	*o;
	size_t	 i;
	const char *s;
	int	 rc;

	if (!json) {
		for (i = 0; i < NVARS; i++) {
			if (vars[i].type == V_IGNORED && cfg->val[i] == NULL)
				continue;
			s = shown_value(cfg, i);
			printf("%s=%s%s%s\n", vars[i].name, s ? s : "",
			    s ? "" : "# unset",
			    vars[i].type == V_IGNORED ? "  # ignored" : "");
		}
		printf("# public URL: %s\n# database: %s\n# threads: %lld\n",
		    cfg->public_url, cfg->db_path, (long long)cfg->threads);
		return fflush(stdout) == 0 ? PDS_OK : PDS_EIO;
	}
	if ((o = json_object()) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < NVARS; i++) {
		json_t	*e = json_object();
		s = shown_value(cfg, i);
		if (e == NULL) {
			json_decref(o);
			return PDS_ENOMEM;
		}
		json_object_set_new(e, "value", s ? json_string(s) :
		    json_null());
		json_object_set_new(e, "source",
		    json_string(srcname[cfg->src[i]]));
		if (vars[i].type == V_IGNORED)
			json_object_set_new(e, "ignored", json_true());
		json_object_set_new(o, vars[i].name, e);
	}
	json_object_set_new(o, "publicUrl", json_string(cfg->public_url));
	json_object_set_new(o, "databasePath", json_string(cfg->db_path));
	json_object_set_new(o, "threads", json_integer(cfg->threads));
	rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	putchar('\n');
	return rc == 0 && fflush(stdout) == 0 ? PDS_OK : PDS_EIO;
}

bool
config_is_service_handle(const struct config *cfg, const char *handle)
{
	size_t	 i, hl = strlen(handle), dl;

	for (i = 0; i < cfg->handle_domains.n; i++) {
		const char *d = cfg->handle_domains.v[i];
		dl = strlen(d);
		if (hl > dl && strcmp(handle + hl - dl, d) == 0)
			return true;
		if (strcmp(handle, d + 1) == 0)
			return true;
	}
	return false;
}
