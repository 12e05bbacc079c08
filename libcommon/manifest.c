/*
 * manifest: reading and writing the file lists of backups and exports.
 * See manifest.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cid.h"
#include "err.h"
#include "manifest.h"

#define COPY_CHUNK	((size_t)128 * 1024)

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '%' || c == '-';
}

bool
manifest_path_ok(const char *path)
{
	size_t	 i, start = 0, depth = 1;

	if (path == NULL || path[0] == '\0' ||
	    strlen(path) > MANIFEST_PATH_MAX)
		return false;
	for (i = 0;; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			if (i == start || i - start > 255 || path[start] == '.')
				return false;
			if (path[i] == '\0')
				return true;
			if (++depth > MANIFEST_DEPTH)
				return false;
			start = i + 1;
		} else if (!name_char(path[i]))
			return false;
	}
}

static int
hex_digest(const char *s, uint8_t out[32])
{
	size_t	 i;
	int	 hi, lo;

	if (s == NULL || strlen(s) != 64)
		return PDS_EINVAL;
	for (i = 0; i < 32; i++) {
		hi = s[2 * i];
		lo = s[2 * i + 1];
		hi = hi >= '0' && hi <= '9' ? hi - '0' : hi >= 'a' &&
		    hi <= 'f' ? hi - 'a' + 10 : -1;
		lo = lo >= '0' && lo <= '9' ? lo - '0' : lo >= 'a' &&
		    lo <= 'f' ? lo - 'a' + 10 : -1;
		if (hi < 0 || lo < 0)
			return PDS_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return PDS_OK;
}

void
manifest_hex(const uint8_t d[32], char out[65])
{
	static const char	 x[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[64] = '\0';
}

/* A blob's file: its name is a raw CID, and its digest must be ours. */
static bool
blob_digest_ok(const struct manifest_file *f)
{
	const char	*name = strrchr(f->path, '/');
	struct cid	 c, want;

	name = name != NULL ? name + 1 : f->path;
	if (strncmp(name, "bafk", 4) != 0 || cid_parse(&c, name,
	    strlen(name), NULL) != PDS_OK || cid_codec(&c) != CID_CODEC_RAW)
		return true;	/* not a blob */
	cid_from_digest(&want, CID_CODEC_RAW, f->sha256);
	return cid_equal(&c, &want);
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct manifest_file *)a)->path,
	    ((const struct manifest_file *)b)->path);
}

static int
parse_file(json_t *e, size_t i, struct manifest_file *f, char *err,
    size_t errlen)
{
	json_t	*p = json_object_get(e, "path");
	json_t	*s = json_object_get(e, "size");

	if (!json_is_object(e) || !json_is_string(p) || !json_is_integer(s))
		return pds_errf(err, errlen, PDS_EINVAL,
		    "files[%zu]: path, size and sha256 are required", i);
	f->path = json_string_value(p);
	if (strlen(f->path) != json_string_length(p) ||
	    !manifest_path_ok(f->path))
		return pds_errf(err, errlen, PDS_EINVAL, "files[%zu]: a path "
		    "that is not plain and relative", i);
	f->size = json_integer_value(s);
	if (f->size < 0)
		return pds_errf(err, errlen, PDS_EINVAL,
		    "files[%zu]: a negative size", i);
	if (hex_digest(json_string_value(json_object_get(e, "sha256")),
	    f->sha256) != PDS_OK)
		return pds_errf(err, errlen, PDS_EINVAL,
		    "files[%zu]: sha256 is not 64 lower-case hex digits", i);
	if (!blob_digest_ok(f))
		return pds_errf(err, errlen, PDS_EMISMATCH, "files[%zu]: the "
		    "blob's sha256 is not its CID's", i);
	return PDS_OK;
}

int
manifest_parse(const char *buf, size_t len, const char *format,
    struct manifest *m, char *err, size_t errlen)
{
	json_error_t	 je;
	json_t		*files, *fmt, *ver;
	size_t		 i, n;
	int		 rc;

	memset(m, 0, sizeof(*m));
	if (len > MANIFEST_MAX_BYTES)
		return pds_errf(err, errlen, PDS_ETOOBIG,
		    "the manifest is over %zu bytes", MANIFEST_MAX_BYTES);
	m->doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (m->doc == NULL)
		return pds_errf(err, errlen, PDS_EINVAL,
		    "not JSON: %s (line %d)", je.text, je.line);
	fmt = json_object_get(m->doc, "format");
	ver = json_object_get(m->doc, "version");
	files = json_object_get(m->doc, "files");
	if (!json_is_object(m->doc) || !json_is_string(fmt) ||
	    !json_is_integer(ver) || !json_is_array(files))
		return pds_errf(err, errlen, PDS_EINVAL, "%s", "not a manifest "
		    "(format, version and files are required)");
	if (format != NULL && strcmp(json_string_value(fmt), format) != 0)
		return pds_errf(err, errlen, PDS_EINVAL, "a manifest of format "
		    "%.40s, not %s", json_string_value(fmt), format);
	if (json_integer_value(ver) != MANIFEST_VERSION)
		return pds_errf(err, errlen, PDS_EINVAL,
		    "manifest version %lld is not %d",
		    (long long)json_integer_value(ver), MANIFEST_VERSION);
	n = json_array_size(files);
	if (n > MANIFEST_MAX_FILES)
		return pds_errf(err, errlen, PDS_ETOOBIG, "over %zu files",
		    MANIFEST_MAX_FILES);
	if (n > 0 && (m->files = calloc(n, sizeof(*m->files))) == NULL)
		return pds_errf(err, errlen, PDS_ENOMEM, "%s", "out of memory");
	for (i = 0; i < n; i++) {
		rc = parse_file(json_array_get(files, i), i, &m->files[i], err,
		    errlen);
		if (rc != PDS_OK)
			return rc;
		if (m->files[i].size > INT64_MAX - m->bytes)
			return pds_errf(err, errlen, PDS_ETOOBIG, "%s",
			    "the sizes add up to too much");
		m->bytes += m->files[i].size;
		m->nfiles++;
	}
	if (n > 1)
		qsort(m->files, n, sizeof(*m->files), file_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(m->files[i - 1].path, m->files[i].path) == 0)
			return pds_errf(err, errlen, PDS_EINVAL,
			    "%.200s is listed twice", m->files[i].path);
	return PDS_OK;
}

void
manifest_clear(struct manifest *m)
{
	if (m == NULL)
		return;
	free(m->files);
	json_decref(m->doc);
	memset(m, 0, sizeof(*m));
}

const struct manifest_file *
manifest_find(const struct manifest *m, const char *path)
{
	struct manifest_file	 key;

	if (m->nfiles == 0)
		return NULL;
	key.path = path;
	return bsearch(&key, m->files, m->nfiles, sizeof(*m->files),
	    file_cmp);
}

json_t *
manifest_entry(const char *path, int64_t size, const uint8_t sha256[32])
{
	char	 hex[65];

	manifest_hex(sha256, hex);
	return json_pack("{s:s,s:I,s:s}", "path", path, "size",
	    (json_int_t)size, "sha256", hex);
}

int
manifest_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t	*p = buf;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return PDS_EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return PDS_OK;
}

int
manifest_copy_fd(int in, int out, int64_t max, uint8_t digest[32],
    int64_t *size, void (*progress)(void *, int64_t), void *arg)
{
	crypto_hash_sha256_state hs;
	uint8_t		*buf;
	ssize_t		 n;
	int		 rc = PDS_OK;

	*size = 0;
	if ((buf = malloc(COPY_CHUNK)) == NULL)
		return PDS_ENOMEM;
	crypto_hash_sha256_init(&hs);
	for (;;) {
		if ((n = read(in, buf, COPY_CHUNK)) == -1) {
			if (errno == EINTR)
				continue;
			rc = PDS_EIO;
			break;
		}
		if (n == 0)
			break;
		if (*size > max - n) {
			rc = PDS_ETOOBIG;
			break;
		}
		*size += n;
		crypto_hash_sha256_update(&hs, buf, (size_t)n);
		if (out != -1 && (rc = manifest_write_all(out, buf, (size_t)n)) !=
		    PDS_OK)
			break;
		if (progress != NULL)
			progress(arg, n);
	}
	crypto_hash_sha256_final(&hs, digest);
	free(buf);
	return rc;
}

int
manifest_read_file(int dirfd, const char *path, size_t max, char **bufp,
    size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	*bufp = NULL;
	*lenp = 0;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return errno == ENOENT ? PDS_ENOTFOUND : PDS_EIO;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return PDS_EIO;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return PDS_ETOOBIG;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return PDS_ENOMEM;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*bufp = buf;
	*lenp = off;
	return PDS_OK;
}
