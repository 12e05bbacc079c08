/*
 * store_vfs: SQLite's files through a thin layer over the default (unix)
 * VFS that gathers the write-ahead log's appends into few system calls.
 *
 * SQLite writes each frame of the log with two pwrite() calls, its
 * 24-byte header and then the page (wal.c, walWriteOneFrame()): a
 * createRecord adds about 30 frames, so 60 calls, each with the kernel's
 * fixed cost (the inode lock, the file's times, the page cache lookup),
 * on the writer thread that all commits wait for.  Here the appends to a
 * "-wal" file go into a buffer, and one pwrite() writes a run of them.
 *
 * What must never happen is that another connection, or this one, sees a
 * commit whose frames are still in the buffer, or that a COMMIT returns
 * before its frames are in the kernel (pdsd's syncer fdatasyncs the log
 * on its own descriptor afterwards, store_wal.c).  From SQLite's wal.c
 * (walFrames(), walIndexWriteHdr(), walIndexTryHdr()):
 *
 *   - a transaction's frames are written under the log's write lock, and
 *     nobody reads frames past the wal-index header's mxFrame;
 *   - the commit is published by walIndexWriteHdr(): it copies the new
 *     header into the second slot of the wal-index, calls xShmBarrier()
 *     on the main database file, then copies it into the first slot.  A
 *     reader (walIndexTryHdr()) takes a header only when both slots
 *     match, so it cannot use the new one before that barrier returns;
 *     a checkpointer copies only frames that some header published;
 *   - the last frame of a commit has a non-zero "database size" in its
 *     header (bytes 4-7, nTruncate), and its page is the last frame
 *     write of the commit (with synchronous=FULL on a device without
 *     powersafe overwrite, copies of it pad to a sector: each carries the
 *     same mark).
 *
 * So the buffer is written out (flush):
 *   - after the page that follows a commit frame's header: the COMMIT's
 *     frames reach the kernel inside the COMMIT, and a write error is the
 *     COMMIT's error, as without this layer;
 *   - in the main database file's xShmBarrier(), before the header can
 *     be published, as a second guard, and in its xShmLock() and
 *     xShmUnmap();
 *   - before any other operation on the log file (xRead, xSync,
 *     xTruncate, xFileSize, xFileControl, the lock calls, xClose), before
 *     a write that does not continue the buffered run, and when full.
 * xShmBarrier() cannot fail; should its flush fail, the error is kept
 * and returned by the log file's next operation.
 *
 * Writes that do not continue the run within a transaction are
 * overwrites of its own earlier frames (wal.c overwrites a page written
 * by the same transaction, and rewrites frame headers' checksums after
 * that): those go straight to the file, after the buffer, as before.
 * The layer finds the main database file of the log's connection by the
 * name SQLite gives both (sqlite3_filename_database() of the log's name
 * is the database file's name pointer, one per connection).
 *
 * A crash of pdsd loses only buffered frames of a transaction that had
 * not committed: nothing a COMMIT returned for.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_internal.h"

/*
 * The buffer, allocated at a connection's first write to its log.  The
 * unix VFS writes at most 128 KiB less a byte per call (seekAndWrite()
 * masks the length with 0x1ffff), so a run stays below that: 31 frames
 * of 4 KB pages (a createRecord adds about 30).
 */
#define BUF_SIZE	(126 * 1024)
/* A WAL frame header: page number, nTruncate, salts, checksums. */
#define FRAME_HDR	24
/* SQLite's wal.c: the write lock is the wal-index lock slot 0. */
#define WAL_WRITE_LOCK	0

struct vfile {
	sqlite3_file	 base;
	sqlite3_file	*real;
	/* The main database file: its name (the key) and its log. */
	const char	*name;
	struct vfile	*wal;
	struct vfile	*next;
	/* The log: its connection's database file, its pending run. */
	struct vfile	*db;
	bool		 is_wal;
	bool		 commit_page;	/* the next write is a commit's page */
	int		 err;		/* a flush failed where none could tell */
	unsigned char	*buf;
	size_t		 len;
	sqlite3_int64	 off;		/* where buf[0] goes */
	sqlite3_int64	 hw;		/* the end of this transaction's runs */
};

static sqlite3_vfs	*unix_vfs;
static sqlite3_vfs	 vfs;
static pthread_mutex_t	 dbs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct vfile	*dbs;

#define REAL(f)		(((struct vfile *)(f))->real)
#define RM(f)		(REAL(f)->pMethods)

static int
flush(struct vfile *f)
{
	int	 rc;

	if (f->len == 0)
		return SQLITE_OK;
	rc = RM(f)->xWrite(f->real, f->buf, (int)f->len, f->off);
	if (f->off + (sqlite3_int64)f->len > f->hw)
		f->hw = f->off + (sqlite3_int64)f->len;
	f->len = 0;
	f->commit_page = false;
	return rc;
}

/* Before any other use of the log: its pending run, or a kept error. */
static int
settle(struct vfile *f)
{
	int	 rc;

	if (!f->is_wal)
		return SQLITE_OK;
	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	rc = f->err;
	f->err = SQLITE_OK;
	return rc;
}

static void
db_flush_wal(sqlite3_file *pf)
{
	struct vfile	*f = (struct vfile *)pf;
	int		 rc;

	if (f->wal != NULL && (rc = flush(f->wal)) != SQLITE_OK &&
	    f->wal->err == SQLITE_OK)
		f->wal->err = rc;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A new run: this write, the first in the buffer. */
static int
run_start(struct vfile *f, const void *p, int n, sqlite3_int64 off)
{
	if (f->buf == NULL && (f->buf = malloc(BUF_SIZE)) == NULL)
		return RM(f)->xWrite(f->real, p, n, off);
	if ((size_t)n > BUF_SIZE)
		return RM(f)->xWrite(f->real, p, n, off);
	if (off == 0)
		f->hw = 0;
	memcpy(f->buf, p, (size_t)n);
	f->off = off;
	f->len = (size_t)n;
	if (n == FRAME_HDR && be32((const unsigned char *)p + 4) != 0)
		f->commit_page = true;
	return SQLITE_OK;
}

static int
x_write(sqlite3_file *pf, const void *p, int n, sqlite3_int64 off)
{
	struct vfile	*f = (struct vfile *)pf;
	bool		 commit;
	int		 rc;

	if (!f->is_wal)
		return RM(f)->xWrite(f->real, p, n, off);
	if (f->len == 0 || off != f->off + (sqlite3_int64)f->len) {
		/*
		 * Not the run's continuation: the run goes first.  A new
		 * one starts with the log's header, or with a frame header
		 * past this transaction's earlier runs; anything else is an
		 * overwrite of its own frames, written at once.
		 */
		if ((rc = settle(f)) != SQLITE_OK)
			return rc;
		if (off != 0 && (n != FRAME_HDR || off < f->hw))
			return RM(f)->xWrite(f->real, p, n, off);
		return run_start(f, p, n, off);
	}
	if ((size_t)n > BUF_SIZE - f->len) {
		/* Full: out with it; the commit's page alone, or a new run. */
		commit = f->commit_page;
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
		if (commit)
			return RM(f)->xWrite(f->real, p, n, off);
		return run_start(f, p, n, off);
	}
	memcpy(f->buf + f->len, p, (size_t)n);
	f->len += (size_t)n;
	if (f->commit_page)
		return flush(f);
	if (n == FRAME_HDR && be32((const unsigned char *)p + 4) != 0)
		f->commit_page = true;
	return SQLITE_OK;
}

static int
x_read(sqlite3_file *pf, void *p, int n, sqlite3_int64 off)
{
	int	 rc;

	if ((rc = settle((struct vfile *)pf)) != SQLITE_OK)
		return rc;
	return RM(pf)->xRead(REAL(pf), p, n, off);
}

static int
x_close(sqlite3_file *pf)
{
	struct vfile	*f = (struct vfile *)pf, **pp;
	int		 rc, rc2;

	rc = settle(f);
	if (f->is_wal) {
		if (f->db != NULL)
			f->db->wal = NULL;
	} else if (f->name != NULL) {
		pthread_mutex_lock(&dbs_mu);
		for (pp = &dbs; *pp != NULL; pp = &(*pp)->next)
			if (*pp == f) {
				*pp = f->next;
				break;
			}
		pthread_mutex_unlock(&dbs_mu);
		if (f->wal != NULL)
			f->wal->db = NULL;
	}
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
	rc2 = RM(f)->xClose(f->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int
x_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	struct vfile	*f = (struct vfile *)pf;
	int		 rc;

	if ((rc = settle(f)) != SQLITE_OK)
		return rc;
	if (f->hw > size)
		f->hw = size;
	return RM(f)->xTruncate(f->real, size);
}

static int
x_sync(sqlite3_file *pf, int flags)
{
	int	 rc;

	if ((rc = settle((struct vfile *)pf)) != SQLITE_OK)
		return rc;
	return RM(pf)->xSync(REAL(pf), flags);
}

static int
x_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	int	 rc;

	if ((rc = settle((struct vfile *)pf)) != SQLITE_OK)
		return rc;
	return RM(pf)->xFileSize(REAL(pf), size);
}

static int
x_lock(sqlite3_file *pf, int lock)
{
	int	 rc;

	if ((rc = settle((struct vfile *)pf)) != SQLITE_OK)
		return rc;
	return RM(pf)->xLock(REAL(pf), lock);
}

static int
x_unlock(sqlite3_file *pf, int lock)
{
	int	 rc;

	if ((rc = settle((struct vfile *)pf)) != SQLITE_OK)
		return rc;
	return RM(pf)->xUnlock(REAL(pf), lock);
}

static int
x_check_reserved(sqlite3_file *pf, int *out)
{
	int	 rc;

	if ((rc = settle((struct vfile *)pf)) != SQLITE_OK)
		return rc;
	return RM(pf)->xCheckReservedLock(REAL(pf), out);
}

static int
x_file_control(sqlite3_file *pf, int op, void *arg)
{
	int	 rc;

	if ((rc = settle((struct vfile *)pf)) != SQLITE_OK)
		return rc;
	return RM(pf)->xFileControl(REAL(pf), op, arg);
}

static int
x_sector_size(sqlite3_file *pf)
{
	return RM(pf)->xSectorSize(REAL(pf));
}

static int
x_device_characteristics(sqlite3_file *pf)
{
	return RM(pf)->xDeviceCharacteristics(REAL(pf));
}

static int
x_shm_map(sqlite3_file *pf, int pg, int pgsz, int extend, void volatile **pp)
{
	return RM(pf)->xShmMap(REAL(pf), pg, pgsz, extend, pp);
}

static int
x_shm_lock(sqlite3_file *pf, int offset, int n, int flags)
{
	struct vfile	*f = (struct vfile *)pf;
	int		 rc;

	db_flush_wal(pf);
	rc = RM(f)->xShmLock(f->real, offset, n, flags);
	/*
	 * A new write transaction: its runs start anew (a run is never an
	 * overwrite of what another connection wrote before it).
	 */
	if (rc == SQLITE_OK && f->wal != NULL && offset == WAL_WRITE_LOCK &&
	    (flags & (SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE)) ==
	    (SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE))
		f->wal->hw = 0;
	return rc;
}

static void
x_shm_barrier(sqlite3_file *pf)
{
	/* walIndexWriteHdr(): the commit becomes visible after this. */
	db_flush_wal(pf);
	RM(pf)->xShmBarrier(REAL(pf));
}

static int
x_shm_unmap(sqlite3_file *pf, int del)
{
	db_flush_wal(pf);
	return RM(pf)->xShmUnmap(REAL(pf), del);
}

static int
x_fetch(sqlite3_file *pf, sqlite3_int64 off, int n, void **pp)
{
	return RM(pf)->xFetch(REAL(pf), off, n, pp);
}

static int
x_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
	return RM(pf)->xUnfetch(REAL(pf), off, p);
}

static const sqlite3_io_methods methods = {
	3,
	x_close, x_read, x_write, x_truncate, x_sync, x_file_size,
	x_lock, x_unlock, x_check_reserved, x_file_control,
	x_sector_size, x_device_characteristics,
	x_shm_map, x_shm_lock, x_shm_barrier, x_shm_unmap,
	x_fetch, x_unfetch
};

#define VFILE_SZ	((sizeof(struct vfile) + 15) & ~(size_t)15)

static int
x_open(sqlite3_vfs *v, const char *name, sqlite3_file *pf, int flags,
    int *oflags)
{
	struct vfile	*f = (struct vfile *)pf, *d;
	const char	*dbname;
	int		 rc;

	(void)v;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)((char *)pf + VFILE_SZ);
	rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, oflags);
	if (f->real->pMethods == NULL) {
		pf->pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	/* Every method forwards; the version is the unix VFS's. */
	if (f->real->pMethods->iVersion < methods.iVersion) {
		(void)f->real->pMethods->xClose(f->real);
		pf->pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	pf->pMethods = &methods;
	if (rc != SQLITE_OK || name == NULL)
		return rc;
	if (flags & SQLITE_OPEN_MAIN_DB) {
		f->name = name;
		pthread_mutex_lock(&dbs_mu);
		f->next = dbs;
		dbs = f;
		pthread_mutex_unlock(&dbs_mu);
	} else if (flags & SQLITE_OPEN_WAL) {
		f->is_wal = true;
		dbname = sqlite3_filename_database(name);
		pthread_mutex_lock(&dbs_mu);
		for (d = dbs; d != NULL; d = d->next)
			if (d->name == dbname) {
				d->wal = f;
				f->db = d;
				break;
			}
		pthread_mutex_unlock(&dbs_mu);
	}
	return rc;
}

/* Everything else is the unix VFS's own. */
static int
x_delete(sqlite3_vfs *v, const char *name, int syncdir)
{
	(void)v;
	return unix_vfs->xDelete(unix_vfs, name, syncdir);
}

static int
x_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return unix_vfs->xAccess(unix_vfs, name, flags, out);
}

static int
x_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return unix_vfs->xFullPathname(unix_vfs, name, n, out);
}

static void *
x_dlopen(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return unix_vfs->xDlOpen(unix_vfs, name);
}

static void
x_dlerror(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	unix_vfs->xDlError(unix_vfs, n, out);
}

static void
(*x_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return unix_vfs->xDlSym(unix_vfs, h, sym);
}

static void
x_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	unix_vfs->xDlClose(unix_vfs, h);
}

static int
x_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return unix_vfs->xRandomness(unix_vfs, n, out);
}

static int
x_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return unix_vfs->xSleep(unix_vfs, us);
}

static int
x_current_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return unix_vfs->xCurrentTime(unix_vfs, out);
}

static int
x_get_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return unix_vfs->xGetLastError(unix_vfs, n, out);
}

static int
x_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return unix_vfs->xCurrentTimeInt64(unix_vfs, out);
}

int
store_vfs_register(void)
{
	if (unix_vfs != NULL)
		return SQLITE_OK;
	if ((unix_vfs = sqlite3_vfs_find(NULL)) == NULL)
		return SQLITE_ERROR;
	if (unix_vfs->iVersion < 2) {
		unix_vfs = NULL;
		return SQLITE_ERROR;
	}
	vfs.iVersion = 2;
	vfs.szOsFile = (int)(VFILE_SZ + (size_t)unix_vfs->szOsFile);
	vfs.mxPathname = unix_vfs->mxPathname;
	vfs.zName = "pds";
	vfs.xOpen = x_open;
	vfs.xDelete = x_delete;
	vfs.xAccess = x_access;
	vfs.xFullPathname = x_full_pathname;
	vfs.xDlOpen = x_dlopen;
	vfs.xDlError = x_dlerror;
	vfs.xDlSym = x_dlsym;
	vfs.xDlClose = x_dlclose;
	vfs.xRandomness = x_randomness;
	vfs.xSleep = x_sleep;
	vfs.xCurrentTime = x_current_time;
	vfs.xGetLastError = x_get_last_error;
	vfs.xCurrentTimeInt64 = x_current_time_int64;
	return sqlite3_vfs_register(&vfs, 1);
}
