/*
 * test_adminproto: the admin socket's line protocol (requests, replies,
 * the capped line reader) against the framing DESIGN.md specifies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "adminproto.h"
#include "buf.h"
#include "err.h"
#include "t.h"

static int
parse(const char *s, struct adminproto_req *r, const char **name)
{
	const char	*why = NULL;

	*name = NULL;
	return adminproto_req_parse(s, strlen(s), r, name, &why);
}

static void
test_requests(void)
{
	struct adminproto_req	 r;
	const char		*name;
	char			 big[ADMINPROTO_REQ_MAX + 64];
	int			 rc;

	t_group("requests");
	rc = parse("{\"v\":1,\"id\":7,\"cmd\":\"account.list\","
	    "\"args\":{\"limit\":50}}", &r, &name);
	CHECK(rc == PDS_OK, "rc %d", rc);
	CHECK(r.id == 7, "id %lld", (long long)r.id);
	CHECK(strcmp(r.cmd, "account.list") == 0, "cmd %s", r.cmd);
	CHECK(json_integer_value(json_object_get(r.args, "limit")) == 50,
	    "limit");
	adminproto_req_clear(&r);

	rc = parse("{\"v\":1,\"id\":0,\"cmd\":\"stats\"}\r", &r, &name);
	CHECK(rc == PDS_OK && json_object_size(r.args) == 0,
	    "no args and a CR: rc %d", rc);
	adminproto_req_clear(&r);

	rc = parse("{\"v\":2,\"id\":3,\"cmd\":\"stats\"}", &r, &name);
	CHECK(rc == PDS_EUNSUPP && strcmp(name, AP_E_UNSUPPORTED_VERSION) ==
	    0 && r.id == 3, "v 2: rc %d id %lld", rc, (long long)r.id);
	adminproto_req_clear(&r);

	rc = parse("{\"id\":3,\"cmd\":\"stats\"}", &r, &name);
	CHECK(rc == PDS_EINVAL && r.id == 3, "no v");
	adminproto_req_clear(&r);

	rc = parse("{\"v\":1,\"cmd\":\"stats\"}", &r, &name);
	CHECK(rc == PDS_EINVAL && r.id == -1 &&
	    strcmp(name, AP_E_INVALID_REQUEST) == 0, "no id");
	adminproto_req_clear(&r);

	rc = parse("{\"v\":1,\"id\":9007199254740992,\"cmd\":\"s\"}", &r,
	    &name);
	CHECK(rc == PDS_EINVAL && r.id == -1, "id 2^53 refused");
	adminproto_req_clear(&r);
	rc = parse("{\"v\":1,\"id\":9007199254740991,\"cmd\":\"s\"}", &r,
	    &name);
	CHECK(rc == PDS_OK && r.id == 9007199254740991LL, "id 2^53-1");
	adminproto_req_clear(&r);
	rc = parse("{\"v\":1,\"id\":1.0,\"cmd\":\"s\"}", &r, &name);
	CHECK(rc == PDS_EINVAL, "real id refused");
	adminproto_req_clear(&r);

	rc = parse("{\"v\":1,\"id\":1,\"cmd\":\"Account.List\"}", &r, &name);
	CHECK(rc == PDS_EINVAL && r.id == 1, "upper case cmd refused");
	adminproto_req_clear(&r);
	rc = parse("{\"v\":1,\"id\":1,\"cmd\":\"\"}", &r, &name);
	CHECK(rc == PDS_EINVAL, "empty cmd refused");
	adminproto_req_clear(&r);
	rc = parse("{\"v\":1,\"id\":1,\"cmd\":\"a\\u0000b\"}", &r, &name);
	CHECK(rc == PDS_EINVAL, "NUL in cmd refused");
	adminproto_req_clear(&r);
	rc = parse("{\"v\":1,\"id\":1,\"cmd\":\"s\",\"x\":1}", &r, &name);
	CHECK(rc == PDS_EINVAL && r.id == 1, "unknown key refused");
	adminproto_req_clear(&r);
	rc = parse("{\"v\":1,\"id\":1,\"id\":2,\"cmd\":\"s\"}", &r, &name);
	CHECK(rc == PDS_EINVAL, "duplicate key refused");
	adminproto_req_clear(&r);
	rc = parse("{\"v\":1,\"id\":1,\"cmd\":\"s\",\"args\":[]}", &r, &name);
	CHECK(rc == PDS_EINVAL, "array args refused");
	adminproto_req_clear(&r);
	rc = parse("{\"v\":1,\"id\":1,\"cmd\":\"s\",\"args\":{\"a\":[[[[[[["
	    "[1]]]]]]]}}", &r, &name);
	CHECK(rc == PDS_EINVAL, "deep args refused");
	adminproto_req_clear(&r);
	rc = parse("[1]", &r, &name);
	CHECK(rc == PDS_EINVAL && strcmp(name, AP_E_INVALID_REQUEST) == 0,
	    "array refused");
	adminproto_req_clear(&r);
	rc = parse("{\"v\":1,", &r, &name);
	CHECK(rc == PDS_EINVAL, "truncated refused");
	adminproto_req_clear(&r);

	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"v\":1,\"id\":1,\"cmd\":\"s\"}", 24);
	rc = parse(big, &r, &name);
	CHECK(rc == PDS_ETOOBIG && strcmp(name, AP_E_LINE_TOO_LONG) == 0,
	    "over-long line refused: rc %d", rc);
	adminproto_req_clear(&r);
	t_group_end();
}

static void
test_replies(void)
{
	struct adminproto_msg	 m;
	struct buf		 b;
	const char		*why;
	json_t			*res;

	t_group("replies");
	buf_init(&b, 0);
	res = json_pack("{s:i}", "n", 3);
	CHECK(adminproto_put_ok(&b, 5, res) == PDS_OK, "put ok");
	CHECK(strcmp((char *)b.p, "{\"id\":5,\"ok\":true,\"result\":{\"n\":3}}"
	    "\n") == 0, "ok line %s", b.p);
	CHECK(adminproto_msg_parse((char *)b.p, b.len - 1, &m, &why) ==
	    PDS_OK && m.kind == AP_MSG_OK && m.id == 5 &&
	    json_equal(m.result, res), "ok parses back");
	adminproto_msg_clear(&m);
	buf_reset(&b);

	CHECK(adminproto_put_error(&b, -1, AP_E_INVALID_REQUEST, "bad") ==
	    PDS_OK, "put error");
	CHECK(strcmp((char *)b.p, "{\"id\":null,\"ok\":false,\"error\":"
	    "\"InvalidRequest\",\"message\":\"bad\"}\n") == 0, "error line %s",
	    b.p);
	CHECK(adminproto_msg_parse((char *)b.p, b.len - 1, &m, &why) ==
	    PDS_OK && m.kind == AP_MSG_ERROR && m.id == -1 &&
	    strcmp(m.error, "InvalidRequest") == 0 &&
	    strcmp(m.message, "bad") == 0, "error parses back");
	adminproto_msg_clear(&m);
	buf_reset(&b);

	CHECK(adminproto_put_event(&b, 9, res) == PDS_OK &&
	    adminproto_put_end(&b, 9, NULL) == PDS_OK, "event and end");
	CHECK(strcmp((char *)b.p, "{\"id\":9,\"event\":{\"n\":3}}\n"
	    "{\"id\":9,\"end\":true}\n") == 0, "stream lines %s", b.p);
	buf_reset(&b);

	CHECK(adminproto_put_request(&b, 4, "account.show", res) == PDS_OK,
	    "put request");
	CHECK(strcmp((char *)b.p, "{\"v\":1,\"id\":4,\"cmd\":\"account.show\","
	    "\"args\":{\"n\":3}}\n") == 0, "request line %s", b.p);
	buf_clear(&b);
	json_decref(res);

	CHECK(adminproto_msg_parse("{\"id\":1,\"ok\":true,\"end\":true}", 30,
	    &m, &why) == PDS_EINVAL, "ok and end refused");
	adminproto_msg_clear(&m);
	CHECK(adminproto_msg_parse("{\"id\":1,\"ok\":false}", 19, &m, &why) ==
	    PDS_EINVAL, "error without name refused");
	adminproto_msg_clear(&m);

	CHECK(adminproto_error_class(AP_E_NO_SUCH_ACCOUNT) ==
	    AP_CLASS_NOTFOUND, "NoSuchAccount is not-found");
	CHECK(adminproto_error_class("NoSuchToken") == AP_CLASS_NOTFOUND,
	    "NoSuchToken is not-found (pdsctl account token: exit 3)");
	CHECK(adminproto_error_class(AP_E_PERMISSION_DENIED) ==
	    AP_CLASS_NOPERM, "PermissionDenied is no-perm");
	CHECK(adminproto_error_class("SomethingNew") == AP_CLASS_OTHER,
	    "unknown names are other");
	t_group_end();
}

static void
feed(struct adminproto_reader *r, const char *s)
{
	size_t	 avail, n = strlen(s);
	char	*p = adminproto_reader_space(r, &avail);

	if (n > avail)
		n = avail;
	memcpy(p, s, n);
	adminproto_reader_commit(r, n);
}

static void
test_reader(void)
{
	struct adminproto_reader r;
	const char		*line;
	size_t			 len;

	t_group("reader");
	CHECK(adminproto_reader_init(&r, 8) == PDS_OK, "init");
	feed(&r, "abc\nde");
	CHECK(adminproto_reader_next(&r, &line, &len) == AP_READ_LINE &&
	    len == 3 && memcmp(line, "abc", 3) == 0, "first line");
	CHECK(adminproto_reader_next(&r, &line, &len) == AP_READ_MORE,
	    "partial line waits");
	CHECK(adminproto_reader_pending(&r) == 2, "2 pending");
	feed(&r, "f\n");
	CHECK(adminproto_reader_next(&r, &line, &len) == AP_READ_LINE &&
	    len == 3 && memcmp(line, "def", 3) == 0, "joined line");
	feed(&r, "123456789");	/* 9 bytes: fills cap, no newline */
	CHECK(adminproto_reader_next(&r, &line, &len) == AP_READ_TOOLONG,
	    "over-long line reported");
	feed(&r, "0000\nok\n");
	CHECK(adminproto_reader_next(&r, &line, &len) == AP_READ_LINE &&
	    len == 2 && memcmp(line, "ok", 2) == 0,
	    "the rest of the long line is dropped");
	feed(&r, "12345678\n");
	CHECK(adminproto_reader_next(&r, &line, &len) == AP_READ_LINE &&
	    len == 8, "a line of exactly the cap passes");
	adminproto_reader_clear(&r);
	t_group_end();
}

/* Where pdsctl and pdstui look for the socket, in order. */
static void
test_socket_path(void)
{
	char		 envf[] = "/tmp/adminproto-env-XXXXXX", buf[256];
	const char	*p;
	FILE		*f;
	int		 fd;

	t_group("socket path");
	unsetenv("PDSCTL_SOCKET");
	unsetenv("PDS_ADMIN_SOCKET");
	unsetenv("PDS_DATA_DIRECTORY");
	if ((fd = mkstemp(envf)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		CHECK(0, "temporary env file");
		t_group_end();
		return;
	}
	fprintf(f, "# a comment\nPDS_DATA_DIRECTORY=/srv/pds\n"
	    "  export PDS_ADMIN_SOCKET='/run/a.sock'\n"
	    "PDS_ADMIN_SOCKET=\"/run/b.sock\"\nPDS_ADMIN_SOCKET=\n");
	fclose(f);
	CHECK(strcmp(adminproto_socket_path(NULL, NULL, buf, sizeof(buf)),
	    "/pds/pdsd.sock") == 0, "the default");
	setenv("PDS_DATA_DIRECTORY", "/var/pds", 1);
	CHECK(strcmp(adminproto_socket_path(NULL, NULL, buf, sizeof(buf)),
	    "/var/pds/pdsd.sock") == 0, "PDS_DATA_DIRECTORY/pdsd.sock");
	setenv("PDS_ADMIN_SOCKET", "/env.sock", 1);
	CHECK(strcmp(adminproto_socket_path(NULL, NULL, buf, sizeof(buf)),
	    "/env.sock") == 0, "PDS_ADMIN_SOCKET beats the data directory");
	p = adminproto_socket_path(NULL, envf, buf, sizeof(buf));
	CHECK(strcmp(p, "/run/b.sock") == 0,
	    "the env file beats the environment; the last non-empty line "
	    "wins, quotes removed: %s", p);
	CHECK(adminproto_envfile_get(envf, "PDS_DATA_DIRECTORY", buf,
	    sizeof(buf)) && strcmp(buf, "/srv/pds") == 0, "envfile_get");
	CHECK(!adminproto_envfile_get(envf, "PDS_HOSTNAME", buf, sizeof(buf)),
	    "a missing key");
	CHECK(!adminproto_envfile_get(envf, "PDS_DATA_DIRECTORY", buf, 5),
	    "a value that does not fit");
	setenv("PDSCTL_SOCKET", "/ctl.sock", 1);
	CHECK(strcmp(adminproto_socket_path(NULL, envf, buf, sizeof(buf)),
	    "/ctl.sock") == 0, "PDSCTL_SOCKET beats the env file");
	CHECK(strcmp(adminproto_socket_path("/flag.sock", envf, buf,
	    sizeof(buf)), "/flag.sock") == 0, "--socket beats everything");
	unsetenv("PDSCTL_SOCKET");
	unsetenv("PDS_ADMIN_SOCKET");
	unsetenv("PDS_DATA_DIRECTORY");
	unlink(envf);
	t_group_end();
}

int
main(void)
{
	test_requests();
	test_replies();
	test_reader();
	test_socket_path();
	return t_done("test_adminproto");
}
