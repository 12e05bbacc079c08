/*
 * store_schema: the numbered migrations.  Migration N (1-based) is
 * store_migrations[N - 1]; each runs in its own transaction at start-up
 * and is never edited once released: a change is a new entry at the end.
 *
 * Conventions: STRICT tables; timestamps ISO 8601 text (see store.h);
 * CIDs base32 text; booleans INTEGER 0/1; everything that belongs to an
 * account references accounts(did) ON DELETE CASCADE, except the event
 * log (the firehose keeps an account's #account "deleted" event) and
 * invite codes (their history outlives accounts).
 */
#include <stddef.h>

#include "store_internal.h"

const char *const store_migrations[] = {
/* 1: the initial schema for the whole PDS */
"CREATE TABLE accounts ("
"  did			TEXT PRIMARY KEY,"
"  handle		TEXT COLLATE NOCASE UNIQUE,"	/* NULL: handle.invalid */
"  email		TEXT COLLATE NOCASE UNIQUE,"
"  password_hash	TEXT,"		/* crypto_pwhash_str (Argon2id) */
	/*
	 * The account's secp256k1 private key, 32 raw bytes
	 * (signing_key_format 0).  The database file is mode 0600 and
	 * holds password hashes too; a later format may seal the key with
	 * a server secret without a schema change.
	 */
"  signing_key		BLOB NOT NULL,"
"  signing_key_format	INTEGER NOT NULL DEFAULT 0,"
"  created_at		TEXT NOT NULL,"
"  status		TEXT NOT NULL DEFAULT 'active' CHECK (status IN"
"			  ('active','deactivated','takendown','deleted')),"
"  deactivated_at	TEXT,"
"  delete_after		TEXT,"
"  takedown_ref		TEXT,"
"  email_confirmed_at	TEXT,"
"  invites_disabled	INTEGER NOT NULL DEFAULT 0"
") STRICT;"
"CREATE INDEX accounts_created ON accounts (created_at, did);"

"CREATE TABLE refresh_tokens ("
"  id			TEXT PRIMARY KEY,"	/* the JWT's jti */
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  expires_at		TEXT NOT NULL,"
"  app_password_name	TEXT,"
"  next_id		TEXT"		/* set when rotated */
") STRICT;"
"CREATE INDEX refresh_tokens_did ON refresh_tokens (did);"

"CREATE TABLE app_passwords ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  name			TEXT NOT NULL,"
"  password_hash	TEXT NOT NULL,"
"  privileged		INTEGER NOT NULL DEFAULT 0,"
"  created_at		TEXT NOT NULL,"
"  PRIMARY KEY (did, name)"
") STRICT;"

"CREATE TABLE invite_codes ("
"  code			TEXT PRIMARY KEY,"
"  available_uses	INTEGER NOT NULL,"
"  disabled		INTEGER NOT NULL DEFAULT 0,"
"  for_account		TEXT NOT NULL,"	/* a DID or "admin" */
"  created_by		TEXT NOT NULL,"
"  created_at		TEXT NOT NULL"
") STRICT;"
"CREATE INDEX invite_codes_for ON invite_codes (for_account);"
"CREATE TABLE invite_code_uses ("
"  code			TEXT NOT NULL REFERENCES invite_codes (code)"
"			  ON DELETE CASCADE,"
"  used_by		TEXT NOT NULL,"
"  used_at		TEXT NOT NULL,"
"  PRIMARY KEY (code, used_by)"
") STRICT;"
"CREATE INDEX invite_code_uses_by ON invite_code_uses (used_by);"

"CREATE TABLE repo_root ("
"  did			TEXT PRIMARY KEY REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  cid			TEXT NOT NULL,"		/* the head commit */
"  rev			TEXT NOT NULL,"
"  indexed_at		TEXT NOT NULL"
") STRICT;"

"CREATE TABLE repo_blocks ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  cid			TEXT NOT NULL,"
"  rev			TEXT NOT NULL,"	/* the rev that first wrote it */
"  size			INTEGER NOT NULL,"
"  content		BLOB NOT NULL,"
"  PRIMARY KEY (did, cid)"
") STRICT;"
"CREATE INDEX repo_blocks_rev ON repo_blocks (did, rev);"

"CREATE TABLE records ("
"  uri			TEXT PRIMARY KEY,"	/* at://did/collection/rkey */
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  collection		TEXT NOT NULL,"
"  rkey			TEXT NOT NULL,"
"  cid			TEXT NOT NULL,"
"  rev			TEXT NOT NULL,"
"  indexed_at		TEXT NOT NULL,"
"  takedown_ref		TEXT,"
"  UNIQUE (did, collection, rkey)"
") STRICT;"
"CREATE INDEX records_cid ON records (did, cid);"
"CREATE INDEX records_rev ON records (did, rev);"

"CREATE TABLE blobs ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  cid			TEXT NOT NULL,"
"  mime_type		TEXT NOT NULL,"
"  size			INTEGER NOT NULL,"
"  temp_key		TEXT,"	/* set while uploaded but unreferenced */
"  width		INTEGER,"
"  height		INTEGER,"
"  created_at		TEXT NOT NULL,"
"  takedown_ref		TEXT,"
"  PRIMARY KEY (did, cid)"
") STRICT;"
"CREATE INDEX blobs_temp ON blobs (temp_key) WHERE temp_key IS NOT NULL;"

"CREATE TABLE record_blobs ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  blob_cid		TEXT NOT NULL,"
"  record_uri		TEXT NOT NULL,"
"  PRIMARY KEY (did, blob_cid, record_uri)"
") STRICT;"
"CREATE INDEX record_blobs_uri ON record_blobs (record_uri);"

"CREATE TABLE backlinks ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  uri			TEXT NOT NULL,"
"  path			TEXT NOT NULL,"
"  link_to		TEXT NOT NULL,"
"  PRIMARY KEY (uri, path)"
") STRICT;"
"CREATE INDEX backlinks_link ON backlinks (did, path, link_to);"

	/* The firehose log; seq must stay AUTOINCREMENT (never reused). */
"CREATE TABLE events ("
"  seq			INTEGER PRIMARY KEY AUTOINCREMENT,"
"  did			TEXT NOT NULL,"
"  type			TEXT NOT NULL CHECK (type IN"
"			  ('commit','sync','identity','account')),"
"  event		BLOB NOT NULL,"		/* the DAG-CBOR body */
"  invalidated		INTEGER NOT NULL DEFAULT 0,"
"  sequenced_at		TEXT NOT NULL"
") STRICT;"
"CREATE INDEX events_did ON events (did);"
"CREATE INDEX events_time ON events (sequenced_at);"

"CREATE TABLE preferences ("
"  id			INTEGER PRIMARY KEY,"
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  name			TEXT NOT NULL,"		/* the preference's $type */
"  value_json		TEXT NOT NULL"
") STRICT;"
"CREATE INDEX preferences_did ON preferences (did);"

"CREATE TABLE email_tokens ("
"  purpose		TEXT NOT NULL CHECK (purpose IN ('confirm_email',"
"			  'update_email','reset_password','delete_account',"
"			  'plc_operation')),"
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  token		TEXT NOT NULL,"
"  requested_at		TEXT NOT NULL,"
"  PRIMARY KEY (purpose, did),"
"  UNIQUE (purpose, token)"
") STRICT;"

	/* reserveSigningKey: keys made before their account exists */
"CREATE TABLE reserved_keys ("
"  key_did		TEXT PRIMARY KEY,"	/* did:key of the key */
"  did			TEXT,"			/* the account, if named */
"  private_key		BLOB NOT NULL,"
"  created_at		TEXT NOT NULL"
") STRICT;"
"CREATE INDEX reserved_keys_did ON reserved_keys (did);"

"CREATE TABLE audit_log ("
"  id			INTEGER PRIMARY KEY,"
"  at			TEXT NOT NULL,"
"  actor		TEXT NOT NULL,"	/* "uid:1000(alice)", "xrpc:admin" */
"  action		TEXT NOT NULL,"
"  subject		TEXT,"
"  reason		TEXT,"
"  detail		TEXT"		/* JSON */
") STRICT;"
"CREATE INDEX audit_log_at ON audit_log (at);"

"CREATE TABLE did_cache ("
"  did			TEXT PRIMARY KEY,"
"  doc			TEXT NOT NULL,"		/* the DID document JSON */
"  updated_at		INTEGER NOT NULL"	/* unix milliseconds */
") STRICT;"

"CREATE TABLE login_attempts ("
"  id			INTEGER PRIMARY KEY,"
"  key			TEXT NOT NULL,"		/* identifier or address */
"  at			INTEGER NOT NULL,"	/* unix milliseconds */
"  success		INTEGER NOT NULL"
") STRICT;"
"CREATE INDEX login_attempts_key ON login_attempts (key, at);"

	/* small server-wide values (e.g. crawler notification times) */
"CREATE TABLE server_state ("
"  key			TEXT PRIMARY KEY,"
"  value			ANY"
") STRICT;",

/* 2: account migrations in and out (pdsd/migration.c) */
"CREATE TABLE account_migrations ("
"  did			TEXT PRIMARY KEY REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  direction		TEXT NOT NULL CHECK (direction IN ('in','out')),"
	/* in: created, imported, activated; out: signed, deactivated */
"  state		TEXT NOT NULL,"
"  started_at		TEXT NOT NULL,"
"  updated_at		TEXT NOT NULL,"
"  records_expected	INTEGER,"	/* records in the imported CAR */
"  blocks_imported	INTEGER,"
"  source_commit	TEXT,"		/* the imported head, as sent */
"  source_rev		TEXT,"
"  peer			TEXT"		/* the other PDS's endpoint */
") STRICT;",

/* 3: event bodies may be stored compressed (pdsd/store_events.c) */
"ALTER TABLE events ADD COLUMN encoding INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 0: `event' is the DAG-CBOR body; 1: a zlib stream of it; 2: a
	 * zlib stream of the body without its seq entry, which the row's
	 * seq restores (store_events.h)
	 */

/* 4: the OAuth authorization server's state (pdsd/store_oauth.c) */
	/* times here are unix seconds */
"CREATE TABLE oauth_devices ("
"  id			TEXT PRIMARY KEY,"	/* dev-<32 hex> */
"  session_id		TEXT NOT NULL,"		/* ses-<32 hex> */
"  user_agent		TEXT,"
"  ip			TEXT,"
"  last_seen		INTEGER NOT NULL"
") STRICT;"
"CREATE INDEX oauth_devices_last_seen ON oauth_devices (last_seen);"

	/* pushed authorization requests, until their code is exchanged */
"CREATE TABLE oauth_requests ("
"  id			TEXT PRIMARY KEY,"	/* req-<32 hex> */
"  client_id		TEXT NOT NULL,"
"  client_auth		TEXT NOT NULL,"		/* JSON */
"  params		TEXT NOT NULL,"		/* JSON */
"  device_id		TEXT REFERENCES oauth_devices (id)"
"			  ON DELETE SET NULL,"
"  did			TEXT REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"	/* set at sign-in */
"  code			TEXT UNIQUE,"		/* cod-<64 hex> */
"  expires_at		INTEGER NOT NULL"
") STRICT;"
"CREATE INDEX oauth_requests_expires ON oauth_requests (expires_at);"

	/* the accounts signed in on a device */
"CREATE TABLE oauth_account_devices ("
"  device_id		TEXT NOT NULL REFERENCES oauth_devices (id)"
"			  ON DELETE CASCADE,"
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  created_at		INTEGER NOT NULL,"
"  updated_at		INTEGER NOT NULL,"	/* last authentication */
"  PRIMARY KEY (device_id, did)"
") STRICT;"
"CREATE INDEX oauth_account_devices_did ON oauth_account_devices (did);"

	/* the scopes an account granted a client, so consent is asked once */
"CREATE TABLE oauth_authorized_clients ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  client_id		TEXT NOT NULL,"
"  scope		TEXT NOT NULL,"
"  created_at		INTEGER NOT NULL,"
"  updated_at		INTEGER NOT NULL,"
"  PRIMARY KEY (did, client_id)"
") STRICT;"

	/* one row per grant: its current access and refresh tokens */
"CREATE TABLE oauth_families ("
"  id			INTEGER PRIMARY KEY,"
"  token_id		TEXT NOT NULL UNIQUE,"	/* tok-<32 hex> */
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  client_id		TEXT NOT NULL,"
"  client_auth		TEXT NOT NULL,"		/* JSON */
"  device_id		TEXT REFERENCES oauth_devices (id)"
"			  ON DELETE SET NULL,"
"  params		TEXT NOT NULL,"		/* JSON */
"  code			TEXT UNIQUE,"		/* the code it came from */
"  refresh_token	TEXT UNIQUE,"		/* ref-<64 hex> */
"  scope		TEXT NOT NULL,"
"  dpop_jkt		TEXT,"
"  created_at		INTEGER NOT NULL,"	/* the session's start */
"  updated_at		INTEGER NOT NULL,"	/* the last refresh */
"  expires_at		INTEGER NOT NULL,"	/* the access token's */
"  session_expires_at	INTEGER NOT NULL"	/* no refresh after */
") STRICT;"
"CREATE INDEX oauth_families_did ON oauth_families (did);"
"CREATE INDEX oauth_families_client ON oauth_families (client_id);"
"CREATE INDEX oauth_families_session_expires ON oauth_families"
"  (session_expires_at);"

	/* rotated-out refresh tokens: presenting one again ends the family */
"CREATE TABLE oauth_used_refresh_tokens ("
"  refresh_token	TEXT PRIMARY KEY,"
"  family_id		INTEGER NOT NULL REFERENCES oauth_families (id)"
"			  ON DELETE CASCADE"
") STRICT;"
"CREATE INDEX oauth_used_refresh_tokens_family ON"
"  oauth_used_refresh_tokens (family_id);"

	/* DPoP and client assertion jti, PKCE challenges: seen once */
"CREATE TABLE oauth_replay ("
"  namespace		TEXT NOT NULL,"
"  key			TEXT NOT NULL,"
"  expires_at		INTEGER NOT NULL,"
"  PRIMARY KEY (namespace, key)"
") STRICT, WITHOUT ROWID;"
"CREATE INDEX oauth_replay_expires ON oauth_replay (expires_at);",

/* 5: reserved keys are pruned and capped by age (pdsd/store_keys.c) */
"CREATE INDEX reserved_keys_created ON reserved_keys (created_at);",

/*
 * 6: email two-factor sign-in: the account's setting, and the sign-in
 * codes among the email tokens (a CHECK cannot be altered: the table
 * is copied into a new one)
 */
"ALTER TABLE accounts ADD COLUMN email_auth_factor INTEGER NOT NULL "
"  DEFAULT 0;"
"CREATE TABLE email_tokens_v6 ("
"  purpose		TEXT NOT NULL CHECK (purpose IN ('confirm_email',"
"			  'update_email','reset_password','delete_account',"
"			  'plc_operation','2fa_code')),"
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  token		TEXT NOT NULL,"
"  requested_at		TEXT NOT NULL,"
"  PRIMARY KEY (purpose, did),"
"  UNIQUE (purpose, token)"
") STRICT;"
"INSERT INTO email_tokens_v6 (purpose, did, token, requested_at)"
"  SELECT purpose, did, token, requested_at FROM email_tokens;"
"DROP TABLE email_tokens;"
"ALTER TABLE email_tokens_v6 RENAME TO email_tokens;",
/* 7: what governance reports need (pdsd/report.c, store_report.c) */
	/* per UTC day: traffic, and storage as sampled */
"CREATE TABLE daily_stats ("
"  day			TEXT PRIMARY KEY,"	/* YYYY-MM-DD */
"  requests		INTEGER NOT NULL DEFAULT 0,"
"  errors		INTEGER NOT NULL DEFAULT 0,"
"  peak_rpm		INTEGER NOT NULL DEFAULT 0,"	/* busiest minute */
"  accounts		INTEGER,"
"  db_bytes		INTEGER,"
"  blob_bytes		INTEGER"
") STRICT;"
	/* every start of pdsd, seen alive every minute, and its stop */
"CREATE TABLE server_runs ("
"  id			INTEGER PRIMARY KEY,"
"  started_at		TEXT NOT NULL,"
"  last_seen_at		TEXT NOT NULL,"
"  stopped_at		TEXT,"		/* NULL: running, or it died */
"  version		TEXT"
") STRICT;"
"CREATE INDEX server_runs_started ON server_runs (started_at);"
"CREATE INDEX records_indexed ON records (indexed_at);",
/* 8: resolved lexicon documents and failures (pdsd/lexicon_resolve.c) */
"CREATE TABLE lexicons ("
"  nsid			TEXT PRIMARY KEY,"
"  uri			TEXT,"			/* at://did/...schema/nsid */
"  cid			TEXT,"			/* the record's */
"  doc			TEXT,"			/* JSON; NULL: never resolved */
"  error		TEXT,"			/* the last failure, or NULL */
"  created_at		INTEGER NOT NULL,"
"  updated_at		INTEGER NOT NULL,"	/* the last attempt */
"  succeeded_at		INTEGER"		/* the last success */
") STRICT;"
"CREATE INDEX lexicons_updated ON lexicons (updated_at);",
/*
 * 9: repo_blocks clustered by (did, cid): a repo's blocks are contiguous
 * (getRepo reads one range, not a row lookup per block) and the table is
 * its own primary-key index.  Copied in key order, so the new b-tree is
 * built by appends.
 */
"CREATE TABLE repo_blocks_v9 ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  cid			TEXT NOT NULL,"
"  rev			TEXT NOT NULL,"	/* the rev that first wrote it */
"  size			INTEGER NOT NULL,"
"  content		BLOB NOT NULL,"
"  PRIMARY KEY (did, cid)"
") STRICT, WITHOUT ROWID;"
"INSERT INTO repo_blocks_v9 (did, cid, rev, size, content)"
"  SELECT did, cid, rev, size, content FROM repo_blocks ORDER BY did, cid;"
"DROP TABLE repo_blocks;"
"ALTER TABLE repo_blocks_v9 RENAME TO repo_blocks;"
"CREATE INDEX repo_blocks_rev ON repo_blocks (did, rev);",
/*
 * 10: listRecords reads its page from this index alone: the rkeys of one
 * collection are next to each other in it, where the table's rows are in
 * the order they were written, one page each for a member whose writes
 * were interleaved with others'.  About 0.14 MB per 1,000 records.
 */
("CREATE INDEX records_list ON records (did, collection, rkey, cid, "
"  takedown_ref);"),
/*
 * 11: records clustered by (did, collection, rkey), which is how every
 * read finds them (getRecord, listRecords' pages, a write's upsert).  The
 * table is its own primary-key index: the uri column and its index, the
 * UNIQUE index and records_list go (the uri is at://did/collection/rkey,
 * built where it is needed).  So does records_indexed: in a table
 * without rowids it would carry the whole key, and the governance
 * report it served counts a month of records as fast by a scan (0.3 s
 * for a million).  Three b-trees to update per record where there were
 * seven, and 0.37 MB less per 1,000 records.
 */
"CREATE TABLE records_v11 ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  collection		TEXT NOT NULL,"
"  rkey			TEXT NOT NULL,"
"  cid			TEXT NOT NULL,"
"  rev			TEXT NOT NULL,"
"  indexed_at		TEXT NOT NULL,"
"  takedown_ref		TEXT,"
"  PRIMARY KEY (did, collection, rkey)"
") STRICT, WITHOUT ROWID;"
"INSERT INTO records_v11 (did, collection, rkey, cid, rev, indexed_at, "
"  takedown_ref) SELECT did, collection, rkey, cid, rev, indexed_at, "
"  takedown_ref FROM records ORDER BY did, collection, rkey;"
"DROP TABLE records;"
"ALTER TABLE records_v11 RENAME TO records;"
"CREATE INDEX records_cid ON records (did, cid);"
"CREATE INDEX records_rev ON records (did, rev);",
/*
 * 12: no index of repo_blocks by rev.  Every commit updated it (new
 * blocks in, replaced MST nodes out), for getRepo's `since' alone, which
 * reads the account's range of the table instead: 26 ms for the 26,000
 * blocks of a 20,000-record repo, less than the whole repo's CAR costs
 * to build.  About 0.17 MB per 1,000 records.
 */
"DROP INDEX repo_blocks_rev;",
/*
 * 13: a record block counts the records that hold it (members can write
 * the same bytes twice), so that a write that replaces or deletes one
 * knows whether the block goes without asking records_cid, an index in
 * CID order that took every write two random pages.  Triggers keep the
 * count on every path that writes records: commits, imports, account
 * deletion.  A block is written before the records that hold it.
 */
"ALTER TABLE repo_blocks ADD COLUMN refs INTEGER NOT NULL DEFAULT 0;"
"UPDATE repo_blocks SET refs = r.n FROM (SELECT did, cid, count(*) AS n "
"  FROM records GROUP BY did, cid) AS r "
"  WHERE repo_blocks.did = r.did AND repo_blocks.cid = r.cid;"
"DROP INDEX records_cid;"
"CREATE TRIGGER records_ref_in AFTER INSERT ON records BEGIN"
"  UPDATE repo_blocks SET refs = refs + 1"
"    WHERE did = NEW.did AND cid = NEW.cid;"
"END;"
"CREATE TRIGGER records_ref_out AFTER DELETE ON records BEGIN"
"  UPDATE repo_blocks SET refs = refs - 1"
"    WHERE did = OLD.did AND cid = OLD.cid;"
"END;"
"CREATE TRIGGER records_ref_move AFTER UPDATE OF cid ON records BEGIN"
"  UPDATE repo_blocks SET refs = refs + 1"
"    WHERE did = NEW.did AND cid = NEW.cid;"
"  UPDATE repo_blocks SET refs = refs - 1"
"    WHERE did = OLD.did AND cid = OLD.cid;"
"END;",
/*
 * 14: a record's bytes live in its records row, not in repo_blocks,
 * which keeps the tree's nodes and the commits.  listRecords reads a
 * page as adjacent rows where it looked up each record's block by
 * (did, CID) in a table ordered by CID: 12 us of SQL for a 50-record
 * page on the 10,000-member database where the lookups took 81 to 96.
 * A write inserts one row fewer in CID order, and the count of holders
 * (13) goes: a record's bytes go with its row.  Two records with the
 * same bytes each keep a copy (about 4% of records).  Both tables are
 * rebuilt in key order, so neither is left with half-empty pages.
 */
"CREATE TABLE records_v14 ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  collection		TEXT NOT NULL,"
"  rkey			TEXT NOT NULL,"
"  cid			TEXT NOT NULL,"
"  rev			TEXT NOT NULL,"
"  indexed_at		TEXT NOT NULL,"
"  takedown_ref		TEXT,"
"  content		BLOB,"		/* NULL: the block is missing */
"  PRIMARY KEY (did, collection, rkey)"
") STRICT, WITHOUT ROWID;"
"INSERT INTO records_v14 (did, collection, rkey, cid, rev, indexed_at, "
"  takedown_ref, content) SELECT r.did, r.collection, r.rkey, r.cid, "
"  r.rev, r.indexed_at, r.takedown_ref, b.content FROM records r "
"  LEFT JOIN repo_blocks b ON b.did = r.did AND b.cid = r.cid "
"  ORDER BY r.did, r.collection, r.rkey;"
"DROP TABLE records;"
"ALTER TABLE records_v14 RENAME TO records;"
"CREATE INDEX records_rev ON records (did, rev);"
"CREATE TABLE repo_blocks_v14 ("
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  cid			TEXT NOT NULL,"
"  rev			TEXT NOT NULL,"	/* the rev that first wrote it */
"  size			INTEGER NOT NULL,"
"  content		BLOB NOT NULL,"
"  PRIMARY KEY (did, cid)"
") STRICT, WITHOUT ROWID;"
"INSERT INTO repo_blocks_v14 (did, cid, rev, size, content)"
"  SELECT did, cid, rev, size, content FROM repo_blocks WHERE refs <= 0"
"  ORDER BY did, cid;"
"DROP TABLE repo_blocks;"
"ALTER TABLE repo_blocks_v14 RENAME TO repo_blocks;",
/*
 * 15: new tree nodes and commits go first to repo_blocks_recent, in the
 * order they were written; the repo writer moves those that are still
 * in the tree to repo_blocks once they are no longer among the newest
 * (store_repo_settle()).  Most nodes a commit writes replace one that a
 * recent commit wrote (the path from the root to the new key), so the
 * insert and the delete both land on the few pages at the end of a
 * small table instead of at two random places in (did, CID) order.
 */
"CREATE TABLE repo_blocks_recent ("
"  id			INTEGER PRIMARY KEY,"
"  did			TEXT NOT NULL REFERENCES accounts (did)"
"			  ON DELETE CASCADE,"
"  cid			TEXT NOT NULL,"
"  rev			TEXT NOT NULL,"
"  size			INTEGER NOT NULL,"
"  content		BLOB NOT NULL"
") STRICT;"
"CREATE UNIQUE INDEX repo_blocks_recent_cid ON repo_blocks_recent "
"  (did, cid);",
};

const size_t store_nmigrations =
    sizeof(store_migrations) / sizeof(store_migrations[0]);
