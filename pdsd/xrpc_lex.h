/*
 * xrpc_lex: XRPC query parameters and JSON input bodies checked against
 * a method's lexicon (the compiled table of lexicon.h), before the
 * handler runs, as the reference's XRPC server checks them.
 *
 * The rules and the messages are the reference's (its lex-schema
 * validator): parameters with an empty value are absent, unknown ones
 * are allowed, an integer is /-?[0-9]+/, a boolean "true" or "false",
 * a repeated parameter is an array; the first problem found is
 * reported, as "Invalid <nsid> params: <issue>" for parameters and
 * "<issue> at $.<path>" for input.  Neither check allocates.
 */
#ifndef PDSD_XRPC_LEX_H
#define PDSD_XRPC_LEX_H

#include <stddef.h>

#include <jansson.h>

#include "lexicon.h"

/* One query parameter, decoded, in the order sent. */
struct xrpc_qparam {
	const char	*key;
	const char	*value;
};

/*
 * Check the query parameters q[0..n) against `params' (a params node,
 * from the method's def) of method nsid: 0, or -1 with the message.
 */
int	xrpc_lex_params(const struct lex_table *, const struct lex_node *params,
	    const char *nsid, const struct xrpc_qparam *q, size_t n,
	    char *msg, size_t msglen);

/*
 * Check a JSON input body against the input schema node `schema': 0, or
 * -1 with the message.
 */
int	xrpc_lex_input(const struct lex_table *, const struct lex_node *schema,
	    const json_t *body, char *msg, size_t msglen);

/*
 * The params node and the JSON input schema of method nsid in the table,
 * each NULL when it has none.
 */
void	xrpc_lex_method(const struct lex_table *, const char *nsid,
	    const struct lex_node **params, const struct lex_node **input);

#endif
