/*
 * Unit tests: handleres, the DID in a DNS TXT answer and in a
 * /.well-known/atproto-did body.  The DNS answers are built here byte
 * by byte (RFC 1035 §4), so that each rule has a message of its own:
 * one did= record, several, split character-strings, CNAMEs, other
 * names, bad DIDs, NXDOMAIN, and broken messages.  The corpus of
 * tests/fuzz/fuzz_handleres is written from the same messages when
 * HANDLERES_WRITE_CORPUS names a directory.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "handleres.h"
#include "t.h"

#define QNAME	"_atproto.alice.example.com"
#define DID	"did:plc:ewvi7nxzyoun6zhxrhs64oiz"
#define DID2	"did:plc:44ybard66vv44zksje25o7dz"

struct msg {
	unsigned char	 b[4096];
	size_t		 n;
	int		 an;
};

static void
put8(struct msg *m, unsigned v)
{
	m->b[m->n++] = (unsigned char)v;
}

static void
put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void
put_name(struct msg *m, const char *name)
{
	const char	*p = name, *dot;
	size_t		 l;

	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);
		put8(m, (unsigned)l);
		memcpy(m->b + m->n, p, l);
		m->n += l;
		p += l + (dot ? 1 : 0);
	}
	put8(m, 0);
}

/* A response header and the question; rcode in the low bits. */
static void
msg_start(struct msg *m, unsigned rcode, const char *qname)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);		/* id */
	put16(m, 0x8180 | rcode);	/* QR, RD, RA */
	put16(m, 1);			/* QDCOUNT */
	put16(m, 0);			/* ANCOUNT, set by msg_rr */
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, 16);			/* TXT */
	put16(m, 1);			/* IN */
}

static void
rr_head(struct msg *m, const char *owner, unsigned type, size_t rdlen)
{
	if (owner == NULL) {
		put16(m, 0xc00c);	/* compressed: the question's name */
	} else
		put_name(m, owner);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300);			/* TTL */
	put16(m, (unsigned)rdlen);
	m->an++;
	m->b[6] = (unsigned char)(m->an >> 8);
	m->b[7] = (unsigned char)(m->an & 0xff);
}

/* A TXT record of the character-strings in parts (NULL-terminated). */
static void
msg_txt(struct msg *m, const char *owner, const char *const *parts)
{
	size_t	 rdlen = 0, i;

	for (i = 0; parts[i] != NULL; i++)
		rdlen += 1 + strlen(parts[i]);
	rr_head(m, owner, 16, rdlen);
	for (i = 0; parts[i] != NULL; i++) {
		put8(m, (unsigned)strlen(parts[i]));
		memcpy(m->b + m->n, parts[i], strlen(parts[i]));
		m->n += strlen(parts[i]);
	}
}

static void
msg_txt1(struct msg *m, const char *owner, const char *text)
{
	const char	*parts[] = { text, NULL };

	msg_txt(m, owner, parts);
}

static void
msg_cname(struct msg *m, const char *owner, const char *target)
{
	struct msg	 t;

	t.n = 0;
	put_name(&t, target);
	rr_head(m, owner, 5, t.n);
	memcpy(m->b + m->n, t.b, t.n);
	m->n += t.n;
}

static const char *corpus_dir;
static int corpus_n;

static enum handleres_result
run(const struct msg *m, char *did, size_t *nrec)
{
	char	 path[512];
	FILE	*f;

	if (corpus_dir != NULL) {
		snprintf(path, sizeof(path), "%s/dns-%02d", corpus_dir,
		    corpus_n++);
		if ((f = fopen(path, "wb")) != NULL) {
			/* the harness reads the query name from the first line */
			fprintf(f, "%s\n", QNAME);
			fwrite(m->b, 1, m->n, f);
			fclose(f);
		}
	}
	return handleres_dns(m->b, m->n, QNAME, did, nrec);
}

static void
test_dns(void)
{
	struct msg	 m;
	char		 did[HANDLERES_DID_MAX + 1];
	size_t		 nrec;
	enum handleres_result r;

	t_group("dns");
	msg_start(&m, 0, QNAME);
	msg_txt1(&m, NULL, "did=" DID);
	r = run(&m, did, &nrec);
	CHECK(r == HANDLERES_OK && strcmp(did, DID) == 0 && nrec == 1,
	    "one record: %s", handleres_name(r));

	msg_start(&m, 0, QNAME);
	msg_txt1(&m, NULL, "v=spf1 -all");
	msg_txt1(&m, QNAME, "did=" DID);
	r = run(&m, did, &nrec);
	CHECK(r == HANDLERES_OK && strcmp(did, DID) == 0,
	    "another TXT record beside it: %s", handleres_name(r));

	msg_start(&m, 0, QNAME);
	msg_txt1(&m, NULL, "did=" DID);
	msg_txt1(&m, NULL, "did=" DID2);
	r = run(&m, did, &nrec);
	CHECK(r == HANDLERES_MANY && nrec == 2, "two did= records: %s",
	    handleres_name(r));

	{
		const char *parts[] = { "did=did:plc:", "ewvi7nxzyoun6zhxrhs64oiz",
		    NULL };
		msg_start(&m, 0, QNAME);
		msg_txt(&m, NULL, parts);
		r = run(&m, did, NULL);
		CHECK(r == HANDLERES_OK && strcmp(did, DID) == 0,
		    "split character-strings are joined: %s",
		    handleres_name(r));
	}

	msg_start(&m, 0, QNAME);
	msg_cname(&m, NULL, "handles.example.net");
	msg_cname(&m, "handles.example.net", "alice.handles.example.org");
	msg_txt1(&m, "alice.handles.example.org", "did=" DID);
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_OK && strcmp(did, DID) == 0,
	    "through two CNAMEs: %s", handleres_name(r));

	msg_start(&m, 0, QNAME);
	msg_txt1(&m, "_atproto.bob.example.com", "did=" DID);
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_NONE, "another name's record: %s",
	    handleres_name(r));

	msg_start(&m, 0, "_ATPROTO.Alice.Example.COM");
	msg_txt1(&m, "_atproto.ALICE.example.com", "did=" DID);
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_OK, "names compare without case: %s",
	    handleres_name(r));

	msg_start(&m, 0, QNAME);
	msg_txt1(&m, NULL, "did=not a did");
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_BAD, "did= but not a DID: %s", handleres_name(r));

	msg_start(&m, 0, QNAME);
	msg_txt1(&m, NULL, "DID=" DID);
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_NONE, "the prefix is lower-case did=: %s",
	    handleres_name(r));

	msg_start(&m, 0, QNAME);
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_NONE, "no answer: %s", handleres_name(r));

	msg_start(&m, 3, QNAME);
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_NONE, "NXDOMAIN: %s", handleres_name(r));

	msg_start(&m, 2, QNAME);
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_MALFORMED, "SERVFAIL: %s", handleres_name(r));

	msg_start(&m, 0, "_atproto.mallory.example.com");
	msg_txt1(&m, NULL, "did=" DID);
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_MALFORMED, "an answer to another question: %s",
	    handleres_name(r));

	msg_start(&m, 0, QNAME);
	msg_txt1(&m, NULL, "did=" DID);
	m.b[2] &= 0x7f;				/* a query, not a response */
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_MALFORMED, "QR clear: %s", handleres_name(r));

	msg_start(&m, 0, QNAME);
	msg_txt1(&m, NULL, "did=" DID);
	m.n -= 5;				/* cut short */
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_MALFORMED, "truncated: %s", handleres_name(r));

	msg_start(&m, 0, QNAME);
	msg_txt1(&m, NULL, "did=" DID);
	m.b[m.n - strlen("did=" DID) - 1] = 200;  /* string past the rdata */
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_BAD, "a character-string longer than its "
	    "record: %s", handleres_name(r));

	msg_start(&m, 0, QNAME);
	msg_cname(&m, NULL, QNAME);		/* a loop */
	msg_txt1(&m, NULL, "did=" DID);
	r = run(&m, did, NULL);
	CHECK(r == HANDLERES_OK, "a CNAME loop is harmless: %s",
	    handleres_name(r));
	t_group_end();
}

static void
test_wellknown(void)
{
	char	 did[HANDLERES_DID_MAX + 1];
	enum handleres_result r;

	t_group("well-known");
	r = handleres_wellknown(DID, strlen(DID), did);
	CHECK(r == HANDLERES_OK && strcmp(did, DID) == 0, "bare DID");
	r = handleres_wellknown("  " DID " \r\nmore\n", strlen(DID) + 11, did);
	CHECK(r == HANDLERES_OK && strcmp(did, DID) == 0,
	    "trimmed first line");
	r = handleres_wellknown(" \n", 2, did);
	CHECK(r == HANDLERES_NONE, "empty body");
	r = handleres_wellknown("<html>", 6, did);
	CHECK(r == HANDLERES_BAD, "a page");
	r = handleres_wellknown("did:plc:a\0b", 11, did);
	CHECK(r == HANDLERES_BAD, "a NUL inside");
	t_group_end();
}

int
main(void)
{
	corpus_dir = getenv("HANDLERES_WRITE_CORPUS");
	test_dns();
	test_wellknown();
	return t_done("test_handleres");
}
