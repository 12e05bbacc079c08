/*
 * t_store.h: databases at an older schema, for the upgrade tests.
 */
#ifndef PDS_T_STORE_H
#define PDS_T_STORE_H

#include <stdbool.h>
#include <stdio.h>

#include <sqlite3.h>

#include "../../pdsd/store_internal.h"

/*
 * Begin a transaction on db and bring it to schema `version' the way an
 * older pdsd left it: its schema_version row, and the first `version'
 * migrations.  The caller adds its rows and commits.  false if the
 * project has no migration past `version' (nothing to upgrade) or a
 * statement fails.
 */
static inline bool
t_schema_at(sqlite3 *db, size_t version)
{
	char	 sql[160];
	size_t	 m;

	if (store_nmigrations <= version)
		return false;
	(void)snprintf(sql, sizeof(sql), "BEGIN; CREATE TABLE schema_version "
	    "(version INTEGER NOT NULL); INSERT INTO schema_version (version) "
	    "VALUES (%zu);", version);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return false;
	for (m = 0; m < version; m++)
		if (sqlite3_exec(db, store_migrations[m], NULL, NULL, NULL) !=
		    SQLITE_OK)
			return false;
	return true;
}

#endif
