/*
 * handleres: reading the two answers a handle resolves by (atproto-notes
 * §9), both untrusted bytes from the network.
 *
 *  - A DNS answer to a TXT query for _atproto.<handle>: the message is
 *    taken apart with libresolv's parser (ns_initparse, ns_parserr); the
 *    TXT records of the name asked for, or of the names its CNAMEs lead
 *    to, are joined from their character-strings, and those starting
 *    with "did=" count.  Exactly one must: its remainder is the DID.
 *  - The body of https://<handle>/.well-known/atproto-did: its first
 *    line, without surrounding white space, must be a DID.
 *
 * Neither allocates; both are safe on any input (tests/fuzz).
 */
#ifndef PDS_HANDLERES_H
#define PDS_HANDLERES_H

#include <stddef.h>

#define HANDLERES_DID_MAX	2048

enum handleres_result {
	HANDLERES_OK = 0,	/* one DID, in did */
	HANDLERES_NONE,		/* no did= record; no DID in the body */
	HANDLERES_MANY,		/* more than one did= record */
	HANDLERES_BAD,		/* a did= record, or the body, is not a DID */
	HANDLERES_MALFORMED,	/* not a DNS message; not an answer to qname */
};

/*
 * The DID in a DNS answer msg[0..len) to the TXT query qname (without
 * a trailing dot).  did must hold HANDLERES_DID_MAX + 1 bytes; it is
 * set only for HANDLERES_OK.  *nrec, if not NULL, gets the number of
 * did= records seen.
 */
enum handleres_result handleres_dns(const unsigned char *msg, size_t len,
	    const char *qname, char *did, size_t *nrec);
/* The DID in a well-known body; did as above. */
enum handleres_result handleres_wellknown(const char *body, size_t len,
	    char *did);
/* "ok", "none", "multiple", "invalid", "malformed". */
const char *handleres_name(enum handleres_result);

#endif
