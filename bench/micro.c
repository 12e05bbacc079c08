/*
 * micro: the cost floor of one repo commit on one core, from its three
 * unavoidable parts, each timed alone with the code and settings pdsd uses:
 *
 *   sign	one secp256k1 signature of a commit digest (key_sign_digest:
 *		libsecp256k1, RFC 6979 nonce, low S);
 *   sha256	one SHA-256 of a 1 KiB block (sha256() of cid.h: libsodium),
 *		done once per new block: the record, the MST nodes on its
 *		path and the commit;
 *   txn	one SQLite transaction in WAL mode with synchronous=FULL that
 *		writes a commit's rows the way pdsd stores them: the new
 *		blocks, the record index row, the repo head and the firehose
 *		event (tables shaped like pdsd's store_schema.c).
 *
 * Apart from the commit, and timed the same way:
 *
 *   dpop	one DPoP proof checked by dpop_verify() (dpop.h), as pdsd's
 *		resource server checks every OAuth request: parse, ES256
 *		signature with the proof's own P-256 key, claims and ath.
 *		The nonce, replay and token checks that follow are not in it.
 *
 * From them: the most commits per second one core could do when each
 * commit pays its own fsync (1 / (sign + BLOCKS x sha256 + txn)), and when
 * GROUP commits share one transaction (pdsd's group commit), which leaves
 * the CPU parts and the fsync divided by GROUP.  Everything else a commit
 * costs (HTTP, JSON, CBOR, the MST walk) only lowers these figures.
 *
 *   micro [-j] [-d dir] [-t seconds-per-figure]
 *
 * -j prints JSON instead of text; the database goes in a temporary file
 * in dir (default "."), removed at the end.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include <jansson.h>

#include "cid.h"
#include "dpop.h"
#include "err.h"
#include "jwk.h"
#include "keys.h"
#include "multibase.h"

#define BLOCKS		6	/* record + 4 MST nodes + commit */
#define GROUP		64	/* commits per transaction, grouped */
#define RECORD_LEN	220
#define NODE_LEN	520
#define COMMIT_LEN	160
#define EVENT_LEN	1700	/* a #commit frame body with its CAR slice */

static double budget = 1.0;	/* seconds per figure */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void __attribute__((noreturn))
die(const char *what, const char *why)
{
	fprintf(stderr, "micro: %s: %s\n", what, why);
	exit(1);
}

/* ---- sign and hash ------------------------------------------------ */

/*
 * Time op in rounds of n calls until the budget is spent; the median of
 * the rounds' per-call times, in seconds.
 */
static double
time_rounds(void (*op)(void *), void *arg, int n)
{
	double samples[4096], t0, t1, end;
	int ns = 0, i;

	end = now_s() + budget;
	while (ns < 4096) {
		t0 = now_s();
		for (i = 0; i < n; i++)
			op(arg);
		t1 = now_s();
		samples[ns++] = (t1 - t0) / n;
		if (t1 > end && ns >= 5)
			break;
	}
	qsort(samples, (size_t)ns, sizeof(double), cmp_d);
	return samples[ns / 2];
}

struct sign_arg {
	struct pds_key	*key;
	uint8_t		 digest[32];
	uint8_t		 sig[KEY_SIG_LEN];
};

static void
op_sign(void *p)
{
	struct sign_arg *a = p;

	if (key_sign_digest(a->key, a->digest, a->sig) != PDS_OK)
		die("key_sign_digest", "failed");
	a->digest[0] ^= a->sig[0];	/* a new digest every time */
}

struct hash_arg {
	uint8_t	 block[1024];
	uint8_t	 out[32];
};

static void
op_hash(void *p)
{
	struct hash_arg *a = p;

	sha256(a->out, a->block, sizeof(a->block));
	a->block[0] ^= a->out[0];
}

/* ---- a DPoP proof ------------------------------------------------- */

#define DPOP_HTU	"https://pds.example.com/xrpc/com.atproto.repo.createRecord"

struct dpop_arg {
	char			 proof[2048];
	size_t			 len;
	char			 token[700];
	struct dpop_expect	 e;
};

static void
b64u_cat(char *out, size_t cap, const void *p, size_t len)
{
	size_t	 n = strlen(out);

	if (b64url_encode(out + n, cap - n, p, len) < 0)
		die("b64url_encode", "too long");
}

/*
 * A proof as a client sends it with an access token: a fresh P-256 key
 * in the header, jti, htm, htu, iat, a nonce and ath; and what pdsd
 * would expect of it.
 */
static void
dpop_make(struct dpop_arg *a)
{
	struct pds_key	*k;
	json_t		*jwk;
	char		 hdr[512], claims[512], ath[64], nonce[DPOP_NONCE_SIZE];
	char		*js;
	uint8_t		 h[32], sig[KEY_SIG_LEN], secret[DPOP_NONCE_SECRET_LEN];
	time_t		 now = time(NULL);
	size_t		 i;

	/* An access token's length, the bytes do not matter to ath. */
	for (i = 0; i < sizeof(a->token) - 1; i++)
		a->token[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
	a->token[i] = '\0';
	crypto_hash_sha256(h, (uint8_t *)a->token, strlen(a->token));
	if (b64url_encode(ath, sizeof(ath), h, sizeof(h)) < 0)
		die("b64url_encode", "ath");
	randombytes_buf(secret, sizeof(secret));
	dpop_nonce_current(nonce, secret, now);
	if (key_generate(&k, KEY_P256) != PDS_OK ||
	    jwk_export_public(&jwk, k) != PDS_OK)
		die("key_generate", "P-256");
	js = json_dumps(jwk, JSON_COMPACT);
	json_decref(jwk);
	snprintf(hdr, sizeof(hdr), "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\","
	    "\"jwk\":%s}", js);
	free(js);
	snprintf(claims, sizeof(claims), "{\"jti\":\"k3fz9a1q0x7\","
	    "\"htm\":\"POST\",\"htu\":\"%s\",\"iat\":%lld,\"nonce\":\"%s\","
	    "\"ath\":\"%s\"}", DPOP_HTU, (long long)now, nonce, ath);
	a->proof[0] = '\0';
	b64u_cat(a->proof, sizeof(a->proof), hdr, strlen(hdr));
	strcat(a->proof, ".");
	b64u_cat(a->proof, sizeof(a->proof), claims, strlen(claims));
	if (key_sign(k, a->proof, strlen(a->proof), sig) != PDS_OK)
		die("key_sign", "P-256");
	strcat(a->proof, ".");
	b64u_cat(a->proof, sizeof(a->proof), sig, sizeof(sig));
	a->len = strlen(a->proof);
	key_free(k);
	memset(&a->e, 0, sizeof(a->e));
	a->e.htm = "POST";
	a->e.htu = DPOP_HTU;
	a->e.now = now;
	a->e.iat_past = DPOP_IAT_PAST;
	a->e.iat_future = DPOP_IAT_FUTURE;
	a->e.access_token = a->token;
	a->e.access_token_len = strlen(a->token);
}

static void
op_dpop(void *p)
{
	struct dpop_arg *a = p;
	struct dpop_proof out;
	const char *why = "";

	if (dpop_verify(&out, a->proof, a->len, &a->e, &why) != PDS_OK)
		die("dpop_verify", why);
}

/* ---- the SQLite transaction --------------------------------------- */

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA temp_store=MEMORY;"
    "PRAGMA cache_size=-8192;"
    "CREATE TABLE accounts (did TEXT PRIMARY KEY) STRICT;"
    "CREATE TABLE repo_root (did TEXT PRIMARY KEY REFERENCES accounts (did)"
    "  ON DELETE CASCADE, cid TEXT NOT NULL, rev TEXT NOT NULL,"
    "  indexed_at TEXT NOT NULL) STRICT;"
    "CREATE TABLE repo_blocks (did TEXT NOT NULL REFERENCES accounts (did)"
    "  ON DELETE CASCADE, cid TEXT NOT NULL, rev TEXT NOT NULL,"
    "  size INTEGER NOT NULL, content BLOB NOT NULL,"
    "  PRIMARY KEY (did, cid)) STRICT;"
    "CREATE TABLE records (did TEXT NOT NULL"
    "  REFERENCES accounts (did) ON DELETE CASCADE,"
    "  collection TEXT NOT NULL, rkey TEXT NOT NULL, cid TEXT NOT NULL,"
    "  rev TEXT NOT NULL, indexed_at TEXT NOT NULL,"
    "  PRIMARY KEY (did, collection, rkey)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX records_rev ON records (did, rev);"
    "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  did TEXT NOT NULL, type TEXT NOT NULL, event BLOB NOT NULL,"
    "  invalidated INTEGER NOT NULL DEFAULT 0,"
    "  sequenced_at TEXT NOT NULL) STRICT;"
    "CREATE INDEX events_did ON events (did);"
    "INSERT INTO accounts VALUES ('did:plc:benchbenchbenchbenchbenc');";

struct txn {
	sqlite3		*db;
	sqlite3_stmt	*block, *record, *root, *event;
	uint64_t	 n;		/* commits written so far */
	uint8_t		 blob[2048];
};

static void
txn_check(struct txn *t, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		die(what, sqlite3_errmsg(t->db));
}

static void
txn_exec(struct txn *t, const char *sql)
{
	txn_check(t, sqlite3_exec(t->db, sql, NULL, NULL, NULL), sql);
}

static void
txn_step(struct txn *t, sqlite3_stmt *st, const char *what)
{
	txn_check(t, sqlite3_step(st), what);
	sqlite3_reset(st);
}

static void
txn_open(struct txn *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	if (sqlite3_open(path, &t->db) != SQLITE_OK)
		die(path, sqlite3_errmsg(t->db));
	txn_exec(t, schema);
	txn_check(t, sqlite3_prepare_v2(t->db,
	    "INSERT OR IGNORE INTO repo_blocks (did, cid, rev, size, content) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &t->block, NULL), "prepare");
	txn_check(t, sqlite3_prepare_v2(t->db,
	    "INSERT INTO records (did, collection, rkey, cid, rev, "
	    "indexed_at) VALUES (?2, 'app.bsky.feed.post', ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (did, collection, rkey) DO UPDATE SET cid = ?4, "
	    "rev = ?5, indexed_at = ?6", -1, &t->record, NULL), "prepare");
	txn_check(t, sqlite3_prepare_v2(t->db,
	    "INSERT INTO repo_root (did, cid, rev, indexed_at) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (did) DO UPDATE SET "
	    "cid = ?2, rev = ?3, indexed_at = ?4", -1, &t->root, NULL),
	    "prepare");
	txn_check(t, sqlite3_prepare_v2(t->db,
	    "INSERT INTO events (did, type, event, sequenced_at) "
	    "VALUES (?1, 'commit', ?2, ?3)", -1, &t->event, NULL), "prepare");
	randombytes_buf(t->blob, sizeof(t->blob));
}

static void
txn_close(struct txn *t)
{
	sqlite3_finalize(t->block);
	sqlite3_finalize(t->record);
	sqlite3_finalize(t->root);
	sqlite3_finalize(t->event);
	sqlite3_close(t->db);
}

/* The rows of one commit (inside an open transaction). */
static void
txn_commit_rows(struct txn *t)
{
	static const char did[] = "did:plc:benchbenchbenchbenchbenc";
	static const char now[] = "2026-01-01T00:00:00.000Z";
	static const int lens[BLOCKS] = { RECORD_LEN, NODE_LEN, NODE_LEN,
	    NODE_LEN, NODE_LEN, COMMIT_LEN };
	char cid[80], rev[16];
	uint8_t digest[32];
	uint64_t n = t->n++;
	int i;

	snprintf(rev, sizeof(rev), "3m%011llu", (unsigned long long)n);
	for (i = 0; i < BLOCKS; i++) {
		/* A distinct, random-looking CID per block. */
		crypto_generichash(digest, sizeof(digest), (const uint8_t *)
		    &n, sizeof(n), (const uint8_t *)&i, sizeof(i));
		snprintf(cid, sizeof(cid), "bafyrei%02x%02x%02x%02x%02x%02x"
		    "%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x", digest[0],
		    digest[1], digest[2], digest[3], digest[4], digest[5],
		    digest[6], digest[7], digest[8], digest[9], digest[10],
		    digest[11], digest[12], digest[13], digest[14], digest[15]);
		sqlite3_bind_text(t->block, 1, did, -1, SQLITE_STATIC);
		sqlite3_bind_text(t->block, 2, cid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(t->block, 3, rev, -1, SQLITE_STATIC);
		sqlite3_bind_int(t->block, 4, lens[i]);
		sqlite3_bind_blob(t->block, 5, t->blob + i * 100, lens[i],
		    SQLITE_STATIC);
		txn_step(t, t->block, "insert block");
	}
	sqlite3_bind_text(t->record, 2, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->record, 3, rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->record, 4, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->record, 5, rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->record, 6, now, -1, SQLITE_STATIC);
	txn_step(t, t->record, "insert record");
	sqlite3_bind_text(t->root, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->root, 2, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->root, 3, rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->root, 4, now, -1, SQLITE_STATIC);
	txn_step(t, t->root, "update root");
	sqlite3_bind_text(t->event, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_blob(t->event, 2, t->blob, EVENT_LEN, SQLITE_STATIC);
	sqlite3_bind_text(t->event, 3, now, -1, SQLITE_STATIC);
	txn_step(t, t->event, "insert event");
}

struct txn_arg {
	struct txn	*t;
	int		 group;
};

static void
op_txn(void *p)
{
	struct txn_arg *a = p;
	int i;

	txn_exec(a->t, "BEGIN IMMEDIATE");
	for (i = 0; i < a->group; i++)
		txn_commit_rows(a->t);
	txn_exec(a->t, "COMMIT");
}

static void
usage(void)
{
	fprintf(stderr, "usage: micro [-j] [-d dir] [-t seconds]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sign_arg sa;
	struct hash_arg ha;
	struct txn t;
	struct txn_arg ta;
	struct dpop_arg da;
	const char *dir = ".";
	char path[4096], side[4200];
	double sign, hash, txn1, txng, txn_normal, cpu, serial, grouped, dpop;
	char *end;
	bool json = false;
	int ch, fd;

	while ((ch = getopt(argc, argv, "jd:t:")) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 'd':
			dir = optarg;
			break;
		case 't':
			errno = 0;
			budget = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || budget <= 0 ||
			    budget > 60)
				usage();
			break;
		default:
			usage();
		}
	}
	if (key_init() != PDS_OK)
		die("key_init", "failed");

	memset(&sa, 0, sizeof(sa));
	if (key_generate(&sa.key, KEY_K256) != PDS_OK)
		die("key_generate", "failed");
	randombytes_buf(sa.digest, sizeof(sa.digest));
	sign = time_rounds(op_sign, &sa, 50);
	key_free(sa.key);

	randombytes_buf(ha.block, sizeof(ha.block));
	hash = time_rounds(op_hash, &ha, 1000);

	dpop_make(&da);
	dpop = time_rounds(op_dpop, &da, 20);

	if ((size_t)snprintf(path, sizeof(path), "%s/micro-XXXXXX", dir) >=
	    sizeof(path))
		die(dir, "path too long");
	if ((fd = mkstemp(path)) == -1)
		die(path, strerror(errno));
	close(fd);
	unlink(path);
	txn_open(&t, path);
	ta.t = &t;
	ta.group = 1;
	op_txn(&ta);			/* warm the page cache */
	txn1 = time_rounds(op_txn, &ta, 5);
	ta.group = GROUP;
	txng = time_rounds(op_txn, &ta, 1) / GROUP;
	txn_exec(&t, "PRAGMA synchronous=NORMAL");
	ta.group = 1;
	txn_normal = time_rounds(op_txn, &ta, 5);
	txn_close(&t);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);

	cpu = sign + BLOCKS * hash;
	serial = 1.0 / (cpu + txn1);
	grouped = 1.0 / (cpu + txng);
	if (json) {
		printf("{\"sign_us\":%.3f,\"sha256_1k_us\":%.3f,"
		    "\"txn_full_us\":%.3f,\"txn_full_grouped_us\":%.3f,"
		    "\"txn_normal_us\":%.3f,\"blocks_per_commit\":%d,"
		    "\"group\":%d,\"commits_per_s_serial\":%.0f,"
		    "\"commits_per_s_grouped\":%.0f,"
		    "\"commits_per_s_cpu_only\":%.0f,"
		    "\"dpop_verify_us\":%.3f}\n",
		    sign * 1e6, hash * 1e6, txn1 * 1e6, txng * 1e6,
		    txn_normal * 1e6, BLOCKS, GROUP, serial, grouped,
		    1.0 / cpu, dpop * 1e6);
		return 0;
	}
	printf("one secp256k1 signature          %10.1f us\n", sign * 1e6);
	printf("one SHA-256 of 1 KiB             %10.2f us\n", hash * 1e6);
	printf("one commit's rows, own txn, FULL %10.1f us\n", txn1 * 1e6);
	printf("one commit's rows, %d per txn    %10.1f us\n", GROUP,
	    txng * 1e6);
	printf("one commit's rows, own txn, NORMAL %8.1f us\n",
	    txn_normal * 1e6);
	printf("commits/s on one core, one fsync each      %8.0f\n", serial);
	printf("commits/s on one core, group commit of %d  %8.0f\n", GROUP,
	    grouped);
	printf("commits/s on one core, signing and hashing only %8.0f\n",
	    1.0 / cpu);
	printf("one DPoP proof, dpop_verify()    %10.1f us\n", dpop * 1e6);
	return 0;
}
