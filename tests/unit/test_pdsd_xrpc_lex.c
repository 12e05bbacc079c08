/*
 * test_pdsd_xrpc_lex: XRPC query parameters and JSON input checked
 * against the compiled lexicon table (pdsd/xrpc_lex.c), with the
 * messages the reference PDS answers for the same requests (observed by
 * running it; tests/interop/test_xrpc_input_diff.mjs compares the two
 * servers request by request).
 *
 *   - parameters: required, empty values taken for absent, unknown ones
 *     allowed, integers /-?[0-9]+/ within minimum and maximum, booleans
 *     "true"/"false", repeated scalars refused, arrays and their items,
 *     string formats (at-identifier, nsid, did, cid);
 *   - input: not an object, a missing property, wrong types, formats,
 *     string and integer limits, closed and open unions, nested paths;
 *   - the route table: which methods are checked, and not the forwarded
 *     ones or binary inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "t.h"
#include "../../pdsd/lexicon.h"
#include "../../pdsd/xrpc.h"
#include "../../pdsd/xrpc_lex.h"

#define DID	"did:plc:44jglf6lfcrhm7nnler3zche"
#define CID	"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"

/*
 * Check query string qs ("k=v&k=v", no escapes) of nsid; want NULL for
 * valid, else the message.
 */
static void
params_case(const char *nsid, const char *qs, const char *want)
{
	const struct lex_node *params, *input;
	struct xrpc_qparam q[16];
	char		 buf[512], msg[256], *p, *amp, *eq;
	size_t		 n = 0;
	int		 rc;

	snprintf(buf, sizeof(buf), "%s", qs);
	for (p = buf; *p != '\0' && n < 16; p = amp) {
		if ((amp = strchr(p, '&')) != NULL)
			*amp++ = '\0';
		else
			amp = p + strlen(p);
		q[n].key = p;
		if ((eq = strchr(p, '=')) != NULL) {
			*eq = '\0';
			q[n].value = eq + 1;
		} else
			q[n].value = "";
		n++;
	}
	xrpc_lex_method(&lex_builtin, nsid, &params, &input);
	CHECK(params != NULL, "%s has params", nsid);
	rc = xrpc_lex_params(&lex_builtin, params, nsid, q, n, msg,
	    sizeof(msg));
	if (want == NULL)
		CHECK(rc == 0, "%s?%s: refused: %s", nsid, qs, msg);
	else
		CHECK(rc != 0 && strcmp(msg, want) == 0,
		    "%s?%s: rc %d, got \"%s\", want \"%s\"", nsid, qs, rc,
		    msg, want);
}

static void
test_params(void)
{
	const char *gr = "com.atproto.repo.getRecord";
	const char *lr = "com.atproto.repo.listRecords";

	t_group("params");
	params_case(gr, "repo=" DID "&collection=app.bsky.feed.post&rkey=x",
	    NULL);
	params_case(gr, "repo=alice.test&collection=app.bsky.feed.post&"
	    "rkey=x&unknown=1&unknown=2", NULL);
	params_case(gr, "collection=app.bsky.feed.post",
	    "Invalid com.atproto.repo.getRecord params: Missing required key "
	    "\"repo\"");
	params_case(gr, "repo=&collection=app.bsky.feed.post&rkey=x",
	    "Invalid com.atproto.repo.getRecord params: Missing required key "
	    "\"repo\"");
	params_case(gr, "repo=bad!&collection=app.bsky.feed.post&rkey=x",
	    "Invalid com.atproto.repo.getRecord params: Invalid AT "
	    "identifier (got \"bad!\")");
	params_case(gr, "repo=" DID "&collection=nonsid&rkey=x",
	    "Invalid com.atproto.repo.getRecord params: Invalid NSID (got "
	    "\"nonsid\")");
	params_case(gr, "repo=" DID "&collection=app.bsky.feed.post&rkey=x&"
	    "cid=bad", "Invalid com.atproto.repo.getRecord params: Invalid "
	    "CID string (got \"bad\")");
	/* the record validator's looser cid format is not enough here */
	params_case(gr, "repo=" DID "&collection=app.bsky.feed.post&rkey=x&"
	    "cid=1234567890abc", "Invalid com.atproto.repo.getRecord params: "
	    "Invalid CID string (got \"1234567890abc\")");
	params_case(gr, "repo=" DID "&collection=app.bsky.feed.post&rkey=x&"
	    "cid=" CID, NULL);

	params_case(lr, "repo=" DID "&collection=a.b.c&limit=100&"
	    "reverse=false", NULL);
	params_case(lr, "repo=" DID "&collection=a.b.c&limit=101",
	    "Invalid com.atproto.repo.listRecords params: integer too big "
	    "(maximum 100, got 101)");
	params_case(lr, "repo=" DID "&collection=a.b.c&limit=0",
	    "Invalid com.atproto.repo.listRecords params: integer too small "
	    "(minimum 1, got 0)");
	params_case(lr, "repo=" DID "&collection=a.b.c&limit=abc",
	    "Invalid com.atproto.repo.listRecords params: Expected integer "
	    "value type (got \"abc\")");
	params_case(lr, "repo=" DID "&collection=a.b.c&limit=1.5",
	    "Invalid com.atproto.repo.listRecords params: Expected integer "
	    "value type (got \"1.5\")");
	params_case(lr, "repo=" DID "&collection=a.b.c&limit=", NULL);
	/* Number(), which must be a safe integer, and written as JS does */
	params_case(lr, "repo=" DID "&collection=a.b.c&limit="
	    "99999999999999999999", "Invalid com.atproto.repo.listRecords "
	    "params: Expected integer value type (got 100000000000000000000)");
	params_case(lr, "repo=" DID "&collection=a.b.c&limit="
	    "9007199254740993", "Invalid com.atproto.repo.listRecords params: "
	    "Expected integer value type (got 9007199254740992)");
	params_case(lr, "repo=" DID "&collection=a.b.c&reverse=yes",
	    "Invalid com.atproto.repo.listRecords params: Expected boolean "
	    "value type (got \"yes\")");
	params_case(lr, "repo=" DID "&collection=a.b.c&limit=5&limit=6",
	    "Invalid com.atproto.repo.listRecords params: Expected integer "
	    "value type (got [5, 6])");
	params_case(lr, "repo=" DID "&collection=a.b.c&repo=" DID,
	    "Invalid com.atproto.repo.listRecords params: Expected string "
	    "value type (got [\"" DID "\", \"" DID "\"])");
	/* coercions first, in the order sent; then the schema's order */
	params_case(lr, "limit=x&reverse=1",
	    "Invalid com.atproto.repo.listRecords params: Expected integer "
	    "value type (got \"x\")");
	params_case(lr, "reverse=1&limit=x",
	    "Invalid com.atproto.repo.listRecords params: Expected boolean "
	    "value type (got \"1\")");
	params_case(lr, "limit=500",
	    "Invalid com.atproto.repo.listRecords params: Missing required "
	    "key \"repo\"");

	params_case("com.atproto.sync.getBlocks", "did=" DID "&cids=" CID
	    "&cids=" CID, NULL);
	params_case("com.atproto.sync.getBlocks", "did=" DID "&cids=bad",
	    "Invalid com.atproto.sync.getBlocks params: Invalid CID string "
	    "(got \"bad\")");
	params_case("com.atproto.sync.getBlocks", "did=" DID,
	    "Invalid com.atproto.sync.getBlocks params: Missing required key "
	    "\"cids\"");
	params_case("com.atproto.sync.listBlobs", "did=" DID "&limit=1001",
	    "Invalid com.atproto.sync.listBlobs params: integer too big "
	    "(maximum 1000, got 1001)");
	params_case("com.atproto.identity.resolveHandle", "handle=bad..h",
	    "Invalid com.atproto.identity.resolveHandle params: Invalid "
	    "handle (got \"bad..h\")");
	t_group_end();
}

/* Check JSON body js of nsid: want NULL for valid, else the message. */
static void
input_case(const char *nsid, const char *js, const char *want)
{
	const struct lex_node *params, *input;
	json_error_t	 e;
	json_t		*j = json_loads(js, JSON_DECODE_ANY, &e);
	char		 msg[256];
	int		 rc;

	CHECK(j != NULL, "%s: bad test JSON: %s", js, e.text);
	if (j == NULL)
		return;
	xrpc_lex_method(&lex_builtin, nsid, &params, &input);
	CHECK(input != NULL, "%s has an input schema", nsid);
	rc = xrpc_lex_input(&lex_builtin, input, j, msg, sizeof(msg));
	if (want == NULL)
		CHECK(rc == 0, "%s %s: refused: %s", nsid, js, msg);
	else
		CHECK(rc != 0 && strcmp(msg, want) == 0,
		    "%s %s: rc %d, got \"%s\", want \"%s\"", nsid, js, rc,
		    msg, want);
	json_decref(j);
}

static void
test_input(void)
{
	const char *cs = "com.atproto.server.createSession";
	const char *cr = "com.atproto.repo.createRecord";
	const char *aw = "com.atproto.repo.applyWrites";
	char	 a600[601], body[800];

	t_group("input");
	input_case(cs, "{\"identifier\":\"a.test\",\"password\":\"x\","
	    "\"extra\":1}", NULL);
	input_case(cs, "{}", "Missing required key \"identifier\" at $");
	input_case(cs, "{\"identifier\":5,\"password\":\"x\"}",
	    "Expected string value type (got 5) at $.identifier");
	input_case(cs, "{\"identifier\":\"alice.test\"}",
	    "Missing required key \"password\" at $");
	input_case(cs, "[1]", "Expected object value type (got [1]) at $");
	input_case(cs, "{\"identifier\":null,\"password\":\"x\"}",
	    "Expected string value type (got null) at $.identifier");
	input_case("com.atproto.server.createAccount",
	    "{\"handle\":\"bad..handle\",\"email\":\"b@x.test\","
	    "\"password\":\"x\"}",
	    "Invalid handle (got \"bad..handle\") at $.handle");
	input_case("com.atproto.server.createAccount",
	    "{\"handle\":\"bob.test\",\"did\":\"notadid\",\"password\":\"x\"}",
	    "Invalid DID (got \"notadid\") at $.did");
	input_case(cr, "{\"repo\":\"" DID "\",\"collection\":\"a.b.c\"}",
	    "Missing required key \"record\" at $");
	input_case(cr, "{\"repo\":\"" DID "\",\"collection\":\"a.b.c\","
	    "\"record\":\"str\"}",
	    "Expected object value type (got \"str\") at $.record");
	input_case(cr, "{\"repo\":\"" DID "\",\"collection\":\"a.b.c\","
	    "\"validate\":\"yes\",\"record\":{}}",
	    "Expected boolean value type (got \"yes\") at $.validate");
	input_case(cr, "{\"repo\":\"" DID "\",\"collection\":\"a.b.c\","
	    "\"swapCommit\":\"x\",\"record\":{}}",
	    "Invalid CID string (got \"x\") at $.swapCommit");
	memset(a600, 'a', 600);
	a600[600] = '\0';
	snprintf(body, sizeof(body), "{\"repo\":\"" DID "\","
	    "\"collection\":\"a.b.c\",\"rkey\":\"%s\",\"record\":{}}", a600);
	input_case(cr, body, "string too big (maximum 512, got 600) at $.rkey");
	input_case(aw, "{\"repo\":\"" DID "\",\"writes\":[{\"$type\":"
	    "\"com.atproto.repo.applyWrites#create\",\"collection\":\"a.b.c\","
	    "\"value\":{}}]}", NULL);
	input_case(aw, "{\"repo\":\"" DID "\",\"writes\":[{\"collection\":"
	    "\"a.b.c\",\"value\":{}}]}", "Expected an object which includes "
	    "the \"$type\" property value type (got {\"collection\": ..., "
	    "\"value\": ...}) at $.writes[0]");
	input_case(aw, "{\"repo\":\"" DID "\",\"writes\":[{\"$type\":"
	    "\"com.atproto.repo.applyWrites#nope\",\"collection\":\"a.b.c\","
	    "\"value\":{}}]}", "Expected one of "
	    "\"com.atproto.repo.applyWrites#create\", "
	    "\"com.atproto.repo.applyWrites#update\" or "
	    "\"com.atproto.repo.applyWrites#delete\" (got "
	    "\"com.atproto.repo.applyWrites#nope\") at $.writes[0].$type");
	input_case(aw, "{\"repo\":\"" DID "\",\"writes\":[{\"$type\":"
	    "\"com.atproto.repo.applyWrites#delete\",\"collection\":\"a.b.c\","
	    "\"rkey\":5}]}",
	    "Expected string value type (got 5) at $.writes[0].rkey");
	input_case("com.atproto.server.createInviteCode",
	    "{\"useCount\":1152921504606846976}", "Expected integer value "
	    "type (got 1152921504606847000) at $.useCount");
	input_case("com.atproto.server.createInviteCode",
	    "{\"useCount\":1e21}", "Expected integer value type (got 1e+21) "
	    "at $.useCount");
	input_case(aw, "{\"repo\":\"" DID "\",\"writes\":5}",
	    "Expected array value type (got 5) at $.writes");
	input_case("com.atproto.server.createAppPassword",
	    "{\"name\":\"x\",\"privileged\":\"yes\"}",
	    "Expected boolean value type (got \"yes\") at $.privileged");
	input_case("com.atproto.repo.deleteRecord", "{\"repo\":\"" DID "\","
	    "\"collection\":\"a.b.c\"}", "Missing required key \"rkey\" at $");
	t_group_end();
}

/* The router checks its own methods, not forwarded ones or bytes. */
static void
test_routes(void)
{
	const struct lex_node *params, *input;
	const struct xrpc_route *rt;
	static const struct {
		const char	*nsid;
		int		 params, input;
	} want[] = {
		{ "com.atproto.repo.getRecord", 1, 0 },
		{ "com.atproto.repo.listRecords", 1, 0 },
		{ "com.atproto.repo.createRecord", 0, 1 },
		{ "com.atproto.server.createAccount", 0, 1 },
		{ "com.atproto.repo.uploadBlob", 0, 0 },
		{ "com.atproto.repo.importRepo", 0, 0 },
		{ "com.atproto.moderation.createReport", 0, 0 },
		{ "app.bsky.feed.getTimeline", 0, 0 },
		{ "app.bsky.actor.getProfile", 0, 0 },
	};
	size_t	 i;

	t_group("routes");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		rt = xrpc_route_find(want[i].nsid);
		CHECK(rt != NULL, "%s is routed", want[i].nsid);
		if (rt == NULL)
			continue;
		xrpc_route_lex(rt, &params, &input);
		CHECK((params != NULL) == want[i].params &&
		    (input != NULL) == want[i].input, "%s: params %d input %d",
		    want[i].nsid, params != NULL, input != NULL);
	}
	t_group_end();
}

int
main(void)
{
	test_params();
	test_input();
	test_routes();
	return t_done("test_pdsd_xrpc_lex");
}
