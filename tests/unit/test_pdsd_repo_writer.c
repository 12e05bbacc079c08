/*
 * test_pdsd_repo_writer: the commit pipeline (pdsd/repo_writer.c) in
 * process, over a store in a temporary directory, with the writer and
 * the jobs thread started as the daemon starts them.
 *
 *   1. Several threads create records in two repos at once through
 *	repo_write(): every write succeeds, each repo's revs increase,
 *	and the stored heads and record counts match what was returned.
 *   2. Once nothing is in flight, repo_writer_durable_seq() lets the
 *	whole log out, and the log holds one #commit per write whose
 *	body (DAG-CBOR) carries the write's seq, rev and commit.
 *   3. repo_writer_sweep(0) drops the cached state (a signing key
 *	changed behind the writer's back is used only after it), and
 *	writes go on: the next #commit's since is the previous rev, the
 *	head moves.
 *   4. The same while another thread sweeps all the time.
 *   5. Under a budget of one byte, every write gives back the state of
 *	the other repos (repo.states_evicted grows, the total held stays
 *	one repo's), and writes go on chained as before.
 *   6. The repo.* counters add up.
 *   7. Each repo's #commit events form one chain (since = previous rev).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "cbor.h"
#include "cid.h"
#include "commit.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "tid.h"
#include "../../pdsd/module.h"
#include "../../pdsd/repo_writer.h"
#include "../../pdsd/stats.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/store_events.h"
#include "../../pdsd/store_repo.h"

#include "t.h"

#define NACCTS		2
#define NTHREADS	4
#define NWRITES		50	/* per thread, alternating repos */
#define NSWEEPWRITES	25	/* per thread in the sweeping phase */
#define NSWEEPTHREADS	2
#define EVENTS_MAX	2000
#define COLL		"app.bsky.feed.post"

static const char *const dids[NACCTS] = {
	"did:plc:rwtestaaaaaaaaaaaaaaaaaa",
	"did:plc:rwtestbbbbbbbbbbbbbbbbbb",
};
static const char *const handles[NACCTS] = { "rwa.test", "rwb.test" };

static char	 tmpdir[] = "/tmp/test_pdsd_repo_writer.XXXXXX";
static char	 dbpath[256];

/* Each repo's signing key, and its record count as it should be. */
static struct pds_key *keys[NACCTS];
static int64_t	 nrec[NACCTS];

/* The genesis commit of each repo. */
static struct cid genesis_commit[NACCTS];
static char	 genesis_rev[NACCTS][TID_LEN + 1];

/* One repo_write() call as the calling thread saw it. */
struct wres {
	int		 acct;
	int		 rc;
	bool		 committed;
	bool		 created;	/* op.done REPO_CREATE, rkey set */
	bool		 durable;	/* durable_seq() >= seq after */
	struct cid	 commit;
	char		 rev[TID_LEN + 1];
	int64_t		 seq;
	char		 rkey[RKEY_MAX + 1];
	char		 err[300];
};

struct worker {
	pthread_t	 thread;
	int		 id;
	size_t		 n;
	struct wres	*res;
	/* revs of one repo not increasing in this thread's own order */
	int		 order_bad;
};

/* ---- helpers -------------------------------------------------------- */

static int
make_account(int a)
{
	struct pds_key	*key = NULL;
	uint8_t		 priv[32];
	char		 now[STORE_TS_LEN], email[64];
	int		 rc;

	/* A random scalar is a valid secp256k1 key but for ~2^-128. */
	randombytes_buf(priv, sizeof(priv));
	if ((rc = key_from_private(&key, KEY_K256, priv)) != PDS_OK)
		return rc;
	store_timestamp(now);
	snprintf(email, sizeof(email), "%s@example.com", handles[a]);
	if ((rc = store_begin()) != PDS_OK)
		goto out;
	if ((rc = store_account_insert(dids[a], handles[a], email,
	    "not-a-password-hash", priv, now)) != PDS_OK ||
	    (rc = repo_writer_create_repo(dids[a], key, &genesis_commit[a],
	    genesis_rev[a])) != PDS_OK) {
		store_rollback();
		goto out;
	}
	rc = store_commit();
out:
	sodium_memzero(priv, sizeof(priv));
	if (rc == PDS_OK)
		keys[a] = key;
	else
		key_free(key);
	return rc;
}

/*
 * Replace a's signing key in the accounts table, on a connection of our
 * own, as a key rotation does; the old key is kept in *old.
 */
static int
change_key(int a, struct pds_key **old)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	struct pds_key	*key = NULL;
	uint8_t		 priv[32];
	int		 rc = PDS_EIO;

	randombytes_buf(priv, sizeof(priv));
	if (key_from_private(&key, KEY_K256, priv) != PDS_OK)
		goto out;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "UPDATE accounts SET signing_key = ?1 "
	    "WHERE did = ?2", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_blob(st, 1, priv, sizeof(priv), SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dids[a], -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1) {
		*old = keys[a];
		keys[a] = key;
		key = NULL;
		rc = PDS_OK;
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	sodium_memzero(priv, sizeof(priv));
	key_free(key);
	return rc;
}

/* Whether the stored commit c of a's repo is signed by key. */
static bool
signed_by(int a, const struct cid *c, const struct pds_key *key)
{
	struct commit	 cm;
	struct buf	 b;
	const char	*why = NULL;
	bool		 ok;

	buf_init(&b, (size_t)1 << 20);
	ok = store_block_get(dids[a], c, &b) == PDS_OK &&
	    commit_decode(&cm, b.p, b.len, &why) == PDS_OK &&
	    strcmp(cm.did, dids[a]) == 0 &&
	    commit_verify(&cm, key) == PDS_OK;
	buf_clear(&b);
	return ok;
}

/* One record creation in repo a; the outcome into *w. */
static void
write_one(int a, const char *text, struct wres *w)
{
	struct repo_write_op	 op;
	struct repo_write_result res;
	struct pds_error	 err;
	json_t			*v;

	memset(w, 0, sizeof(*w));
	w->acct = a;
	v = json_pack("{s:s, s:s, s:s}", "$type", COLL, "text", text,
	    "createdAt", "2024-05-01T12:00:00.000Z");
	if (v == NULL) {
		w->rc = PDS_ENOMEM;
		return;
	}
	memset(&op, 0, sizeof(op));
	op.action = REPO_CREATE;
	snprintf(op.collection, sizeof(op.collection), "%s", COLL);
	op.value = v;
	op.validate = REPO_VALIDATE_AUTO;
	w->rc = repo_write(dids[a], &op, 1, NULL, 0, &res, &err);
	/* Read at once: the write was acknowledged, so it is durable. */
	w->durable = repo_writer_durable_seq() >= res.seq;
	json_decref(v);
	w->committed = res.committed;
	w->commit = res.commit;
	memcpy(w->rev, res.rev, sizeof(w->rev));
	w->seq = res.seq;
	w->created = op.done == REPO_CREATE && op.rkey[0] != '\0';
	memcpy(w->rkey, op.rkey, sizeof(w->rkey));
	if (w->rc == PDS_OK)
		__atomic_add_fetch(&nrec[a], 1, __ATOMIC_RELAXED);
	else
		snprintf(w->err, sizeof(w->err), "%s: %.200s",
		    err.name != NULL ? err.name : pds_strerror(w->rc),
		    err.msg);
}

static void *
worker_main(void *arg)
{
	struct worker	*wk = arg;
	char		 last[NACCTS][TID_LEN + 1];
	char		 text[64];
	size_t		 j;
	int		 a;

	memset(last, 0, sizeof(last));
	for (j = 0; j < wk->n; j++) {
		a = (int)((wk->id + j) % NACCTS);
		snprintf(text, sizeof(text), "post %zu of thread %d", j,
		    wk->id);
		write_one(a, text, &wk->res[j]);
		if (wk->res[j].rc != PDS_OK)
			continue;
		if (last[a][0] != '\0' && strcmp(wk->res[j].rev, last[a]) <= 0)
			wk->order_bad++;
		memcpy(last[a], wk->res[j].rev, sizeof(last[a]));
	}
	store_thread_close();
	return NULL;
}

/* Run nthreads workers of n writes each; results into res[t * n + j]. */
static int
run_workers(struct worker *wk, int nthreads, size_t n, struct wres *res)
{
	int	 t, started = 0;

	for (t = 0; t < nthreads; t++) {
		memset(&wk[t], 0, sizeof(wk[t]));
		wk[t].id = t;
		wk[t].n = n;
		wk[t].res = &res[(size_t)t * n];
		if (pthread_create(&wk[t].thread, NULL, worker_main,
		    &wk[t]) != 0)
			break;
		started++;
	}
	for (t = 0; t < started; t++)
		pthread_join(wk[t].thread, NULL);
	return started;
}

static int
by_seq(const void *a, const void *b)
{
	const struct wres *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static uint64_t
counter(const char *name)
{
	return stats_get(stats_counter(name, STATS_RATE));
}

/* ---- the event log -------------------------------------------------- */

struct ev {
	int64_t		 seq;
	char		 type[16];
	int		 acct;		/* -1: another DID */
	bool		 decoded;	/* a DAG-CBOR map */
	bool		 seq_ok;	/* its "seq" is the row's */
	bool		 repo_ok;	/* its "repo" is the row's did */
	bool		 has_since;	/* "since" is text, not null */
	char		 rev[TID_LEN + 1];
	char		 since[TID_LEN + 1];
	bool		 has_commit;
	struct cid	 commit;
	size_t		 nops;
	bool		 op_create;	/* one "create" op under COLL */
};

struct evlog {
	struct ev	*v;
	size_t		 n, cap;
	bool		 order_bad;	/* seqs not increasing */
	int64_t		 last;
};

static bool
dm_str_eq(const struct dm_value *v, const char *s)
{
	return v != NULL && v->type == DM_STRING && v->u.s.len == strlen(s) &&
	    memcmp(v->u.s.p, s, v->u.s.len) == 0;
}

static void
dm_str_copy(const struct dm_value *v, char *out, size_t cap)
{
	size_t	 n;

	out[0] = '\0';
	if (v == NULL || v->type != DM_STRING)
		return;
	n = v->u.s.len < cap - 1 ? v->u.s.len : cap - 1;
	memcpy(out, v->u.s.p, n);
	out[n] = '\0';
}

static int
collect(void *arg, const struct store_event_row *row)
{
	struct evlog	*log = arg;
	struct dm_arena	*ar;
	struct dm_value	*body, *f, *op;
	const char	*why = NULL;
	struct ev	*e;
	int		 a;

	if (log->n == log->cap)
		return PDS_ETOOBIG;
	if (row->seq <= log->last)
		log->order_bad = true;
	log->last = row->seq;
	e = &log->v[log->n++];
	memset(e, 0, sizeof(*e));
	e->seq = row->seq;
	snprintf(e->type, sizeof(e->type), "%s", row->type);
	e->acct = -1;
	for (a = 0; a < NACCTS; a++)
		if (strcmp(row->did, dids[a]) == 0)
			e->acct = a;
	if (strcmp(row->type, "commit") != 0)
		return 0;
	if ((ar = dm_arena_new()) == NULL)
		return PDS_ENOMEM;
	if (dm_decode(ar, row->body, row->len, &body, &why) == PDS_OK &&
	    body->type == DM_MAP) {
		e->decoded = true;
		f = dm_map_get(body, "seq");
		e->seq_ok = f != NULL && f->type == DM_INT &&
		    f->u.i == row->seq;
		e->repo_ok = dm_str_eq(dm_map_get(body, "repo"), row->did);
		dm_str_copy(dm_map_get(body, "rev"), e->rev, sizeof(e->rev));
		f = dm_map_get(body, "since");
		if (f != NULL && f->type == DM_STRING) {
			e->has_since = true;
			dm_str_copy(f, e->since, sizeof(e->since));
		}
		f = dm_map_get(body, "commit");
		if (f != NULL && f->type == DM_LINK) {
			e->has_commit = true;
			e->commit = f->u.link;
		}
		f = dm_map_get(body, "ops");
		if (f != NULL && f->type == DM_ARRAY) {
			e->nops = f->u.arr.n;
			if (e->nops == 1) {
				op = f->u.arr.items[0];
				f = dm_map_get(op, "path");
				e->op_create = dm_str_eq(dm_map_get(op,
				    "action"), "create") && f != NULL &&
				    f->type == DM_STRING &&
				    f->u.s.len > strlen(COLL) + 1 &&
				    memcmp(f->u.s.p, COLL "/",
				    strlen(COLL) + 1) == 0;
			}
		}
	}
	dm_arena_free(ar);
	return 0;
}

/* Every row after `after' up to `upto', in pages. */
static int
scan_log(struct evlog *log, int64_t after, int64_t upto)
{
	size_t	 n;
	int	 rc;

	log->n = 0;
	log->order_bad = false;
	log->last = after;
	do {
		n = 0;
		rc = store_events_scan(log->last, upto, 100, collect, log, &n);
	} while (rc == PDS_OK && n == 100);
	return rc;
}

static const struct ev *
ev_find(const struct evlog *log, int64_t seq)
{
	size_t	 i;

	for (i = 0; i < log->n; i++)
		if (log->v[i].seq == seq)
			return &log->v[i];
	return NULL;
}

/* ---- 1. concurrent writes ------------------------------------------ */

static struct wres	 res1[NTHREADS * NWRITES];
static struct wres	 res3[1 + NACCTS * 2];
static struct wres	 res4[NSWEEPTHREADS * NSWEEPWRITES];
static struct wres	 res5[NACCTS * 3];
static size_t		 nwrites;	/* successful writes so far */

static void
check_heads(const struct wres *all, size_t n, const char *when)
{
	struct wres	*sorted;
	struct cid	 head;
	char		 rev[TID_LEN + 1];
	size_t		 i;
	int		 a;

	if ((sorted = calloc(n, sizeof(*sorted))) == NULL) {
		CHECK(0, "out of memory");
		return;
	}
	memcpy(sorted, all, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_seq);
	for (a = 0; a < NACCTS; a++) {
		const struct wres *last = NULL;
		bool	 seq_up = true, rev_up = true;

		for (i = 0; i < n; i++) {
			if (sorted[i].acct != a)
				continue;
			if (last != NULL && sorted[i].seq <= last->seq)
				seq_up = false;
			if (last != NULL && strcmp(sorted[i].rev,
			    last->rev) <= 0)
				rev_up = false;
			last = &sorted[i];
		}
		CHECK(seq_up, "%s: %s's seqs all distinct", when, dids[a]);
		CHECK(rev_up, "%s: %s's revs increase with the seq", when,
		    dids[a]);
		CHECK(last != NULL, "%s: %s got writes", when, dids[a]);
		if (last == NULL)
			continue;
		CHECK(store_repo_root_get(dids[a], &head, rev) == PDS_OK &&
		    cid_equal(&head, &last->commit) &&
		    strcmp(rev, last->rev) == 0,
		    "%s: %s's stored head is its last commit (rev %s, "
		    "stored %s)", when, dids[a], last->rev, rev);
	}
	free(sorted);
}

static void
test_concurrent(void)
{
	struct worker	 wk[NTHREADS];
	int64_t		 count;
	size_t		 i, ok = 0, committed = 0, created = 0;
	size_t		 durable = 0;
	size_t		 per[NACCTS] = { 0 };
	int		 t, order_bad = 0, a;

	t_group("concurrent writes");
	CHECK(run_workers(wk, NTHREADS, NWRITES, res1) == NTHREADS,
	    "%d threads started", NTHREADS);
	for (t = 0; t < NTHREADS; t++)
		order_bad += wk[t].order_bad;
	for (i = 0; i < NTHREADS * NWRITES; i++) {
		if (res1[i].rc == PDS_OK)
			ok++;
		else if (ok == i)	/* the first failure */
			fprintf(stderr, "write %zu: %s\n", i, res1[i].err);
		committed += res1[i].committed;
		created += res1[i].created;
		durable += res1[i].durable;
		if (res1[i].rc == PDS_OK)
			per[res1[i].acct]++;
	}
	nwrites += ok;
	CHECK(ok == NTHREADS * NWRITES, "every write returned PDS_OK (%zu of "
	    "%d)", ok, NTHREADS * NWRITES);
	CHECK(committed == NTHREADS * NWRITES, "every write committed (%zu)",
	    committed);
	CHECK(created == NTHREADS * NWRITES,
	    "every op says created, with a new rkey (%zu)", created);
	CHECK(durable == NTHREADS * NWRITES, "the durable seq was past each "
	    "acknowledged write's seq (%zu)", durable);
	CHECK(order_bad == 0, "each thread saw a repo's revs increase (%d "
	    "out of order)", order_bad);
	check_heads(res1, NTHREADS * NWRITES, "after the threads");
	for (a = 0; a < NACCTS; a++) {
		CHECK(store_record_count(dids[a], &count) == PDS_OK &&
		    count == (int64_t)per[a] &&
		    per[a] == NTHREADS * NWRITES / NACCTS,
		    "%s holds %zu records (counted %lld)", dids[a], per[a],
		    (long long)count);
	}
	/* One record per thread, read back by its rkey. */
	for (t = 0, ok = 0; t < NTHREADS; t++) {
		const struct wres *w = &res1[(size_t)t * NWRITES + 7];
		struct cid c;

		if (store_record_get(dids[w->acct], COLL, w->rkey, false, &c,
		    NULL) == PDS_OK)
			ok++;
	}
	CHECK(ok == NTHREADS, "records are there by their rkey (%zu)", ok);
	t_group_end();
}

/* ---- 2. the durable seq and the event log -------------------------- */

static void
test_event_log(struct evlog *log)
{
	size_t	 i, matched = 0, bad_body = 0, bad_rev = 0;
	size_t	 bad_commit = 0, commits = 0, bad_op = 0;
	int64_t	 upto;

	t_group("event log");
	upto = repo_writer_durable_seq();
	CHECK(upto == INT64_MAX, "nothing in flight: durable seq is "
	    "INT64_MAX (%lld)", (long long)upto);
	CHECK(scan_log(log, 0, upto) == PDS_OK, "scan the log");
	CHECK(!log->order_bad, "seqs strictly increase");
	for (i = 0; i < log->n; i++)
		if (strcmp(log->v[i].type, "commit") == 0 &&
		    log->v[i].acct >= 0)
			commits++;
	/* Each repo's genesis #commit, then one per write. */
	CHECK(commits == NACCTS + NTHREADS * NWRITES,
	    "%zu #commit events (want %d)", commits,
	    NACCTS + NTHREADS * NWRITES);
	for (i = 0; i < NTHREADS * NWRITES; i++) {
		const struct wres *w = &res1[i];
		const struct ev *e = ev_find(log, w->seq);

		if (e == NULL || strcmp(e->type, "commit") != 0 ||
		    e->acct != w->acct)
			continue;
		matched++;
		if (!e->decoded || !e->seq_ok || !e->repo_ok)
			bad_body++;
		if (strcmp(e->rev, w->rev) != 0)
			bad_rev++;
		if (!e->has_commit || !cid_equal(&e->commit, &w->commit))
			bad_commit++;
		if (e->nops != 1 || !e->op_create)
			bad_op++;
	}
	CHECK(matched == NTHREADS * NWRITES, "each write's seq is a #commit "
	    "of its repo (%zu)", matched);
	CHECK(bad_body == 0, "bodies decode as DAG-CBOR with the row's seq "
	    "and repo (%zu bad)", bad_body);
	CHECK(bad_rev == 0, "the event's rev is the write's (%zu bad)",
	    bad_rev);
	CHECK(bad_commit == 0, "the event's commit is the write's (%zu bad)",
	    bad_commit);
	CHECK(bad_op == 0, "each event has the one create op (%zu bad)",
	    bad_op);
	t_group_end();
}

/* ---- 3. after the sweep -------------------------------------------- */

/* A write to a: it succeeds, chains on prev and becomes the head. */
static const struct wres *
write_chained(int a, struct wres *w, char prev[TID_LEN + 1],
    struct evlog *log, const char *when)
{
	struct cid	 head;
	char		 rev[TID_LEN + 1];
	const struct ev	*e;

	write_one(a, when, w);
	CHECK(w->rc == PDS_OK && w->committed, "%s: write to %s: %s", when,
	    dids[a], w->err);
	if (w->rc != PDS_OK)
		return NULL;
	nwrites++;
	CHECK(strcmp(w->rev, prev) > 0, "%s: %s's rev moves on (%s after %s)",
	    when, dids[a], w->rev, prev);
	CHECK(store_repo_root_get(dids[a], &head, rev) == PDS_OK &&
	    cid_equal(&head, &w->commit) && strcmp(rev, w->rev) == 0,
	    "%s: %s's head is the new commit", when, dids[a]);
	CHECK(scan_log(log, w->seq - 1, w->seq) == PDS_OK &&
	    (e = ev_find(log, w->seq)) != NULL &&
	    strcmp(e->type, "commit") == 0 && e->acct == a,
	    "%s: %s: the #commit at %lld", when, dids[a], (long long)w->seq);
	if ((e = ev_find(log, w->seq)) != NULL) {
		CHECK(e->decoded && e->seq_ok && e->repo_ok &&
		    strcmp(e->rev, w->rev) == 0 && e->has_commit &&
		    cid_equal(&e->commit, &w->commit),
		    "%s: %s: its seq, repo, rev and commit", when, dids[a]);
		CHECK(e->has_since && strcmp(e->since, prev) == 0,
		    "%s: %s: its since is the previous rev (%s, want %s)",
		    when, dids[a], e->since, prev);
	}
	memcpy(prev, w->rev, TID_LEN + 1);
	return w;
}

static void
test_after_sweep(struct evlog *log)
{
	struct pds_key	*old = NULL;
	struct cid	 head[NACCTS];
	const struct wres *w;
	char		 prev[NACCTS][TID_LEN + 1], when[32];
	int64_t		 count;
	int		 round, a;

	t_group("after a sweep");
	for (a = 0; a < NACCTS; a++) {
		CHECK(store_repo_root_get(dids[a], &head[a], prev[a]) ==
		    PDS_OK, "head of %s", dids[a]);
		CHECK(signed_by(a, &head[a], keys[a]), "%s's head is signed "
		    "with its key", dids[a]);
	}

	/* A key changed behind the writer's back: its cached key signs. */
	CHECK(change_key(0, &old) == PDS_OK, "%s's key replaced", dids[0]);
	if ((w = write_chained(0, &res3[0], prev[0], log,
	    "before the sweep")) != NULL && old != NULL)
		CHECK(signed_by(0, &w->commit, old) &&
		    !signed_by(0, &w->commit, keys[0]),
		    "before the sweep, the cached key signs");

	for (round = 0; round < 2; round++) {
		/* Nothing in flight: every repo's state is given back. */
		CHECK(repo_writer_durable_seq() == INT64_MAX,
		    "round %d: nothing in flight", round);
		repo_writer_sweep(0);
		snprintf(when, sizeof(when), "round %d", round);
		for (a = 0; a < NACCTS; a++) {
			w = write_chained(a, &res3[1 + round * NACCTS + a],
			    prev[a], log, when);
			if (w != NULL)
				CHECK(signed_by(a, &w->commit, keys[a]),
				    "%s: %s's commit is signed with the key "
				    "in the database", when, dids[a]);
		}
	}
	key_free(old);
	for (a = 0; a < NACCTS; a++)
		CHECK(store_record_count(dids[a], &count) == PDS_OK &&
		    count == nrec[a] &&
		    nrec[a] == NTHREADS * NWRITES / NACCTS + 2 + (a == 0),
		    "%s holds %lld records", dids[a], (long long)count);
	CHECK(repo_writer_durable_seq() == INT64_MAX,
	    "durable seq INT64_MAX again");
	t_group_end();
}

/* ---- 4. writes while the sweep runs all the time ------------------- */

static volatile int	 sweeping;
static unsigned long	 sweeps;

static void *
sweeper_main(void *arg)
{
	struct timespec	 ts = { 0, 200000 };

	(void)arg;
	while (__atomic_load_n(&sweeping, __ATOMIC_ACQUIRE)) {
		repo_writer_sweep(0);
		sweeps++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void
test_sweeping(void)
{
	struct worker	 wk[NSWEEPTHREADS];
	pthread_t	 sw;
	size_t		 i, ok = 0;
	int64_t		 count, before[NACCTS];
	int		 t, order_bad = 0, a;
	bool		 have_sweeper;

	t_group("writes while sweeping");
	memcpy(before, nrec, sizeof(before));
	__atomic_store_n(&sweeping, 1, __ATOMIC_RELEASE);
	have_sweeper = pthread_create(&sw, NULL, sweeper_main, NULL) == 0;
	CHECK(have_sweeper, "sweeper thread");
	CHECK(run_workers(wk, NSWEEPTHREADS, NSWEEPWRITES, res4) ==
	    NSWEEPTHREADS, "%d threads started", NSWEEPTHREADS);
	__atomic_store_n(&sweeping, 0, __ATOMIC_RELEASE);
	if (have_sweeper)
		pthread_join(sw, NULL);
	for (t = 0; t < NSWEEPTHREADS; t++)
		order_bad += wk[t].order_bad;
	for (i = 0; i < NSWEEPTHREADS * NSWEEPWRITES; i++) {
		if (res4[i].rc == PDS_OK && res4[i].committed &&
		    res4[i].durable)
			ok++;
		else
			fprintf(stderr, "sweeping write %zu: %s\n", i,
			    res4[i].err);
	}
	nwrites += ok;
	CHECK(ok == NSWEEPTHREADS * NSWEEPWRITES, "every write succeeded "
	    "(%zu, %lu sweeps)", ok, sweeps);
	CHECK(order_bad == 0, "revs increase in each thread");
	check_heads(res4, NSWEEPTHREADS * NSWEEPWRITES, "while sweeping");
	for (a = 0; a < NACCTS; a++)
		CHECK(store_record_count(dids[a], &count) == PDS_OK &&
		    count == nrec[a] && nrec[a] - before[a] ==
		    NSWEEPTHREADS * NSWEEPWRITES / NACCTS,
		    "%s holds %lld records", dids[a], (long long)count);
	t_group_end();
}

/* ---- 5. under a tiny budget ---------------------------------------- */

static void
test_budget(struct evlog *log)
{
	struct cid	 head;
	char		 prev[NACCTS][TID_LEN + 1], when[32];
	uint64_t	 evicted0;
	int		 round, a;

	t_group("under a budget of one byte");
	for (a = 0; a < NACCTS; a++)
		CHECK(store_repo_root_get(dids[a], &head, prev[a]) == PDS_OK,
		    "head of %s", dids[a]);
	evicted0 = counter("repo.states_evicted");
	repo_writer_set_budget(1);
	for (round = 0; round < 3; round++) {
		snprintf(when, sizeof(when), "budget round %d", round);
		for (a = 0; a < NACCTS; a++) {
			(void)write_chained(a, &res5[round * NACCTS + a],
			    prev[a], log, when);
			CHECK(repo_writer_state_bytes() < ((size_t)1 << 20),
			    "%s: state held %zu B, one repo's", when,
			    repo_writer_state_bytes());
		}
	}
	CHECK(counter("repo.states_evicted") - evicted0 >= 2 * NACCTS,
	    "repo.states_evicted grew by %llu", (unsigned long long)
	    (counter("repo.states_evicted") - evicted0));
	repo_writer_set_budget(REPO_STATE_BUDGET_DEFAULT);
	t_group_end();
}

/* ---- 6. counters ---------------------------------------------------- */

static void
test_counters(uint64_t commits0, uint64_t txns0, uint64_t syncs0,
    uint64_t failed0, const struct repo_writer_stats *s0)
{
	struct repo_writer_stats s;
	uint64_t	 commits, txns, syncs, failed;

	t_group("counters");
	commits = counter("repo.commits");
	txns = counter("repo.transactions");
	syncs = counter("repo.syncs");
	failed = counter("repo.failed");
	repo_writer_stats(&s);
	CHECK(commits - commits0 == nwrites, "repo.commits grew by %zu "
	    "(%llu)", nwrites, (unsigned long long)(commits - commits0));
	CHECK(failed - failed0 == 0, "repo.failed did not grow (%llu)",
	    (unsigned long long)(failed - failed0));
	CHECK(syncs >= 1 && syncs - syncs0 >= 1, "repo.syncs >= 1 (%llu)",
	    (unsigned long long)syncs);
	CHECK(syncs <= txns, "repo.syncs %llu <= repo.transactions %llu",
	    (unsigned long long)syncs, (unsigned long long)txns);
	CHECK(txns - txns0 >= 1 && txns - txns0 <= nwrites,
	    "between 1 and %zu transactions (%llu)", nwrites,
	    (unsigned long long)(txns - txns0));
	CHECK(s.commits - s0->commits == nwrites &&
	    s.transactions - s0->transactions == txns - txns0 &&
	    s.failed == s0->failed,
	    "repo_writer_stats agrees (%llu commits, %llu transactions)",
	    (unsigned long long)s.commits,
	    (unsigned long long)s.transactions);
	CHECK(s.max_group >= 1 && s.max_group <= nwrites,
	    "max group %llu", (unsigned long long)s.max_group);
	t_group_end();
}

/* ---- 6. the chains -------------------------------------------------- */

static void
test_chains(struct evlog *log)
{
	char	 prev[TID_LEN + 1];
	size_t	 i, n;
	int	 a;
	bool	 chain, genesis;

	t_group("chains");
	CHECK(scan_log(log, 0, repo_writer_durable_seq()) == PDS_OK,
	    "scan the log");
	CHECK(!log->order_bad, "seqs strictly increase");
	for (a = 0; a < NACCTS; a++) {
		chain = true;
		genesis = false;
		n = 0;
		prev[0] = '\0';
		for (i = 0; i < log->n; i++) {
			const struct ev *e = &log->v[i];

			if (e->acct != a || strcmp(e->type, "commit") != 0)
				continue;
			if (n == 0)
				genesis = !e->has_since &&
				    strcmp(e->rev, genesis_rev[a]) == 0 &&
				    e->has_commit &&
				    cid_equal(&e->commit, &genesis_commit[a]);
			else if (!e->has_since || strcmp(e->since, prev) != 0 ||
			    strcmp(e->rev, prev) <= 0) {
				if (chain)
					fprintf(stderr, "%s: seq %lld since "
					    "%s, previous rev %s\n", dids[a],
					    (long long)e->seq, e->since, prev);
				chain = false;
			}
			memcpy(prev, e->rev, sizeof(prev));
			n++;
		}
		CHECK(genesis, "%s: the first #commit is the genesis, since "
		    "null", dids[a]);
		CHECK(chain, "%s: every #commit's since is the rev before it",
		    dids[a]);
		CHECK(n == 1 + (size_t)nrec[a], "%s: %zu #commit events "
		    "(want %lld)", dids[a], n, (long long)(1 + nrec[a]));
	}
	t_group_end();
}

int
main(void)
{
	const struct pdsd_module *writer = &pdsd_module_repo_writer;
	const struct pdsd_module *jobs = &pdsd_module_jobs;
	struct repo_writer_stats s0;
	struct evlog	 log;
	uint64_t	 commits0, txns0, syncs0, failed0;
	char		 cmd[300];
	int		 a;

	log_init("test_pdsd_repo_writer", 0, 0);
	if (sodium_init() < 0 || key_init() != PDS_OK) {
		fprintf(stderr, "crypto init failed\n");
		return 1;
	}
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/pds.sqlite", tmpdir);
	if (store_open(dbpath) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	memset(&log, 0, sizeof(log));
	log.cap = EVENTS_MAX;
	if ((log.v = calloc(log.cap, sizeof(*log.v))) == NULL)
		return 1;

	/* As the daemon starts them; neither reads its configuration. */
	CHECK(jobs->init(NULL) == 0, "jobs start");
	CHECK(writer->init(NULL) == 0, "the repo writer starts");

	for (a = 0; a < NACCTS; a++)
		CHECK(make_account(a) == PDS_OK, "account %s", dids[a]);

	commits0 = counter("repo.commits");
	txns0 = counter("repo.transactions");
	syncs0 = counter("repo.syncs");
	failed0 = counter("repo.failed");
	repo_writer_stats(&s0);

	test_concurrent();
	test_event_log(&log);
	test_after_sweep(&log);
	test_sweeping();
	test_budget(&log);
	test_counters(commits0, txns0, syncs0, failed0, &s0);
	test_chains(&log);

	writer->fini();
	jobs->fini();
	store_close();
	for (a = 0; a < NACCTS; a++)
		key_free(keys[a]);
	free(log.v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void)system(cmd);
	return t_done("test_pdsd_repo_writer");
}
