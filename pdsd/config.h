/*
 * config: pdsd's settings, from an env file and the environment.
 *
 * The variable names, meanings and defaults are the reference PDS's
 * (PDS_HOSTNAME, PDS_PORT, ...), so an operator can reuse a reference
 * pds.env; pdsd adds a few of its own (PDS_BIND_ADDRESS, PDS_ADMIN_SOCKET,
 * PDS_THREADS, PDS_LOG_LEVEL, PDS_MAX_CONNECTIONS).  Sources, later ones
 * winning: built-in defaults, the env file (KEY=VALUE lines, # comments,
 * optional single or double quotes, optional "export "), the process
 * environment.  An empty value means "unset", as in the reference.
 *
 * Unknown PDS_* keys in the file, malformed values, missing required
 * values and half-configured pairs are errors naming the variable.
 * Reference variables pdsd does not implement either are accepted and
 * ignored (UI colours, OAuth branding) or refused (S3, KMS, entryway),
 * so that an operator never silently gets a different setup.
 *
 * A struct config is filled once at start-up and read-only afterwards,
 * so every thread may read it without locking.  config_free() wipes the
 * secrets.
 */
#ifndef PDSD_CONFIG_H
#define PDSD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PDSD_VERSION	"0.1.0"

struct cfg_list {
	char	**v;
	size_t	  n;
};

struct config {
	/* core */
	char		*hostname;		/* PDS_HOSTNAME, lower case */
	int64_t		 port;			/* PDS_PORT */
	char		*bind_address;		/* PDS_BIND_ADDRESS */
	char		*service_did;		/* PDS_SERVICE_DID */
	char		*data_dir;		/* PDS_DATA_DIRECTORY */
	char		*version;		/* PDS_VERSION: shown by _health */
	bool		 dev_mode;		/* PDS_DEV_MODE */
	char		*public_url;		/* derived, no trailing slash */
	char		*db_path;		/* derived: <data>/pds.sqlite */
	int64_t		 wal_max_mb;		/* PDS_SQLITE_WAL_MAX_MB */
	int64_t		 repo_cache_mb;		/* PDS_REPO_CACHE_MB */
	int64_t		 repo_recent_blocks;	/* PDS_REPO_RECENT_BLOCKS */

	/* secrets: never logged, wiped by config_free() */
	char		*jwt_secret;		/* PDS_JWT_SECRET */
	char		*admin_password;	/* PDS_ADMIN_PASSWORD */
	uint8_t		 plc_rotation_key[32];	/* ..._K256_PRIVATE_KEY_HEX */
	char		*dpop_secret;		/* PDS_DPOP_SECRET or NULL */

	/* blobs */
	char		*blobstore_dir;		/* PDS_BLOBSTORE_DISK_LOCATION */
	char		*blobstore_tmp_dir;	/* ..._DISK_TMP_LOCATION */
	int64_t		 blob_upload_limit;	/* PDS_BLOB_UPLOAD_LIMIT */
	int64_t		 max_repo_import_size;	/* PDS_MAX_REPO_IMPORT_SIZE */
	bool		 accepting_repo_imports;
	int64_t		 blob_temp_grace_s;	/* PDS_BLOB_TEMP_GRACE_SECONDS */
	char		*s3_bucket;		/* PDS_BLOBSTORE_S3_BUCKET or NULL */
	char		*s3_region;		/* ..._S3_REGION */
	char		*s3_endpoint;		/* ..._S3_ENDPOINT */
	bool		 s3_force_path_style;	/* ..._S3_FORCE_PATH_STYLE */
	char		*s3_access_key_id;	/* ..._S3_ACCESS_KEY_ID */
	char		*s3_secret_access_key;	/* ..._S3_SECRET_ACCESS_KEY */
	int64_t		 s3_upload_timeout_ms;	/* ..._S3_UPLOAD_TIMEOUT_MS */
	int64_t		 s3_request_timeout_ms;	/* ..._S3_REQUEST_TIMEOUT_MS */

	/* identity */
	char		*did_plc_url;		/* PDS_DID_PLC_URL */
	struct cfg_list	 handle_domains;	/* each ".example.com" */
	char		*recovery_did_key;	/* PDS_RECOVERY_DID_KEY */
	int64_t		 did_cache_stale_ttl_ms;
	int64_t		 did_cache_max_ttl_ms;
	int64_t		 id_resolver_timeout_ms;
	int64_t		 id_resolver_failure_ttl_ms;	/* 0: not cached */
	bool		 did_doc_with_session;	/* ENABLE_DID_DOC_WITH_SESSION */
	/* lexicon resolution (PDS_LEXICON_*) */
	char		*lexicon_authority_did;	/* NULL: DNS */
	int64_t		 lexicon_stale_ttl_ms;
	int64_t		 lexicon_expiry_ttl_ms;
	int64_t		 lexicon_failure_ttl_ms;
	char		*dev_dns_server;	/* PDS_DEV_DNS_SERVER */
	bool		 lexicon_resolve_records;

	/* upstream services (NULL when unset) */
	char		*appview_url, *appview_did, *appview_cdn_url_pattern;
	char		*mod_service_url, *mod_service_did;
	char		*report_service_url, *report_service_did;
	struct cfg_list	 crawlers;		/* PDS_CRAWLERS */

	/* accounts, email, invites, links */
	bool		 invite_required;	/* PDS_INVITE_REQUIRED */
	int64_t		 invite_interval_ms;	/* 0: none */
	int64_t		 invite_epoch_ms;
	char		*email_smtp_url;	/* secret (may hold a password) */
	char		*email_from_address;
	bool		 email_disable_confirmation_link;
	int64_t		 email_token_ttl_s;	/* PDS_EMAIL_TOKEN_TTL_SECONDS */
	char		*moderation_email_smtp_url;	/* secret */
	char		*moderation_email_address;
	char		*contact_email_address;
	char		*privacy_policy_url;
	char		*terms_of_service_url;
	char		*home_url, *support_url, *logo_url;
	char		*service_name;

	/* firehose */
	int64_t		 max_subscription_buffer;
	int64_t		 firehose_max_subscriber_bytes;
	int64_t		 firehose_max_subscribers;
	int64_t		 firehose_max_subscribers_per_ip;
	int64_t		 repo_backfill_limit_ms;

	/* rate limits and proxy */
	bool		 rate_limits_enabled;
	char		*rate_limit_bypass_key;	/* secret */
	char		*rate_limit_bypass_ips;
	char		*rate_limit_budgets;	/* PDS_RATE_LIMIT_BUDGETS */
	char		*trusted_proxies;	/* PDS_TRUSTED_PROXIES */
	bool		 disable_ssrf_protection;
	int64_t		 fetch_max_response_size;
	int64_t		 proxy_headers_timeout_ms;
	int64_t		 proxy_body_timeout_ms;
	int64_t		 proxy_max_response_size;
	int64_t		 proxy_max_retries;

	/* pdsd's own */
	char		*admin_socket;		/* PDS_ADMIN_SOCKET */
	char		*admin_socket_group;	/* PDS_ADMIN_SOCKET_GROUP */
	char		*admin_group;		/* PDS_ADMIN_GROUP */
	int64_t		 threads;		/* PDS_THREADS, resolved (>0) */
	/* PDS_OFFLOAD_*; cpu threads 0: one per core */
	int64_t		 offload_net_threads, offload_net_queue;
	int64_t		 offload_cpu_threads, offload_cpu_queue;
	int64_t		 offload_client_max;
	int		 log_verbosity;		/* PDS_LOG_LEVEL: 0 warn..2 debug */
	int64_t		 max_connections;	/* PDS_MAX_CONNECTIONS */
	int64_t		 max_connections_per_ip; /* PDS_MAX_CONNECTIONS_PER_IP */
	int64_t		 headers_timeout_ms;	/* PDS_HTTP_HEADERS_TIMEOUT */
	int64_t		 max_buffered_body;	/* PDS_MAX_BUFFERED_BODY_BYTES */
	/* PDS_METRICS_ADDRESS (NULL: off), parsed; PDS_METRICS_PUBLIC */
	char		*metrics_address;
	char		 metrics_ip[46];	/* INET6_ADDRSTRLEN */
	int		 metrics_port;
	bool		 metrics_public;

	/* every known variable's effective value, in table order */
	char		**val;
	unsigned char	 *src;			/* enum cfg_source per variable */
};

enum cfg_source { CFG_SRC_UNSET, CFG_SRC_DEFAULT, CFG_SRC_FILE, CFG_SRC_ENV };

/*
 * Load the configuration: defaults, then `envfile' (may be NULL), then
 * the environment `envp' (NULL: the process's environ).  On failure
 * returns a PDS_E* code and writes a one-line reason naming the variable
 * (and the file line) into err[errlen]; *cfgp is left NULL.
 */
int	config_load(struct config **cfgp, const char *envfile,
	    char *const *envp, char *err, size_t errlen);
void	config_free(struct config *);

/*
 * Write the effective configuration to fd 1 as KEY=VALUE lines, or as
 * one JSON object when json is true.  Secrets print as "********".
 */
int	config_print(const struct config *, bool json);

/* Number of known variables and the name of the i-th (for the man page). */
size_t	config_nvars(void);
const char *config_var_name(size_t i);
/* The index of the variable named by name[0..len-1], or -1: not known. */
int	config_var_index(const char *name, size_t len);

/* Whether handle (already lower case) ends with one of handle_domains. */
bool	config_is_service_handle(const struct config *, const char *handle);

#endif
