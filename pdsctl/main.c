/*
 * pdsctl: control pdsd over its admin socket.  See pdsctl(8).
 *
 *	pdsctl [-c ENVFILE] [--socket PATH] [--json] COMMAND [ARGS]
 *
 * The socket is, first found: --socket, $PDSCTL_SOCKET, the env file's
 * PDS_ADMIN_SOCKET (or its PDS_DATA_DIRECTORY + /pdsd.sock), the
 * environment's PDS_ADMIN_SOCKET (or $PDS_DATA_DIRECTORY/pdsd.sock),
 * and last /pds/pdsd.sock (the reference PDS's data directory).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "adminproto.h"
#include "pdsctl.h"

#define PDSCTL_VERSION		"0.1.0"
#define PAGE_LIMIT		500

static char	 path_buf[PATH_MAX];

static void
usage_short(void)
{
	fprintf(stderr, "usage: pdsctl [-c ENVFILE] [--socket PATH] [--json] "
	    "COMMAND [ARGS]\n       pdsctl help [COMMAND]\n");
}

/* Ask on the terminal; true only for "yes". */
static bool
confirm(const struct ctl_parsed *p)
{
	const char	*who;
	char		 ans[16];

	if (ctl_opt_yes())
		return true;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "pdsctl: %s %s needs --yes when standard input "
		    "is not a terminal\n", p->cmd->words[0],
		    p->cmd->words[1]);
		return false;
	}
	who = json_string_value(json_object_get(p->args, "account"));
	fprintf(stderr, "%s %s %s: this cannot be undone.  Type yes to go "
	    "on: ", p->cmd->words[0], p->cmd->words[1],
	    who != NULL ? who : json_is_true(json_object_get(p->args,
	    "all")) ? "--all" : "");
	fflush(stderr);
	if (fgets(ans, sizeof(ans), stdin) == NULL)
		return false;
	ans[strcspn(ans, "\r\n")] = '\0';
	return strcmp(ans, "yes") == 0;
}

/* --password-stdin: the first line of standard input. */
static int
read_password(json_t *args)
{
	char	 pw[600];
	size_t	 n;

	if (isatty(STDIN_FILENO)) {
		fprintf(stderr, "password: ");
		fflush(stderr);
	}
	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "pdsctl: no password on standard input\n");
		return EXIT_USAGE;
	}
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "pdsctl: empty password\n");
		return EXIT_USAGE;
	}
	json_object_set_new(args, "password", json_string(pw));
	sodium_memzero(pw, sizeof(pw));
	return EXIT_OK;
}

/* stats: --watch asks for stats.watch, in milliseconds. */
int
prepare_stats(const struct ctl_cmd *c, json_t *args, const char **cmd)
{
	json_t	*iv;

	if (!ctl_opt_watch()) {
		if (json_object_size(args) > 0) {
			fprintf(stderr, "pdsctl: --interval and --count need "
			    "--watch\n");
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	*cmd = "stats.watch";
	if ((iv = json_object_get(args, "interval_ms")) != NULL)
		json_object_set_new(args, "interval_ms", json_integer(
		    json_integer_value(iv) * 1000));
	return EXIT_OK;
}

/* backup DEST: make it absolute (the daemon has another cwd). */
int
prepare_backup(const struct ctl_cmd *c, json_t *args, const char **cmd)
{
	const char	*d = json_string_value(json_object_get(args, "dest"));
	char		 cwd[PATH_MAX], abs[PATH_MAX];

	if (d == NULL || d[0] == '/')
		return EXIT_OK;
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, d) >=
	    sizeof(abs)) {
		fprintf(stderr, "pdsctl: cannot make %s absolute\n", d);
		return EXIT_USAGE;
	}
	json_object_set_new(args, "dest", json_string(abs));
	return EXIT_OK;
}

/*
 * account revoke-session: exactly one of --session, --app-password,
 * --oauth and --all, sent as {kind, id} or {all}.
 */
int
prepare_revoke_session(const struct ctl_cmd *c, json_t *args,
    const char **cmd)
{
	static const struct {
		const char	*key;
		const char	*kind;
	} opt[] = {
		{ "session", "session" },
		{ "app_password", "app-password" },
		{ "oauth", "oauth" },
	};
	json_t	*v;
	size_t	 i;
	int	 n = json_is_true(json_object_get(args, "all")) ? 1 : 0;

	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		if (json_object_get(args, opt[i].key) != NULL)
			n++;
	if (n != 1) {
		fprintf(stderr, "pdsctl: give one of --session, "
		    "--app-password, --oauth and --all\nusage: ");
		ctl_usage_line(stderr, c);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		if ((v = json_object_get(args, opt[i].key)) == NULL)
			continue;
		json_object_set(args, "id", v);
		json_object_del(args, opt[i].key);
		json_object_set_new(args, "kind", json_string(opt[i].kind));
	}
	return EXIT_OK;
}

struct ev_ctx {
	const struct ctl_cmd	*cmd;
};

static void
on_event(void *arg, const json_t *ev)
{
	struct ev_ctx	*e = arg;

	if (ctl_json && (e->cmd->flags & CTL_STREAM)) {
		/* progress beside a result: a side channel */
		char *s = json_dumps(ev, JSON_COMPACT |
		    JSON_ENCODE_ANY | CTL_JSON_REAL);

		if (s != NULL)
			fprintf(stderr, "%s\n", s);
		free(s);
	} else if (ctl_json)
		out_json(ev);
	else if (e->cmd->event != NULL)
		e->cmd->event(e->cmd, ev);
	fflush(stdout);
}

static void
report_error(const struct ctl_parsed *p, const struct adminproto_msg *m)
{
	json_t	*o;

	if (ctl_json) {
		o = json_pack("{s:s,s:s}", "error", m->error, "message",
		    m->message);
		if (o != NULL) {
			char *s = json_dumps(o, JSON_COMPACT);

			if (s != NULL)
				fprintf(stderr, "%s\n", s);
			free(s);
		}
		json_decref(o);
		return;
	}
	fprintf(stderr, "pdsctl: %s: %s%s%s\n", p->cmd->cmd, m->error,
	    m->message[0] ? ": " : "", m->message);
	if (ctl_exit_for(m->error) == EXIT_USAGE) {
		fprintf(stderr, "usage: ");
		ctl_usage_line(stderr, p->cmd);
	}
}

/* A CTL_PAGED command: follow the cursor, gather the pages. */
static int
run_paged(struct ctl_conn *c, const struct ctl_parsed *p, json_t **all,
    struct adminproto_msg *m)
{
	json_t		*page, *items, *args;
	const char	*cursor;
	json_int_t	 want = -1, got = 0;
	int		 rc;

	args = json_deep_copy(p->args);
	if (json_is_integer(json_object_get(args, "limit")))
		want = json_integer_value(json_object_get(args, "limit"));
	*all = json_object();
	items = json_array();
	json_object_set_new(*all, p->cmd->page_key, items);
	for (;;) {
		json_int_t ask = want < 0 ? PAGE_LIMIT : want - got;

		if (ask > PAGE_LIMIT)
			ask = PAGE_LIMIT;
		json_object_set_new(args, "limit", json_integer(ask));
		rc = ctl_request(c, p->cmd->cmd, args, NULL, NULL, &page, m);
		if (rc != EXIT_OK)
			break;
		json_array_extend(items, json_object_get(page,
		    p->cmd->page_key));
		got = (json_int_t)json_array_size(items);
		cursor = json_string_value(json_object_get(page, "cursor"));
		if (cursor == NULL || (want >= 0 && got >= want)) {
			if (cursor != NULL)
				json_object_set_new(*all, "cursor",
				    json_string(cursor));
			json_decref(page);
			break;
		}
		json_object_set_new(args, "cursor", json_string(cursor));
		json_decref(page);
	}
	json_decref(args);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct ctl_parsed	 p;
	struct ctl_conn		 c;
	struct adminproto_msg	 m;
	struct ev_ctx		 ev;
	const char		*sock_opt = NULL, *envfile = NULL, *cmd;
	json_t			*result = NULL;
	int			 i, rc;

	if (sodium_init() < 0)
		return EXIT_FAIL;
	/* global options, before the command */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") ==
		    0)
			ctl_json = true;
		else if (strcmp(argv[i], "--socket") == 0 ||
		    strcmp(argv[i], "-s") == 0) {
			if (++i == argc) {
				usage_short();
				return EXIT_USAGE;
			}
			sock_opt = argv[i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0)
			sock_opt = argv[i] + 9;
		else if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			if (++i == argc) {
				usage_short();
				return EXIT_USAGE;
			}
			envfile = argv[i];
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("pdsctl %s (admin protocol %d)\n",
			    PDSCTL_VERSION, ADMINPROTO_VERSION);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			ctl_help(stdout, NULL);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "pdsctl: unknown option: %s\n",
			    argv[i]);
			usage_short();
			return EXIT_USAGE;
		}
	}
	/* options that belong anywhere: --json after the command too */
	for (int j = i; j < argc; j++) {
		int	 drop = 0;

		if (strcmp(argv[j], "--") == 0)
			break;
		if (strcmp(argv[j], "--json") == 0 ||
		    strcmp(argv[j], "-j") == 0) {
			ctl_json = true;
			drop = 1;
		} else if (strncmp(argv[j], "--socket=", 9) == 0) {
			sock_opt = argv[j] + 9;
			drop = 1;
		} else if ((strcmp(argv[j], "--socket") == 0 ||
		    strcmp(argv[j], "-s") == 0) && j + 1 < argc) {
			sock_opt = argv[j + 1];
			drop = 2;
		}
		if (drop > 0) {
			memmove(&argv[j], &argv[j + drop],
			    (size_t)(argc - j - drop + 1) * sizeof(*argv));
			argc -= drop;
			j--;
		}
	}
	if ((rc = ctl_parse(argc - i, argv + i, &p)) != EXIT_OK) {
		ctl_parsed_clear(&p);
		return rc;
	}
	if (p.help) {
		ctl_help(stdout, &p);
		return EXIT_OK;
	}
	cmd = p.cmd->cmd;
	if (ctl_opt_password_stdin() && (rc = read_password(p.args)) !=
	    EXIT_OK) {
		ctl_parsed_clear(&p);
		return rc;
	}
	if (p.cmd->prepare != NULL && (rc = p.cmd->prepare(p.cmd, p.args,
	    &cmd)) != EXIT_OK) {
		ctl_parsed_clear(&p);
		return rc;
	}
	if (p.cmd->flags & CTL_OFFLINE) {
		rc = ctl_offline_run(&p);
		ctl_parsed_clear(&p);
		return rc;
	}
	if ((p.cmd->flags & CTL_CONFIRM) && !confirm(&p)) {
		ctl_parsed_clear(&p);
		return EXIT_USAGE;
	}
	if ((rc = ctl_connect(&c, adminproto_socket_path(sock_opt, envfile,
	    path_buf, sizeof(path_buf)))) != EXIT_OK) {
		ctl_parsed_clear(&p);
		return rc;
	}
	ev.cmd = p.cmd;
	memset(&m, 0, sizeof(m));
	if (p.cmd->flags & CTL_RUN)
		rc = ctl_run(&c, &p, &m);
	else if ((p.cmd->flags & CTL_PAGED) &&
	    json_object_get(p.args, "cursor") == NULL)
		rc = run_paged(&c, &p, &result, &m);
	else
		rc = ctl_request(&c, cmd, p.args, on_event, &ev, &result, &m);
	if (rc == EXIT_OK) {
		if (ctl_json) {
			if (result != NULL)
				out_json(result);
		} else if (p.cmd->print != NULL && !ctl_opt_watch())
			/* a watch's end marker carries no numbers */
			p.cmd->print(p.cmd, result);
	} else if (m.error[0] != '\0')
		report_error(&p, &m);
	adminproto_msg_clear(&m);
	json_decref(result);
	ctl_close(&c);
	ctl_parsed_clear(&p);
	if (fflush(stdout) == EOF && rc == EXIT_OK)
		rc = EXIT_FAIL;
	return rc;
}
