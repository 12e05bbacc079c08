/*
 * adminproto: the admin socket's line protocol.  See adminproto.h.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adminproto.h"
#include "buf.h"
#include "err.h"

static const struct {
	const char			*name;
	enum adminproto_errclass	 class;
} errclasses[] = {
	{ AP_E_INVALID_REQUEST,		AP_CLASS_USAGE },
	{ AP_E_UNSUPPORTED_VERSION,	AP_CLASS_USAGE },
	{ AP_E_LINE_TOO_LONG,		AP_CLASS_USAGE },
	{ AP_E_UNKNOWN_COMMAND,		AP_CLASS_USAGE },
	{ AP_E_INVALID_ARGUMENT,	AP_CLASS_DATA },
	{ AP_E_PERMISSION_DENIED,	AP_CLASS_NOPERM },
	{ AP_E_TOO_MANY_CONNECTIONS,	AP_CLASS_UNAVAILABLE },
	{ AP_E_NO_SUCH_ACCOUNT,		AP_CLASS_NOTFOUND },
	{ AP_E_NO_SUCH_RECORD,		AP_CLASS_NOTFOUND },
	{ AP_E_NO_SUCH_BLOB,		AP_CLASS_NOTFOUND },
	{ AP_E_NO_SUCH_INVITE,		AP_CLASS_NOTFOUND },
	{ AP_E_NO_SUCH_TOKEN,		AP_CLASS_NOTFOUND },
	{ AP_E_ALREADY_EXISTS,		AP_CLASS_CONFLICT },
	{ AP_E_ACCOUNT_TAKENDOWN,	AP_CLASS_CONFLICT },
	{ AP_E_NOT_AVAILABLE,		AP_CLASS_UNAVAILABLE },
	{ AP_E_UPSTREAM_FAILURE,	AP_CLASS_OTHER },
	{ AP_E_IO_ERROR,		AP_CLASS_OTHER },
	{ AP_E_TOO_SLOW,		AP_CLASS_OTHER },
	{ AP_E_INTERNAL,		AP_CLASS_OTHER },
};

enum adminproto_errclass
adminproto_error_class(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return AP_CLASS_OTHER;
	for (i = 0; i < sizeof(errclasses) / sizeof(errclasses[0]); i++)
		if (strcmp(errclasses[i].name, name) == 0)
			return errclasses[i].class;
	return AP_CLASS_OTHER;
}

/* ---- shared checks ---- */

/* Strip one trailing "\r"; refuse NUL bytes (jansson would too). */
static bool
line_trim(const char *line, size_t *len)
{
	if (*len > 0 && line[*len - 1] == '\r')
		(*len)--;
	return memchr(line, '\0', *len) == NULL;
}

static bool
depth_ok(const json_t *v, int depth)
{
	const char	*k;
	json_t		*e;
	size_t		 i;

	if (depth > ADMINPROTO_DEPTH_MAX)
		return false;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e)
			if (!depth_ok(e, depth + 1))
				return false;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (!depth_ok(e, depth + 1))
				return false;
	}
	return true;
}

static bool
id_get(const json_t *v, int64_t *id)
{
	json_int_t	 n;

	if (!json_is_integer(v))
		return false;
	n = json_integer_value(v);
	if (n < 0 || n >= ADMINPROTO_ID_MAX)
		return false;
	*id = (int64_t)n;
	return true;
}

static bool
cmd_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > ADMINPROTO_CMD_MAX)
		return false;
	if (s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '-'))
			return false;
	return true;
}

static json_t *
load_line(const char *line, size_t len, size_t max)
{
	json_error_t	 jerr;

	if (len > max || !line_trim(line, &len))
		return NULL;
	return json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
}

/* ---- requests ---- */

void
adminproto_req_clear(struct adminproto_req *req)
{
	json_decref(req->args);
	req->args = NULL;
}

static int
req_fail(const char **errname, const char **why, const char *name,
    const char *reason, int rc)
{
	if (errname != NULL)
		*errname = name;
	if (why != NULL)
		*why = reason;
	return rc;
}

/* The members of a request object o, into req. */
static int
req_members(json_t *o, struct adminproto_req *req, const char **errname,
    const char **why)
{
	json_t		*v, *id, *cmd, *args;
	const char	*k;
	size_t		 clen;

	if (!json_is_object(o))
		return req_fail(errname, why, AP_E_INVALID_REQUEST,
		    "not a JSON object", PDS_EINVAL);
	/* The id first, so that every later error can name it. */
	id = json_object_get(o, "id");
	if (id != NULL)
		(void)id_get(id, &req->id);
	json_object_foreach(o, k, v) {
		if (strcmp(k, "v") != 0 && strcmp(k, "id") != 0 &&
		    strcmp(k, "cmd") != 0 && strcmp(k, "args") != 0)
			return req_fail(errname, why, AP_E_INVALID_REQUEST,
			    "unknown key in request", PDS_EINVAL);
	}
	if (id == NULL || req->id < 0) {
		req->id = -1;
		return req_fail(errname, why, AP_E_INVALID_REQUEST,
		    "id must be an integer in [0, 2^53)", PDS_EINVAL);
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v))
		return req_fail(errname, why, AP_E_INVALID_REQUEST,
		    "v (protocol version) must be an integer", PDS_EINVAL);
	if (json_integer_value(v) != ADMINPROTO_VERSION)
		return req_fail(errname, why, AP_E_UNSUPPORTED_VERSION,
		    "unsupported protocol version (this daemon speaks 1)",
		    PDS_EUNSUPP);
	cmd = json_object_get(o, "cmd");
	if (!json_is_string(cmd))
		return req_fail(errname, why, AP_E_INVALID_REQUEST,
		    "cmd must be a string", PDS_EINVAL);
	clen = json_string_length(cmd);
	if (!cmd_ok(json_string_value(cmd), clen) ||
	    strlen(json_string_value(cmd)) != clen)
		return req_fail(errname, why, AP_E_INVALID_REQUEST,
		    "cmd must be 1-48 characters of a-z 0-9 . -", PDS_EINVAL);
	memcpy(req->cmd, json_string_value(cmd), clen);
	req->cmd[clen] = '\0';
	args = json_object_get(o, "args");
	if (args == NULL) {
		if ((req->args = json_object()) == NULL)
			return req_fail(errname, why, AP_E_INTERNAL,
			    "out of memory", PDS_ENOMEM);
	} else if (!json_is_object(args))
		return req_fail(errname, why, AP_E_INVALID_REQUEST,
		    "args must be an object", PDS_EINVAL);
	else if (!depth_ok(args, 1))
		return req_fail(errname, why, AP_E_INVALID_REQUEST,
		    "args nested too deeply", PDS_EINVAL);
	else
		req->args = json_incref(args);
	return PDS_OK;
}

int
adminproto_req_parse(const char *line, size_t len,
    struct adminproto_req *req, const char **errname, const char **why)
{
	json_t	*o;
	int	 rc;

	memset(req, 0, sizeof(*req));
	req->id = -1;
	if (len > ADMINPROTO_REQ_MAX)
		return req_fail(errname, why, AP_E_LINE_TOO_LONG,
		    "request line too long", PDS_ETOOBIG);
	if ((o = load_line(line, len, ADMINPROTO_REQ_MAX)) == NULL)
		return req_fail(errname, why, AP_E_INVALID_REQUEST,
		    "not a JSON text", PDS_EINVAL);
	rc = req_members(o, req, errname, why);
	json_decref(o);
	return rc;
}

/* ---- replies ---- */

void
adminproto_msg_clear(struct adminproto_msg *msg)
{
	json_decref(msg->result);
	msg->result = NULL;
}

static void
copy_str(char *dst, size_t cap, const char *src)
{
	size_t	 n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
adminproto_msg_parse(const char *line, size_t len, struct adminproto_msg *msg,
    const char **why)
{
	json_t	*o, *id, *ok, *ev, *end, *e, *m, *r;

	memset(msg, 0, sizeof(*msg));
	msg->id = -1;
	if ((o = load_line(line, len, ADMINPROTO_REPLY_MAX)) == NULL)
		return pds_fail(why, PDS_EINVAL, "reply is not JSON");
	if (!json_is_object(o)) {
		json_decref(o);
		return pds_fail(why, PDS_EINVAL, "reply is not an object");
	}
	id = json_object_get(o, "id");
	if (!json_is_null(id) && !id_get(id, &msg->id)) {
		json_decref(o);
		return pds_fail(why, PDS_EINVAL, "reply has no valid id");
	}
	ok = json_object_get(o, "ok");
	ev = json_object_get(o, "event");
	end = json_object_get(o, "end");
	if ((ok != NULL) + (ev != NULL) + (end != NULL) != 1) {
		json_decref(o);
		return pds_fail(why, PDS_EINVAL,
		    "reply needs exactly one of ok, event, end");
	}
	r = json_object_get(o, "result");
	if (json_is_true(ok)) {
		msg->kind = AP_MSG_OK;
		msg->result = r != NULL ? json_incref(r) : json_null();
	} else if (json_is_false(ok)) {
		msg->kind = AP_MSG_ERROR;
		e = json_object_get(o, "error");
		m = json_object_get(o, "message");
		if (!json_is_string(e) || json_string_length(e) == 0) {
			json_decref(o);
			return pds_fail(why, PDS_EINVAL,
			    "error reply without an error name");
		}
		copy_str(msg->error, sizeof(msg->error), json_string_value(e));
		if (json_is_string(m))
			copy_str(msg->message, sizeof(msg->message),
			    json_string_value(m));
	} else if (ev != NULL) {
		msg->kind = AP_MSG_EVENT;
		msg->result = json_incref(ev);
	} else if (json_is_true(end)) {
		msg->kind = AP_MSG_END;
		msg->result = r != NULL ? json_incref(r) : NULL;
	} else {
		json_decref(o);
		return pds_fail(why, PDS_EINVAL, "ok/end must be booleans");
	}
	json_decref(o);
	return PDS_OK;
}

/* ---- encoders ---- */

/*
 * Append the message o as one line (o is taken); failed: setting one
 * of its members failed, so nothing is appended.  o may be NULL (its
 * allocation failed): jansson's setters refuse a NULL object, so the
 * callers' chains of them just come out failed.
 */
static int
put_obj(struct buf *b, json_t *o, bool failed)
{
	char	*s;
	size_t	 n;
	int	 rc;

	if (o == NULL)
		return PDS_ENOMEM;
	if (failed) {
		json_decref(o);
		return PDS_ENOMEM;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(o);
	if (s == NULL)
		return PDS_ENOMEM;
	n = strlen(s);
	/* one reservation, so the line goes in whole or not at all */
	if ((rc = buf_reserve(b, n + 1)) == PDS_OK) {
		(void)buf_append(b, s, n);
		(void)buf_putc(b, '\n');
	}
	free(s);
	return rc;
}

static json_t *
obj_with_id(int64_t id)
{
	json_t	*o = json_object();

	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "id", id < 0 ? json_null() :
	    json_integer((json_int_t)id)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Set key to a borrowed value (json_null() for NULL). */
static int
set_borrowed(json_t *o, const char *key, const json_t *v)
{
	return json_object_set(o, key, v != NULL ? (json_t *)v :
	    json_null());
}

int
adminproto_put_request(struct buf *b, int64_t id, const char *cmd,
    const json_t *args)
{
	json_t	*o = json_object();

	return put_obj(b, o, json_object_set_new(o, "v",
	    json_integer(ADMINPROTO_VERSION)) ||
	    json_object_set_new(o, "id", json_integer((json_int_t)id)) ||
	    json_object_set_new(o, "cmd", json_string(cmd)) ||
	    (args != NULL && set_borrowed(o, "args", args)));
}

int
adminproto_put_ok(struct buf *b, int64_t id, const json_t *result)
{
	json_t	*o = obj_with_id(id);

	return put_obj(b, o, json_object_set_new(o, "ok", json_true()) ||
	    set_borrowed(o, "result", result));
}

int
adminproto_put_error(struct buf *b, int64_t id, const char *error,
    const char *message)
{
	json_t	*o = obj_with_id(id);

	return put_obj(b, o, json_object_set_new(o, "ok", json_false()) ||
	    json_object_set_new(o, "error", json_string(error)) ||
	    json_object_set_new(o, "message", json_string(
	    message != NULL ? message : "")));
}

int
adminproto_put_event(struct buf *b, int64_t id, const json_t *event)
{
	json_t	*o = obj_with_id(id);

	return put_obj(b, o, set_borrowed(o, "event", event));
}

int
adminproto_put_end(struct buf *b, int64_t id, const json_t *result)
{
	json_t	*o = obj_with_id(id);

	return put_obj(b, o, json_object_set_new(o, "end", json_true()) ||
	    (result != NULL && set_borrowed(o, "result", result)));
}

/* ---- the line reader ---- */

int
adminproto_reader_init(struct adminproto_reader *r, size_t max_line)
{
	memset(r, 0, sizeof(*r));
	if (max_line == 0 || max_line > ((size_t)1 << 30))
		return PDS_EINVAL;
	if ((r->p = malloc(max_line + 1)) == NULL)
		return PDS_ENOMEM;
	r->cap = max_line + 1;
	return PDS_OK;
}

void
adminproto_reader_clear(struct adminproto_reader *r)
{
	free(r->p);
	memset(r, 0, sizeof(*r));
}

/* Drop the line handed out last. */
static void
reader_compact(struct adminproto_reader *r)
{
	if (r->consumed == 0)
		return;
	memmove(r->p, r->p + r->consumed, r->len - r->consumed);
	r->len -= r->consumed;
	r->consumed = 0;
}

char *
adminproto_reader_space(struct adminproto_reader *r, size_t *avail)
{
	reader_compact(r);
	*avail = r->cap - r->len;
	return r->p + r->len;
}

void
adminproto_reader_commit(struct adminproto_reader *r, size_t n)
{
	if (n > r->cap - r->len)
		n = r->cap - r->len;	/* a caller bug; never overrun */
	r->len += n;
}

enum adminproto_read
adminproto_reader_next(struct adminproto_reader *r, const char **line,
    size_t *len)
{
	char	*nl;

	reader_compact(r);
	while (r->discarding) {
		nl = memchr(r->p, '\n', r->len);
		if (nl == NULL) {
			r->len = 0;
			return AP_READ_MORE;
		}
		r->consumed = (size_t)(nl - r->p) + 1;
		r->discarding = false;
		reader_compact(r);
	}
	nl = memchr(r->p, '\n', r->len);
	if (nl != NULL) {
		*line = r->p;
		*len = (size_t)(nl - r->p);
		r->consumed = *len + 1;
		return AP_READ_LINE;
	}
	if (r->len == r->cap) {
		/* cap bytes and no newline: the line is over max_line */
		r->len = 0;
		r->discarding = true;
		return AP_READ_TOOLONG;
	}
	return AP_READ_MORE;
}

size_t
adminproto_reader_pending(const struct adminproto_reader *r)
{
	return r->discarding ? 0 : r->len - r->consumed;
}

/* ---- finding the socket ---- */

bool
adminproto_envfile_get(const char *path, const char *key, char *out,
    size_t cap)
{
	FILE	*f;
	char	 line[4096], *k, *v;
	size_t	 klen = strlen(key), n;
	bool	 found = false;

	if ((f = fopen(path, "r")) == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		k = line + strspn(line, " \t");
		if (strncmp(k, "export ", 7) == 0)
			k += 7;
		if (strncmp(k, key, klen) != 0 || k[klen] != '=')
			continue;
		v = k + klen + 1;
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') &&
		    v[n - 1] == v[0]) {
			v++;
			n -= 2;
		}
		v[n] = '\0';
		if (n > 0 && n < cap) {
			memcpy(out, v, n + 1);
			found = true;	/* later lines win, as in pdsd */
		}
	}
	fclose(f);
	return found;
}

const char *
adminproto_socket_path(const char *opt, const char *envfile, char *buf,
    size_t cap)
{
	char		 dir[PATH_MAX];
	const char	*s;

	if (opt != NULL)
		return opt;
	if ((s = getenv("PDSCTL_SOCKET")) != NULL && *s != '\0')
		return s;
	if (envfile != NULL) {
		if (adminproto_envfile_get(envfile, "PDS_ADMIN_SOCKET", buf,
		    cap))
			return buf;
		if (adminproto_envfile_get(envfile, "PDS_DATA_DIRECTORY", dir,
		    sizeof(dir)) && (size_t)snprintf(buf, cap, "%s/pdsd.sock",
		    dir) < cap)
			return buf;
	}
	if ((s = getenv("PDS_ADMIN_SOCKET")) != NULL && *s != '\0')
		return s;
	if ((s = getenv("PDS_DATA_DIRECTORY")) != NULL && *s != '\0' &&
	    (size_t)snprintf(buf, cap, "%s/pdsd.sock", s) < cap)
		return buf;
	return ADMINPROTO_DEFAULT_SOCKET;
}
