/*
 * parser: pdsctl's grammar.  Every command is one row of the table:
 * up to three words, the daemon command it sends, its arguments and
 * options, and the formatter for its answer.  Words may be shortened to
 * any unambiguous prefix ("acc tak" is "account takedown"); on an error
 * the parser says what would have been valid.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pdsctl.h"

/* ---- arguments of each command ---- */

static const struct ctl_arg a_none[] = { { NULL, NULL, 0, 0, NULL } };

static const struct ctl_arg a_account_list[] = {
	{ "--status", "status", CA_STR, false,
	    "only accounts in this state: active, deactivated, takendown" },
	{ "--search", "search", CA_STR, false,
	    "handle or email starting with this, or this exact DID" },
	{ "--limit", "limit", CA_INT, false,
	    "at most this many (default: all, fetched in pages)" },
	{ "--cursor", "cursor", CA_STR, false,
	    "start after this cursor (from a --json page)" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_account[] = {
	{ "ACCOUNT", "account", CA_POS, true, "a DID, handle or email" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_account_create[] = {
	{ "HANDLE", "handle", CA_POS, true, "the new account's handle" },
	{ "--email", "email", CA_STR, true,
	    "its email address (required, as the reference PDS does)" },
	{ "--password-stdin", NULL, CA_FLAG, false,
	    "read the password from the first line of standard input "
	    "(default: generate one and print it)" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_account_reason_req[] = {
	{ "ACCOUNT", "account", CA_POS, true, "a DID, handle or email" },
	{ "--reason", "reason", CA_STR, true, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_account_takedown[] = {
	{ "ACCOUNT", "account", CA_POS, true, "a DID, handle or email" },
	{ "--reason", "reason", CA_STR, true, "why, for the audit log" },
	{ "--ref", "ref", CA_STR, false,
	    "a takedown reference (default: the time)" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_account_reason[] = {
	{ "ACCOUNT", "account", CA_POS, true, "a DID, handle or email" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_reset_password[] = {
	{ "ACCOUNT", "account", CA_POS, true, "a DID, handle or email" },
	{ "--password-stdin", NULL, CA_FLAG, false,
	    "read the new password from standard input (default: "
	    "generate one and print it)" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_set_handle[] = {
	{ "ACCOUNT", "account", CA_POS, true, "a DID, handle or email" },
	{ "HANDLE", "handle", CA_POS, true, "the new handle" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_set_email[] = {
	{ "ACCOUNT", "account", CA_POS, true, "a DID, handle or email" },
	{ "EMAIL", "email", CA_POS, true, "the new email address" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_invite_create[] = {
	{ "--uses", "uses", CA_INT, false, "uses per code (default 1)" },
	{ "--for", "for", CA_STR, false,
	    "the account the codes belong to (default: admin)" },
	{ "--count", "count", CA_INT, false, "how many codes (default 1)" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_invite_list[] = {
	{ "--account", "account", CA_STR, false,
	    "only the codes of this account (or \"admin\")" },
	{ "--all", "all", CA_FLAG, false, "include disabled codes" },
	{ "--sort", "sort", CA_STR, false, "recent (default) or usage" },
	{ "--limit", "limit", CA_INT, false, "at most this many" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_invite_disable[] = {
	{ "CODE", "codes", CA_POS_LIST, false, "codes to disable" },
	{ "--account", "accounts", CA_LIST, false,
	    "disable every code of this account (repeatable)" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_record_takedown[] = {
	{ "AT-URI", "uri", CA_POS, true,
	    "the record: at://<did or handle>/<collection>/<rkey>" },
	{ "--reason", "reason", CA_STR, true, "why, for the audit log" },
	{ "--ref", "ref", CA_STR, false, "a takedown reference" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_record_untakedown[] = {
	{ "AT-URI", "uri", CA_POS, true, "the record" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_blob_takedown[] = {
	{ "ACCOUNT", "did", CA_POS, true, "a DID, handle or email" },
	{ "CID", "cid", CA_POS, true, "the blob's CID" },
	{ "--reason", "reason", CA_STR, true, "why, for the audit log" },
	{ "--ref", "ref", CA_STR, false, "a takedown reference" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_blob_untakedown[] = {
	{ "ACCOUNT", "did", CA_POS, true, "a DID, handle or email" },
	{ "CID", "cid", CA_POS, true, "the blob's CID" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_status_account[] = {
	{ "ACCOUNT", "did", CA_POS, true, "a DID, handle or email" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_status_record[] = {
	{ "AT-URI", "uri", CA_POS, true, "the record" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_status_blob[] = {
	{ "ACCOUNT", "did", CA_POS, true, "a DID, handle or email" },
	{ "CID", "cid", CA_POS, true, "the blob's CID" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_lexicon[] = {
	{ "NSID", "nsid", CA_POS, true, "the lexicon's NSID" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_stats[] = {
	{ "--watch", NULL, CA_FLAG, false,
	    "keep printing, every --interval seconds" },
	{ "--interval", "interval_ms", CA_INT, false,
	    "seconds between samples with --watch (default 1)" },
	{ "--count", "count", CA_INT, false,
	    "with --watch: stop after this many samples" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_firehose_tail[] = {
	{ "--count", "count", CA_INT, false,
	    "stop after this many events (default: follow until interrupted)" },
	{ "--after", "after", CA_INT, false,
	    "start with the events after this seq (default: new ones only)" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_request_crawl[] = {
	{ "RELAY", "relays", CA_POS_LIST, false,
	    "relay URLs (default: PDS_CRAWLERS)" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_audit[] = {
	{ "--since", "since", CA_STR, false,
	    "entries from this date or time on (2025-01-31)" },
	{ "--limit", "limit", CA_INT, false, "at most this many (default 100)" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_backup[] = {
	{ "DEST", "dest", CA_POS, true,
	    "the new file (must not exist; in a directory you own)" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_blobstore_migrate[] = {
	{ "--to", "to", CA_STR, true, "the store to move every blob to: "
	    "s3 or disk" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_migration_purge[] = {
	{ "ACCOUNT", "account", CA_POS_OPT, false,
	    "the account that moved away (DID, handle or email)" },
	{ "--all", "all", CA_FLAG, false,
	    "every account whose DID now names another server" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_revoke_session[] = {
	{ "ACCOUNT", "account", CA_POS, true, "a DID, handle or email" },
	{ "--session", "session", CA_STR, false,
	    "a password session, by the ID account sessions shows" },
	{ "--app-password", "app_password", CA_STR, false,
	    "an app password, by its name (its sessions end too)" },
	{ "--oauth", "oauth", CA_STR, false,
	    "an OAuth grant, by its ID (the app must ask again)" },
	{ "--all", "all", CA_FLAG, false,
	    "every session, app password and OAuth grant of the account" },
	{ "--reason", "reason", CA_STR, true, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_account_token[] = {
	{ "ACCOUNT", "account", CA_POS, true, "a DID, handle or email" },
	{ "PURPOSE", "purpose", CA_POS, true,
	    "confirm_email, update_email, reset_password, delete_account, "
	    "plc_operation or 2fa_code" },
	{ "--reason", "reason", CA_STR, false, "why, for the audit log" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_import_reference[] = {
	{ "REF_DATA_DIR", "source", CA_POS, true,
	    "the stopped reference PDS's data directory (only read)" },
	{ "NEW_DATA_DIR", "dest", CA_POS, true,
	    "pdsd's new data directory (must not exist, or be empty)" },
	{ "--blobs", "blobs", CA_STR, false,
	    "the reference's blob directory (default REF_DATA_DIR/blocks)" },
	{ "--actors", "actors", CA_STR, false,
	    "the reference's actor stores (default REF_DATA_DIR/actors)" },
	{ "--quiet", "quiet", CA_FLAG, false, "no progress lines" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_dns_zone[] = {
	{ "--origin", "origin", CA_STR, false,
	    "names relative to this zone; handles outside it left out" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_dns_check[] = {
	{ "HANDLE", "handle", CA_POS_OPT, false,
	    "one account's handle (default: every account)" },
	{ "--nameserver", "nameserver", CA_STR, false,
	    "ask this server (IPv4[:PORT]) instead of resolv.conf's" },
	{ "--via", "via", CA_STR, false,
	    "fetch the well-known file from this base URL, with Host: HANDLE" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_restore[] = {
	{ "BACKUP", "backup", CA_POS, true,
	    "the database copy a backup wrote (or its .manifest.json)" },
	{ "DATA_DIR", "data_dir", CA_POS, true,
	    "the new data directory (must not exist, or be empty)" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_export[] = {
	{ "ACCOUNT... DIR", "accounts", CA_POS_LIST, false,
	    "members to export (DID, handle or email), then the directory "
	    "to write into (must exist; one you own)" },
	{ "--all", "all", CA_FLAG, false, "every account (then only DIR)" },
	{ "--include-secrets", "secrets", CA_FLAG, false,
	    "add password hashes (server to server only; never for a "
	    "member to take away)" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_report[] = {
	{ "--since", "since", CA_STR, false,
	    "the period's first day (2026-01-31; default: 30 days ago)" },
	{ "--html", "html", CA_FLAG, false,
	    "one self-contained HTML page with charts, on standard output" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_import[] = {
	{ "DIR", "src", CA_POS, true, "a directory pdsctl export wrote" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct ctl_arg a_help[] = {
	{ "COMMAND", NULL, CA_POS_LIST, false, "a command or its first word" },
	{ NULL, NULL, 0, 0, NULL }
};

/* ---- the table ---- */

static const struct ctl_cmd table[] = {
	{ { "account", "list" }, "account.list", CTL_PAGED, a_account_list,
	    "list accounts (all of them, unless --limit)",
	    print_accounts, NULL, "accounts", NULL },
	{ { "account", "show" }, "account.show", 0, a_account,
	    "show one account with its invite codes",
	    print_account, NULL, NULL, NULL },
	{ { "account", "create" }, "account.create", 0, a_account_create,
	    "create an account (no invite code needed)",
	    print_created, NULL, NULL, NULL },
	{ { "account", "delete" }, "account.delete", CTL_CONFIRM,
	    a_account_reason_req, "delete an account and its data for good",
	    print_done, NULL, NULL, NULL },
	{ { "account", "takedown" }, "account.takedown", 0,
	    a_account_takedown, "take an account down (no login, no writes, "
	    "hidden from reads and sync)", print_status, NULL, NULL, NULL },
	{ { "account", "untakedown" }, "account.untakedown", 0,
	    a_account_reason, "reverse an account takedown",
	    print_status, NULL, NULL, NULL },
	{ { "account", "deactivate" }, "account.deactivate", 0,
	    a_account_reason, "deactivate an account", print_done, NULL,
	    NULL, NULL },
	{ { "account", "activate" }, "account.activate", 0,
	    a_account_reason, "activate a deactivated account", print_done,
	    NULL, NULL, NULL },
	{ { "account", "reset-password" }, "account.reset-password", 0,
	    a_reset_password, "set a new password and end every session",
	    print_password, NULL, NULL, NULL },
	{ { "account", "set-handle" }, "account.set-handle", 0, a_set_handle,
	    "change an account's handle (any handle; updates the DID)",
	    print_done, NULL, NULL, NULL },
	{ { "account", "set-email" }, "account.set-email", 0, a_set_email,
	    "change an account's email address", print_done, NULL, NULL, NULL },
	{ { "account", "enable-invites" }, "account.enable-invites", 0,
	    a_account_reason, "let an account make invite codes again",
	    print_done, NULL, NULL, NULL },
	{ { "account", "disable-invites" }, "account.disable-invites", 0,
	    a_account_reason, "stop an account from making invite codes",
	    print_done, NULL, NULL, NULL },
	{ { "account", "sessions" }, "account.sessions", 0, a_account,
	    "how an account is signed in: password sessions, app passwords "
	    "and OAuth grants", print_sessions, NULL, NULL, NULL },
	{ { "account", "revoke-session" }, "account.revoke-session", 0,
	    a_revoke_session, "end one session, app password or OAuth grant "
	    "of an account (one of --session, --app-password, --oauth, "
	    "--all)", print_revoked, NULL, NULL, prepare_revoke_session },
	{ { "account", "token" }, "account.token", 0, a_account_token,
	    "show the email token a member asked for (no mail needed)",
	    print_token, NULL, NULL, NULL },
	{ { "invite", "create" }, "invite.create", 0, a_invite_create,
	    "make invite codes and print them, one per line",
	    print_codes, NULL, NULL, NULL },
	{ { "invite", "list" }, "invite.list", 0, a_invite_list,
	    "list invite codes and their uses", print_invites, NULL, NULL,
	    NULL },
	{ { "invite", "disable" }, "invite.disable", 0, a_invite_disable,
	    "disable codes, or every code of an account", print_done, NULL,
	    NULL, NULL },
	{ { "takedown", "record" }, "record.takedown", 0, a_record_takedown,
	    "hide one record from reads", print_status, NULL, NULL, NULL },
	{ { "takedown", "blob" }, "blob.takedown", 0, a_blob_takedown,
	    "stop serving one blob", print_status, NULL, NULL, NULL },
	{ { "takedown", "status", "account" }, "subject.status", 0,
	    a_status_account, "an account's takedown state", print_status,
	    NULL, NULL, NULL },
	{ { "takedown", "status", "record" }, "subject.status", 0,
	    a_status_record, "a record's takedown state", print_status, NULL,
	    NULL, NULL },
	{ { "takedown", "status", "blob" }, "subject.status", 0,
	    a_status_blob, "a blob's takedown state", print_status, NULL,
	    NULL, NULL },
	{ { "untakedown", "record" }, "record.untakedown", 0,
	    a_record_untakedown, "reverse a record takedown", print_status,
	    NULL, NULL, NULL },
	{ { "untakedown", "blob" }, "blob.untakedown", 0, a_blob_untakedown,
	    "reverse a blob takedown", print_status, NULL, NULL, NULL },
	{ { "migration", "status" }, "migration.status", 0, a_none,
	    "accounts moving in (import progress) and out (where their DID "
	    "points)", print_migrations, NULL, NULL, NULL },
	{ { "migration", "list" }, "migration.status", 0, a_none,
	    "the same as migration status", print_migrations, NULL, NULL,
	    NULL },
	{ { "migration", "purge" }, "migration.purge",
	    CTL_CONFIRM | CTL_EITHER, a_migration_purge,
	    "delete the local copy of accounts that moved to another server",
	    print_purged, NULL, NULL, NULL },
	{ { "lexicon", "show" }, "lexicon.show", 0, a_lexicon,
	    "a resolved lexicon (OAuth permission sets): cache state and "
	    "document", print_lexicon, NULL, NULL, NULL },
	{ { "lexicon", "refresh" }, "lexicon.refresh", 0, a_lexicon,
	    "resolve a lexicon again now", print_lexicon, NULL, NULL, NULL },
	{ { "stats" }, "stats", 0, a_stats,
	    "accounts, storage, requests, firehose (--watch to follow)",
	    print_stats, event_stats, NULL, prepare_stats },
	{ { "firehose", "subscribers" }, "firehose.subscribers", 0, a_none,
	    "the live firehose subscribers", print_subscribers, NULL, NULL,
	    NULL },
	{ { "firehose", "tail" }, "firehose.tail", 0, a_firehose_tail,
	    "follow the firehose: one line per new event",
	    NULL, event_tail, NULL, NULL },
	{ { "request-crawl" }, "request-crawl", 0, a_request_crawl,
	    "ask relays to crawl this PDS", print_crawl, NULL, NULL, NULL },
	{ { "dns", "zone" }, "dns.zone", CTL_RUN, a_dns_zone,
	    "_atproto TXT records of every account, for a zone file",
	    NULL, NULL, NULL, NULL },
	{ { "dns", "check" }, "dns.check", CTL_RUN, a_dns_check,
	    "which handles resolve to their DID, by DNS and by HTTPS",
	    NULL, NULL, NULL, NULL },
	{ { "audit" }, "audit", 0, a_audit,
	    "the audit log of admin actions", print_audit, NULL, NULL, NULL },
	{ { "backup" }, "backup", CTL_STREAM, a_backup,
	    "write a consistent copy of the database and the blobs, with a "
	    "manifest", print_backup,
	    event_backup, NULL, prepare_backup },
	{ { "import-reference" }, "import-reference", 0, a_import_reference,
	    "convert a stopped reference PDS's data directory into a new "
	    "pdsd one, offline", NULL, NULL, NULL, prepare_import_reference },
	{ { "export" }, "export", CTL_STREAM, a_export,
	    "write members' repos, blobs, preferences, DID documents and "
	    "PLC logs, with a manifest (run again to resume)", print_xfer,
	    event_xfer, NULL, prepare_export },
	{ { "import" }, "import", CTL_STREAM, a_import,
	    "bring exported accounts here (their DIDs move with our PLC "
	    "rotation key)", print_xfer, event_xfer, NULL, prepare_import },
	{ { "report" }, "report", 0, a_report,
	    "a governance report: members, content, storage, traffic, "
	    "moderation, uptime", print_report, NULL, NULL, prepare_report },
	{ { "restore" }, "restore", CTL_OFFLINE, a_restore,
	    "build a data directory from a backup, checking every file "
	    "(no daemon needed)", NULL, NULL, NULL, NULL },
	{ { "blobstore", "migrate" }, "blobstore.migrate", CTL_STREAM,
	    a_blobstore_migrate, "move every blob to S3 or to disk, online "
	    "and resumable, each verified by its CID", print_blobstore_migrate,
	    event_blobstore_migrate, NULL, NULL },
	{ { "help" }, NULL, CTL_LOCAL, a_help,
	    "this list, or one command's usage", NULL, NULL, NULL, NULL },
};

#define NTABLE	(sizeof(table) / sizeof(table[0]))

const struct ctl_cmd *
ctl_table(size_t *n)
{
	*n = NTABLE;
	return table;
}

static int
nwords(const struct ctl_cmd *c)
{
	int	 n = 0;

	while (n < 3 && c->words[n] != NULL)
		n++;
	return n;
}

/* Whether c's first `depth' words are w[0..depth). */
static bool
words_match(const struct ctl_cmd *c, const char *const *w, int depth)
{
	int	 i;

	for (i = 0; i < depth; i++)
		if (c->words[i] == NULL || strcmp(c->words[i], w[i]) != 0)
			return false;
	return true;
}

/* The distinct words valid at `depth' after w[0..depth). */
static void
print_valid(FILE *f, const char *const *w, int depth, const char *prefix)
{
	const char	*seen[NTABLE];
	size_t		 i, j, n = 0;

	fprintf(f, "valid here:");
	for (i = 0; i < NTABLE; i++) {
		if (!words_match(&table[i], w, depth) ||
		    table[i].words[depth] == NULL || (prefix != NULL &&
		    strncmp(table[i].words[depth], prefix, strlen(prefix)) != 0))
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(seen[j], table[i].words[depth]) == 0)
				break;
		if (j < n)
			continue;
		seen[n++] = table[i].words[depth];
		fprintf(f, " %s", table[i].words[depth]);
	}
	fputc('\n', f);
}

/*
 * Resolve word `in' at depth: exact, or the one word it is a prefix of.
 * NULL when it is unknown or ambiguous (*ambiguous tells which).
 */
static const char *
word_resolve(const char *in, const char *const *w, int depth,
    bool *ambiguous)
{
	const char	*found = NULL;
	size_t		 i, len = strlen(in);

	*ambiguous = false;
	for (i = 0; i < NTABLE; i++) {
		const char *cw;

		if (!words_match(&table[i], w, depth) ||
		    (cw = table[i].words[depth]) == NULL)
			continue;
		if (strcmp(cw, in) == 0)
			return cw;
		if (strncmp(cw, in, len) == 0) {
			if (found != NULL && strcmp(found, cw) != 0)
				*ambiguous = true;
			found = cw;
		}
	}
	return *ambiguous ? NULL : found;
}

void
ctl_usage_line(FILE *f, const struct ctl_cmd *c)
{
	const struct ctl_arg	*a;
	int			 i;

	fprintf(f, "pdsctl");
	for (i = 0; i < nwords(c); i++)
		fprintf(f, " %s", c->words[i]);
	for (a = c->args; a->name != NULL; a++) {
		switch (a->kind) {
		case CA_POS:
			fprintf(f, " %s", a->name);
			break;
		case CA_POS_OPT:
			if (c->flags & CTL_EITHER)
				fprintf(f, " %s |", a->name);
			else
				fprintf(f, " [%s]", a->name);
			break;
		case CA_POS_LIST:
			fprintf(f, " [%s ...]", a->name);
			break;
		case CA_FLAG:
			fprintf(f, (c->flags & CTL_EITHER) ? " %s" : " [%s]",
			    a->name);
			break;
		case CA_STR:
		case CA_INT:
		case CA_LIST:
			fprintf(f, a->required ? " %s %s" : " [%s %s]",
			    a->name, a->kind == CA_INT ? "N" : "VALUE");
			break;
		}
	}
	if (c->flags & CTL_CONFIRM)
		fprintf(f, " [--yes]");
	fputc('\n', f);
}

static void
help_one(FILE *f, const struct ctl_cmd *c)
{
	const struct ctl_arg	*a;

	ctl_usage_line(f, c);
	fprintf(f, "  %s\n", c->help);
	for (a = c->args; a->name != NULL; a++)
		fprintf(f, "    %-18s %s%s\n", a->name, a->help,
		    a->required && a->kind != CA_POS ? " (required)" : "");
	if (c->flags & CTL_CONFIRM)
		fprintf(f, "    %-18s %s\n", "--yes",
		    "do it without asking (needed when stdin is not a "
		    "terminal)");
}

void
ctl_help(FILE *f, const struct ctl_parsed *p)
{
	size_t	 i;
	bool	 any = false;

	if (p != NULL && p->help_cmd != NULL) {
		help_one(f, p->help_cmd);
		return;
	}
	if (p != NULL && p->nhelp_words > 0) {
		for (i = 0; i < NTABLE; i++)
			if (words_match(&table[i], p->help_words,
			    p->nhelp_words)) {
				help_one(f, &table[i]);
				any = true;
			}
		if (any)
			return;
	}
	fprintf(f, "usage: pdsctl [-c ENVFILE] [--socket PATH] [--json] "
	    "COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < NTABLE; i++) {
		fprintf(f, "  ");
		ctl_usage_line(f, &table[i]);
	}
	fprintf(f, "\nWords may be abbreviated.  `pdsctl help COMMAND' "
	    "explains one.  See pdsctl(8).\n");
}

void
ctl_parsed_clear(struct ctl_parsed *p)
{
	json_decref(p->args);
	p->args = NULL;
}

static int
usage_err(const struct ctl_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
usage_err(const struct ctl_cmd *c, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "pdsctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c != NULL) {
		fprintf(stderr, "usage: ");
		ctl_usage_line(stderr, c);
	}
	return EXIT_USAGE;
}

static int
parse_int(const char *s, json_int_t *out)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		return -1;
	*out = (json_int_t)n;
	return 0;
}

/* Set or append an argument's value into args. */
static int
arg_put(json_t *args, const struct ctl_arg *a, const char *val)
{
	json_t		*arr;
	json_int_t	 n;

	if (a->key == NULL)
		return 0;
	switch (a->kind) {
	case CA_INT:
		if (parse_int(val, &n) == -1)
			return -1;
		return json_object_set_new(args, a->key, json_integer(n));
	case CA_FLAG:
		return json_object_set_new(args, a->key, json_true());
	case CA_LIST:
	case CA_POS_LIST:
		if ((arr = json_object_get(args, a->key)) == NULL) {
			arr = json_array();
			json_object_set_new(args, a->key, arr);
		}
		return json_array_append_new(arr, json_string(val));
	default:
		return json_object_set_new(args, a->key, json_string(val));
	}
}

/* The option named (exactly, or by an unambiguous prefix). */
static const struct ctl_arg *
opt_find(const struct ctl_cmd *c, const char *name, size_t len, bool *amb)
{
	const struct ctl_arg	*a, *found = NULL;

	*amb = false;
	for (a = c->args; a->name != NULL; a++) {
		if (a->name[0] != '-')
			continue;
		if (strlen(a->name) == len && strncmp(a->name, name, len) == 0)
			return a;
		if (strncmp(a->name, name, len) == 0) {
			if (found != NULL)
				*amb = true;
			found = a;
		}
	}
	return *amb ? NULL : found;
}

/* Flags the parser handles for every command. */
static bool	 opt_yes;
static bool	 opt_password_stdin;
static bool	 opt_watch;

bool
ctl_opt_yes(void)
{
	return opt_yes;
}

bool
ctl_opt_password_stdin(void)
{
	return opt_password_stdin;
}

bool
ctl_opt_watch(void)
{
	return opt_watch;
}

static int
parse_args(const struct ctl_cmd *c, int argc, char **argv, json_t *args)
{
	const struct ctl_arg	*a, *pos = c->args;
	const char		*arg, *eq, *val;
	bool			 amb, dashdash = false;
	size_t			 nlen;
	int			 i;

	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (!dashdash && strcmp(arg, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (!dashdash && arg[0] == '-' && arg[1] == '-') {
			eq = strchr(arg, '=');
			nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
			if ((c->flags & CTL_CONFIRM) && nlen == 5 &&
			    strncmp(arg, "--yes", 5) == 0) {
				opt_yes = true;
				continue;
			}
			if ((a = opt_find(c, arg, nlen, &amb)) == NULL)
				return usage_err(c, "%s option: %s",
				    amb ? "ambiguous" : "unknown", arg);
			if (a->kind == CA_FLAG) {
				if (eq != NULL)
					return usage_err(c, "%s takes no value",
					    a->name);
				if (strcmp(a->name, "--password-stdin") == 0)
					opt_password_stdin = true;
				else if (strcmp(a->name, "--watch") == 0)
					opt_watch = true;
				arg_put(args, a, "");
				continue;
			}
			if (eq != NULL)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage_err(c, "%s needs a value",
				    a->name);
			if (arg_put(args, a, val) != 0)
				return usage_err(c, "%s needs a number",
				    a->name);
			continue;
		}
		/* a positional argument */
		while (pos->name != NULL && pos->name[0] == '-')
			pos++;
		if (pos->name == NULL)
			return usage_err(c, "unexpected argument: %s", arg);
		arg_put(args, pos, arg);
		if (pos->kind != CA_POS_LIST)
			pos++;
	}
	if (c->flags & CTL_EITHER) {
		const struct ctl_arg	*one = NULL, *other = NULL;

		for (a = c->args; a->name != NULL; a++)
			if (a->kind == CA_POS_OPT)
				one = a;
			else if (a->kind == CA_FLAG)
				other = a;
		if (one != NULL && other != NULL &&
		    (json_object_get(args, one->key) == NULL) ==
		    (json_object_get(args, other->key) == NULL))
			return usage_err(c, "give either %s or %s", one->name,
			    other->name);
	}
	for (a = c->args; a->name != NULL; a++) {
		if (!a->required)
			continue;
		if (a->key != NULL && json_object_get(args, a->key) == NULL)
			return usage_err(c, "%s %s", a->kind == CA_POS ?
			    "missing argument" : "missing option", a->name);
	}
	return EXIT_OK;
}

int
ctl_parse(int argc, char **argv, struct ctl_parsed *p)
{
	const char		*w[3] = { NULL, NULL, NULL };
	const struct ctl_cmd	*c = NULL;
	bool			 amb;
	size_t			 i;
	int			 depth = 0, used = 0;

	memset(p, 0, sizeof(*p));
	if (argc == 0) {
		fprintf(stderr, "pdsctl: a command is needed\n");
		print_valid(stderr, w, 0, NULL);
		return EXIT_USAGE;
	}
	/* words, as deep as the table goes */
	while (depth < 3 && used < argc) {
		const char *r;

		/* does some command still expect a word here? */
		for (i = 0; i < NTABLE; i++)
			if (words_match(&table[i], w, depth) &&
			    table[i].words[depth] != NULL)
				break;
		if (i == NTABLE)
			break;
		r = word_resolve(argv[used], w, depth, &amb);
		if (r == NULL) {
			/* a command complete at this depth takes args */
			for (i = 0; i < NTABLE; i++)
				if (words_match(&table[i], w, depth) &&
				    table[i].words[depth] == NULL)
					break;
			if (i < NTABLE && depth > 0)
				break;
			fprintf(stderr, "pdsctl: %s word: %s\n",
			    amb ? "ambiguous" : "unknown", argv[used]);
			print_valid(stderr, w, depth, amb ? argv[used] : NULL);
			return EXIT_USAGE;
		}
		w[depth++] = r;
		used++;
		if (strcmp(w[0], "help") == 0)
			break;
	}
	for (i = 0; i < NTABLE; i++)
		if (words_match(&table[i], w, depth) &&
		    nwords(&table[i]) == depth) {
			c = &table[i];
			break;
		}
	if (c == NULL) {
		fprintf(stderr, "pdsctl: incomplete command: ");
		for (i = 0; i < (size_t)depth; i++)
			fprintf(stderr, "%s%s", i ? " " : "", w[i]);
		fputc('\n', stderr);
		print_valid(stderr, w, depth, NULL);
		return EXIT_USAGE;
	}
	if (c->flags & CTL_LOCAL) {
		/* help [words...] */
		p->help = true;
		p->cmd = c;
		memset(w, 0, sizeof(w));
		depth = 0;
		while (used < argc && depth < 3) {
			const char *r = word_resolve(argv[used], w, depth,
			    &amb);

			if (r == NULL) {
				fprintf(stderr, "pdsctl: help: %s word: %s\n",
				    amb ? "ambiguous" : "unknown", argv[used]);
				print_valid(stderr, w, depth,
				    amb ? argv[used] : NULL);
				return EXIT_USAGE;
			}
			w[depth++] = r;
			used++;
			for (i = 0; i < NTABLE; i++)
				if (words_match(&table[i], w, depth) &&
				    nwords(&table[i]) == depth)
					break;
			if (i < NTABLE) {
				p->help_cmd = &table[i];
				break;
			}
		}
		memcpy(p->help_words, w, sizeof(w));
		p->nhelp_words = depth;
		return EXIT_OK;
	}
	p->cmd = c;
	if ((p->args = json_object()) == NULL)
		return EXIT_FAIL;
	return parse_args(c, argc - used, argv + used, p->args);
}
