/* Unit tests: backup and export manifests (libcommon/manifest.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "manifest.h"
#include "t.h"

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define EMPTY_CID "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
#define OTHER_FORMAT "{\"format\":\"pds-backup\",\"version\":1,\"files\":[]}"
#define OTHER_VERSION "{\"format\":\"pds-export\",\"version\":2,\"files\":[]}"
#define ZERO_SHA "0000000000000000000000000000000000000000000000000000000000000000"

static int
parse(const char *files, struct manifest *m)
{
	char	 doc[4096];

	snprintf(doc, sizeof(doc), "{\"format\":\"pds-export\",\"version\":1,"
	    "\"files\":[%s]}", files);
	return manifest_parse(doc, strlen(doc), "pds-export", m, NULL, 0);
}

static void
test_paths(void)
{
	t_group("paths");
	CHECK(manifest_path_ok("repo.car"), "plain");
	CHECK(manifest_path_ok("blobs/" EMPTY_CID), "two levels");
	CHECK(manifest_path_ok("db.sqlite.blobs/did:plc:abc/" EMPTY_CID),
	    "a DID as a directory");
	CHECK(!manifest_path_ok(""), "empty");
	CHECK(!manifest_path_ok("/etc/passwd"), "absolute");
	CHECK(!manifest_path_ok("../x"), "dot-dot");
	CHECK(!manifest_path_ok("a/../b"), "dot-dot inside");
	CHECK(!manifest_path_ok("a//b"), "empty component");
	CHECK(!manifest_path_ok("a/.hidden"), "dot file");
	CHECK(!manifest_path_ok("a/b/c/d/e"), "too deep");
	CHECK(!manifest_path_ok("a b"), "space");
	CHECK(!manifest_path_ok("a\\b"), "backslash");
	t_group_end();
}

static void
test_parse(void)
{
	struct manifest	 m;

	t_group("parse");
	CHECK(parse("{\"path\":\"b\",\"size\":2,\"sha256\":\"" ZERO_SHA "\"},"
	    "{\"path\":\"a\",\"size\":3,\"sha256\":\"" ZERO_SHA "\"}", &m) ==
	    PDS_OK && m.nfiles == 2 && m.bytes == 5 &&
	    strcmp(m.files[0].path, "a") == 0 && manifest_find(&m, "b") ==
	    &m.files[1] && manifest_find(&m, "c") == NULL, "sorted, found");
	manifest_clear(&m);
	CHECK(parse("{\"path\":\"blobs/" EMPTY_CID "\",\"size\":0,"
	    "\"sha256\":\"" EMPTY_SHA "\"}", &m) == PDS_OK, "a blob's digest");
	manifest_clear(&m);
	CHECK(parse("{\"path\":\"blobs/" EMPTY_CID "\",\"size\":0,"
	    "\"sha256\":\"" ZERO_SHA "\"}", &m) == PDS_EMISMATCH,
	    "a blob whose digest is not its CID's");
	manifest_clear(&m);
	CHECK(parse("{\"path\":\"a\",\"size\":1,\"sha256\":\"" ZERO_SHA "\"},"
	    "{\"path\":\"a\",\"size\":1,\"sha256\":\"" ZERO_SHA "\"}", &m) ==
	    PDS_EINVAL, "twice");
	manifest_clear(&m);
	CHECK(parse("{\"path\":\"../a\",\"size\":1,\"sha256\":\"" ZERO_SHA
	    "\"}", &m) == PDS_EINVAL, "escaping path");
	manifest_clear(&m);
	CHECK(parse("{\"path\":\"a\",\"size\":-1,\"sha256\":\"" ZERO_SHA
	    "\"}", &m) == PDS_EINVAL, "negative size");
	manifest_clear(&m);
	CHECK(parse("{\"path\":\"a\",\"size\":1,\"sha256\":\"ABC\"}", &m) ==
	    PDS_EINVAL, "short digest");
	manifest_clear(&m);
	CHECK(parse("{\"path\":\"a\",\"size\":9223372036854775807,\"sha256\":"
	    "\"" ZERO_SHA "\"},{\"path\":\"b\",\"size\":9223372036854775807,"
	    "\"sha256\":\"" ZERO_SHA "\"}", &m) == PDS_ETOOBIG,
	    "sizes that overflow");
	manifest_clear(&m);
	CHECK(manifest_parse(OTHER_FORMAT, strlen(OTHER_FORMAT), "pds-export",
	    &m, NULL, 0) == PDS_EINVAL, "another format");
	manifest_clear(&m);
	CHECK(manifest_parse(OTHER_VERSION, strlen(OTHER_VERSION), NULL, &m,
	    NULL, 0) == PDS_EINVAL, "another version");
	manifest_clear(&m);
	CHECK(manifest_parse("[1]", 3, NULL, &m, NULL, 0) == PDS_EINVAL,
	    "not an object");
	manifest_clear(&m);
	t_group_end();
}

static void
test_copy(void)
{
	char		 in[] = "/tmp/test_manifest.XXXXXX";
	uint8_t		 sha[32];
	char		 hex[65];
	int64_t		 size;
	int		 fd;

	t_group("copy and hash");
	fd = mkstemp(in);
	CHECK(fd != -1 && write(fd, "hello world", 11) == 11, "temp file");
	lseek(fd, 0, SEEK_SET);
	CHECK(manifest_copy_fd(fd, -1, 100, sha, &size, NULL, NULL) ==
	    PDS_OK && size == 11, "hashed");
	manifest_hex(sha, hex);
	CHECK(strcmp(hex, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee90"
	    "88f7ace2efcde9") == 0, "%s", hex);
	lseek(fd, 0, SEEK_SET);
	CHECK(manifest_copy_fd(fd, -1, 10, sha, &size, NULL, NULL) ==
	    PDS_ETOOBIG, "over the limit");
	CHECK(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
	    manifest_write_all(fd, "hello", 5) == PDS_OK &&
	    manifest_write_all(fd, "", 0) == PDS_OK &&
	    lseek(fd, 0, SEEK_CUR) == 5, "written whole");
	close(fd);
	CHECK(manifest_write_all(fd, "x", 1) == PDS_EIO, "a closed fd");
	unlink(in);
	t_group_end();
}

int
main(void)
{
	test_paths();
	test_parse();
	test_copy();
	return t_done("test_manifest");
}
