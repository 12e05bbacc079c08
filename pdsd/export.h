/*
 * export and import: the coop's exit plan as commands (pdsctl export,
 * pdsctl import).  See export.c and import.c.
 *
 * An export directory holds one directory per member, named by DID:
 *   account.json      {did, handle, email, createdAt, status}
 *   repo.car          the whole repository (as sync.getRepo)
 *   blobs/<cid>       every blob the repository references
 *   preferences.json  {"preferences": [...]} (app.bsky preferences)
 *   did.json          the DID document
 *   plc-audit.json    the PLC directory's audit log of the DID
 *   secrets.json      only when asked for (server to server): the
 *                     password hash, so members keep their passwords
 *   signing-key.json  only when asked for: the repo's signing key
 *                     (exportkey.h), so the signed head moves as it is
 *   manifest.json     format "pds-export": every file above with its
 *                     size and SHA-256 ("secret": true on the two
 *                     above), and "complete": true; written last, so
 *                     an account without it is unfinished
 * Every file is mode 0600.  No server secret is ever written.  An
 * import of an export with signing keys keeps each account's key and
 * head commit, and points the DID here with the least PLC operation
 * (none when it already names this server); without keys it gives each
 * account a new signing key, signs the repo again and re-points the DID
 * with this server's PLC rotation key.
 */
#ifndef PDSD_EXPORT_H
#define PDSD_EXPORT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

struct admin_call;

#define EXPORT_FORMAT		"pds-export"
#define EXPORT_MANIFEST		"manifest.json"

/*
 * Admin socket handlers (streams of progress events):
 *   "export"  {dest, accounts?: [DID, handle or email], all?, secrets?}
 *   "import"  {src}
 */
int	admin_export_start(struct admin_call *);
int	admin_import_start(struct admin_call *);

/*
 * A directory DEST (absolute) that the requesting user may have pdsd
 * write into: root and pdsd's user may name any, others one they own.
 * Opens it (*fd) or fills call's error and returns non-zero.
 */
int	export_open_dir(struct admin_call *, const char *dest, int *fd);

#endif
