/*
 * pdsd: the daemon's entry point and lifecycle.
 *
 *   options -> configuration -> logging -> data directory -> store
 *   (migrations) -> routes and modules -> HTTP -> READY=1 -> wait for
 *   SIGTERM/SIGINT -> stop accepting, finish in-flight requests ->
 *   modules stop -> store closes -> exit 0.
 *
 * pdsd does not fork into the background: service managers (systemd,
 * runit, containers) supervise it in the foreground.  With systemd
 * Type=notify it reports readiness over NOTIFY_SOCKET itself.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "config_init.h"
#include "err.h"
#include "http.h"
#include "import_ref.h"
#include "log.h"
#include "module.h"
#include "offload.h"
#include "routes.h"
#include "store.h"
#include "thread.h"
#include "xrpc.h"

#define SHUTDOWN_GRACE_MS	10000
#define IDLE_TIMEOUT_S		120

/*
 * The modules, in start-up order; they stop in the reverse order.  A
 * module comes after every module it uses: jobs before anything that
 * adds jobs, the mailer before the email tokens, the repo writer
 * before the firehose that serves its events, and the admin socket,
 * which reaches into all of them, last.
 */
static const struct pdsd_module *const modules[] = {
	&pdsd_module_stats,		/* counters' sampler */
	&pdsd_module_ratelimit,		/* registers counters */
	&pdsd_module_jobs,		/* the jobs thread */
	&pdsd_module_offload,		/* the net and cpu pools */
	&pdsd_module_mailer,
	&pdsd_module_email_tokens,	/* adds a job */
	&pdsd_module_blobs,		/* adds a job */
	&pdsd_module_accounts,
	&pdsd_module_lexicon_resolve,	/* after accounts: the resolver */
	&pdsd_module_oauth,		/* after accounts: outbound */
	&pdsd_module_oauth_authorize,	/* after accounts: sign-in pages */
	&pdsd_module_oauth_account,	/* uses oauth_authorize's browser */
	&pdsd_module_migration,
	&pdsd_module_repo_writer,	/* adds jobs */
	&pdsd_module_firehose,		/* adds a job, starts crawlers */
	&pdsd_module_get_repo,
	&pdsd_module_backup,
	&pdsd_module_export,		/* export and import */
	&pdsd_module_report,		/* adds a job */
	&pdsd_module_blobstore_migrate,	/* stops a blob move */
	&pdsd_module_describe_server,
	&pdsd_module_metrics,		/* its own listener, opt-in */
	&pdsd_module_admin_socket,
};

const char *argp_program_version = "pdsd " PDSD_VERSION;

enum { OPT_CHECK = 256, OPT_JSON };
enum { OPT_INIT = 320 };		/* --init-config (config_init.c) */

static const struct argp_option options[] = {
	{ "config", 'c', "FILE", 0,
	    "Read settings from the env file FILE (KEY=VALUE lines)", 0 },
	{ "check-config", OPT_CHECK, NULL, 0,
	    "Validate the configuration, print it (secrets masked), exit", 0 },
	{ "init-config", OPT_INIT, NULL, 0,
	    "Write the env file named by -c (which must not exist) with fresh "
	    "secrets, from PDS_HOSTNAME, PDS_CONTACT_EMAIL_ADDRESS and any "
	    "other PDS_* in the environment; exit", 0 },
	{ "json", OPT_JSON, NULL, 0,
	    "With --check-config: print the configuration as JSON", 0 },
	{ "pidfile", 'p', "FILE", 0, "Write the process id to FILE", 0 },
	{ "syslog", 's', NULL, 0, "Log to syslog instead of stderr", 0 },
	{ "verbose", 'v', NULL, 0,
	    "Log more (once: info, twice: debug); overrides PDS_LOG_LEVEL "
	    "when higher", 0 },
	{ 0 }
};

struct opts {
	const char	*envfile;
	const char	*pidfile;
	int		 check;
	int		 init;
	int		 json;
	int		 syslog;
	int		 verbose;
};

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct opts	*o = state->input;

	switch (key) {
	case 'c':	o->envfile = arg; break;
	case 'p':	o->pidfile = arg; break;
	case 's':	o->syslog = 1; break;
	case 'v':	o->verbose++; break;
	case OPT_CHECK:	o->check = 1; break;
	case OPT_JSON:	o->json = 1; break;
	case OPT_INIT:	o->init = 1; break;
	case ARGP_KEY_ARG:
		argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = {
	options, parse_opt, NULL,
	"pdsd -- AT Protocol Personal Data Server daemon.\v"
	"Settings come from PDS_* variables: the env file first, then the "
	"process environment, which wins.  See pdsd(8).",
	NULL, NULL, NULL
};

/* Tell systemd (or anything listening on NOTIFY_SOCKET) our state. */
static void
notify_manager(const char *state)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	size_t			 len;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET");
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1)
		log_warn("NOTIFY_SOCKET %s", path);
	close(fd);
}

static int
write_pidfile(const char *path)
{
	char	 buf[32];
	int	 fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("pidfile %s", path);
		return PDS_EIO;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		log_warn("pidfile %s", path);
		close(fd);
		return PDS_EIO;
	}
	close(fd);
	return PDS_OK;
}

static int
ensure_data_dir(const char *dir)
{
	struct stat	 st;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			log_errx("PDS_DATA_DIRECTORY %s: not a directory",
			    dir);
			return PDS_EINVAL;
		}
		return PDS_OK;
	}
	if (errno != ENOENT || mkdir(dir, 0700) == -1) {
		log_err("PDS_DATA_DIRECTORY %s", dir);
		return PDS_EIO;
	}
	log_info("created data directory %s", dir);
	return PDS_OK;
}

/*
 * glibc's allocator, set for a long-running server on few cores:
 * - at most one arena per core (the default is eight per core, and every
 *   arena keeps the memory freed into it);
 * - blocks of 256 KiB and more always come from mmap and go back to the
 *   system when freed.  Left alone, the threshold rises to the largest
 *   block freed so far (up to 32 MiB), after which big buffers (getRepo
 *   rings, CAR imports, large responses) stay in the heap for good.
 * What smaller blocks leave free inside the arenas goes back when the
 * server goes quiet: the jobs thread calls malloc_trim (jobs.c).
 */
static void
malloc_setup(void)
{
	(void)mallopt(M_ARENA_MAX, (int)thread_ncpu(2, 16));
	(void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

/* Block until SIGTERM or SIGINT; SIGHUP is logged and ignored. */
static void
wait_for_stop(const sigset_t *set)
{
	int	 sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("received %s, shutting down",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
		log_info("received SIGHUP: configuration is read at start-up "
		    "only; restart to apply changes");
	}
}

int
main(int argc, char *argv[])
{
	struct opts		 o;
	struct config		*cfg;
	struct http_config	 hc;
	sigset_t		 set;
	char			 err[512];
	int			 verbosity, rc;

	/* pdsctl import-reference runs the conversion here (import_ref.h). */
	if (argc > 1 && strcmp(argv[1], "import-reference") == 0)
		return import_ref_main(argc - 1, argv + 1);
	memset(&o, 0, sizeof(o));
	if (argp_parse(&argp, argc, argv, 0, NULL, &o) != 0)
		return 64;
	log_init("pdsd", o.syslog, 1);
	malloc_setup();
	if (sodium_init() < 0)
		fatalx("libsodium initialisation failed");
	if (o.init)
		return config_init_main(o.envfile);

	if (config_load(&cfg, o.envfile, NULL, err, sizeof(err)) != PDS_OK) {
		if (o.check)
			fprintf(stderr, "pdsd: configuration error: %s\n",
			    err);
		else
			log_errx("configuration error: %s", err);
		return 1;
	}
	if (o.check) {
		rc = config_print(cfg, o.json);
		config_free(cfg);
		return rc == PDS_OK ? 0 : 1;
	}
	verbosity = cfg->log_verbosity;
	if (o.verbose > verbosity)
		verbosity = o.verbose > 2 ? 2 : o.verbose;
	log_setverbose(verbosity);

	/* Signals are taken by sigwait in this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ensure_data_dir(cfg->data_dir) != PDS_OK)
		return 1;
	if (o.pidfile != NULL && write_pidfile(o.pidfile) != PDS_OK)
		return 1;
	if ((rc = store_open(cfg->db_path)) != PDS_OK) {
		log_errx("cannot open the store %s: %s", cfg->db_path,
		    pds_strerror(rc));
		return 1;
	}
	log_info("store %s at schema version %d", cfg->db_path,
	    store_schema_version());
	xrpc_init(cfg);
	if (routes_init(cfg) != PDS_OK || modules_init(modules,
	    sizeof(modules) / sizeof(modules[0]), cfg) != 0) {
		store_close();
		return 1;
	}

	memset(&hc, 0, sizeof(hc));
	hc.bind_address = cfg->bind_address;
	hc.port = (uint16_t)cfg->port;
	hc.threads = (unsigned)cfg->threads;
	hc.max_connections = (unsigned)cfg->max_connections;
	hc.timeout_s = IDLE_TIMEOUT_S;
	hc.max_per_ip = (unsigned)cfg->max_connections_per_ip;
	hc.headers_timeout_ms = (unsigned)cfg->headers_timeout_ms;
	hc.max_body_buffered = (uint64_t)cfg->max_buffered_body;
	if (http_start(&hc, routes_dispatch) != PDS_OK) {
		modules_fini();
		store_close();
		return 1;
	}
	log_info("pdsd %s listening on %s%s%s:%u with %u threads; public URL "
	    "%s", PDSD_VERSION, strchr(cfg->bind_address, ':') ? "[" : "",
	    cfg->bind_address, strchr(cfg->bind_address, ':') ? "]" : "",
	    (unsigned)http_port(), hc.threads, cfg->public_url);
	notify_manager("READY=1");

	wait_for_stop(&set);

	notify_manager("STOPPING=1");
	/*
	 * The pools before the HTTP server: a request still running on
	 * one holds a suspended connection, which libmicrohttpd must see
	 * resumed before it stops.  Their own outbound timeouts bound the
	 * wait; queued ones are answered 503 at once.
	 */
	http_quiesce();			/* no new connections */
	offload_quiesce();		/* queued slow requests: 503 */
	offload_stop();
	http_stop(SHUTDOWN_GRACE_MS);
	modules_fini();
	store_close();
	if (o.pidfile != NULL)
		unlink(o.pidfile);
	config_free(cfg);
	log_info("stopped");
	return 0;
}
