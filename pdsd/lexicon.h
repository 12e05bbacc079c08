/*
 * lexicon: lexicon schemas as a flat table, and one validator that walks
 * a data-model value against them.
 *
 * A table is four arrays: the defs (sorted by id, for bsearch), the
 * schema nodes, the items of the nodes' lists (object properties, union
 * refs, enum values, blob accept types) and the strings they name.  The
 * table compiled into pdsd (lex_builtin) is generated at build time from
 * lexicons/ by scripts/lexgen.c, which uses the same builder
 * (lexicon_build.c) that can build a table at run time from lexicon
 * documents parsed by jansson; the validator cannot tell them apart.
 *
 * Def ids are "nsid" for a document's main def and "nsid#name" for the
 * others.  Refs are resolved to node indexes when a table is built.
 *
 * The validation rules, and the error messages, are those of the
 * reference validator (@atproto/lexicon): messages name the path of the
 * value ("Record/embed/images/0 ..."); knownValues are not enforced.
 */
#ifndef PDSD_LEXICON_H
#define PDSD_LEXICON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cbor.h"

enum lex_type {
	LEX_NONE, LEX_BOOLEAN, LEX_INTEGER, LEX_STRING, LEX_BYTES,
	LEX_CIDLINK, LEX_BLOB, LEX_ARRAY, LEX_OBJECT, LEX_PARAMS, LEX_REF,
	LEX_UNION, LEX_UNKNOWN, LEX_TOKEN, LEX_RECORD, LEX_QUERY,
	LEX_PROCEDURE, LEX_SUBSCRIPTION, LEX_PERMSET, LEX_NTYPES
};

enum lex_format {
	LEXF_NONE, LEXF_DATETIME, LEXF_URI, LEXF_ATURI, LEXF_DID,
	LEXF_HANDLE, LEXF_ATID, LEXF_NSID, LEXF_CID, LEXF_LANGUAGE,
	LEXF_TID, LEXF_RKEY, LEXF_NFORMATS
};

/* lex_node.flags */
#define LEXN_MIN	0x0001	/* min: minimum, minLength */
#define LEXN_MAX	0x0002	/* max: maximum, maxLength, maxSize */
#define LEXN_GMIN	0x0004	/* gmin: minGraphemes */
#define LEXN_GMAX	0x0008	/* gmax: maxGraphemes */
#define LEXN_CONST	0x0010	/* k: the const (a string index for strings) */
#define LEXN_DEFAULT	0x0020	/* d: the default (idem) */
#define LEXN_ENUM	0x0040	/* list: the enum values, as strings */
#define LEXN_CLOSED	0x0080	/* a closed union */

/* lex_item.flags */
#define LEXI_REQUIRED	0x01
#define LEXI_NULLABLE	0x02

#define LEX_NOREF	UINT32_MAX

/*
 * One schema node.  By type:
 *   string     min/max (UTF-8 bytes), gmin/gmax, format, k/d, list (enum)
 *   integer    min/max, k/d, list (enum, as decimal strings)
 *   boolean    k/d (0 or 1)
 *   bytes      min/max;  array: min/max and sub (the items)
 *   blob       max (maxSize), list (accept)
 *   object, params   list (properties in schema order)
 *   ref        sub (the target node, or LEX_NOREF), k (its name)
 *   union      list (refs: name and target node)
 *   record     sub (the object), k (the key: "tid", "any", "literal:x")
 *   query, procedure, subscription   sub (params or LEX_NOREF),
 *              k (input schema node, or -1)
 */
struct lex_node {
	uint8_t		 type;
	uint8_t		 format;
	uint16_t	 flags;
	uint32_t	 sub;
	uint32_t	 list, n;
	uint32_t	 gmin, gmax;
	int64_t		 min, max;
	int64_t		 k, d;
};

struct lex_item {
	uint32_t	 name;		/* string index */
	uint32_t	 node;		/* property schema, or union target */
	uint32_t	 flags;
};

struct lex_def {
	uint32_t	 id;		/* string index */
	uint32_t	 node;
};

struct lex_table {
	const struct lex_def	*defs;
	const struct lex_node	*nodes;
	const struct lex_item	*items;
	const char *const	*strs;
	uint32_t		 ndefs, nnodes, nitems, nstrs;
};

/* The table generated from lexicons/ at build time. */
extern const struct lex_table lex_builtin;

/* ---- building a table from lexicon documents (lexicon_build.c) ---- */

struct lex_builder;

struct lex_builder *lex_builder_new(void);
/* Add one lexicon document; -1 with a reason in err on a bad one. */
int	lex_builder_add(struct lex_builder *, const json_t *doc,
	    char *err, size_t errlen);
/*
 * Sort the defs and resolve the refs.  The table belongs to the builder
 * and lives until lex_builder_free().
 */
const struct lex_table *lex_builder_finish(struct lex_builder *);
void	lex_builder_free(struct lex_builder *);

/* ---- lookup and validation (lexicon_validate.c) ---- */

/* The node of def `id' ("nsid", "nsid#main" or "nsid#name"), or NULL. */
const struct lex_node *lex_def_find(const struct lex_table *,
	    const char *id, size_t len);
/* The record def of `collection', or NULL when it has none. */
const struct lex_node *lex_record_find(const struct lex_table *,
	    const char *collection);

/* lex_validate flags */
#define LEXV_BLOBS	0x01	/* check blobs against accept and maxSize */

struct lex_verr {
	const char	*name;		/* an XRPC error name, or NULL: InvalidRequest */
	char		 msg[256];
};

/*
 * Validate `value' as a record of the record def `rec' (from
 * lex_record_find), with record key `rkey' (NULL: not checked).  0, or
 * -1 with the reference's message in err.
 */
int	lex_validate_record(const struct lex_table *,
	    const struct lex_node *rec, const char *rkey,
	    const struct dm_value *value, int flags, struct lex_verr *err);

/* Validate `value' against any node, naming it `path' in messages. */
int	lex_validate_value(const struct lex_table *,
	    const struct lex_node *, const char *path,
	    const struct dm_value *value, int flags, struct lex_verr *err);

/* Extended grapheme clusters in UTF-8 text (ICU); SIZE_MAX on failure. */
size_t	lex_graphemes(const uint8_t *, size_t);

#endif
