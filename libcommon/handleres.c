/*
 * handleres: the DID in a DNS TXT answer or a well-known body.  See
 * handleres.h.
 */
#include <arpa/nameser.h>
#include <resolv.h>

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "handleres.h"
#include "syntax.h"

#define CNAME_HOPS	8	/* names a TXT record may belong to */

struct names {
	char	 v[CNAME_HOPS][NS_MAXDNAME];
	int	 n;
};

static bool
names_has(const struct names *ns, const char *name)
{
	int	 i;

	for (i = 0; i < ns->n; i++)
		if (strcasecmp(ns->v[i], name) == 0)
			return true;
	return false;
}

/* Follow the answer's CNAMEs from the names already known. */
static void
names_follow(struct names *ns, ns_msg *m)
{
	ns_rr	 rr;
	char	 target[NS_MAXDNAME];
	int	 i, count = ns_msg_count(*m, ns_s_an), before;

	do {
		before = ns->n;
		for (i = 0; i < count && ns->n < CNAME_HOPS; i++) {
			if (ns_parserr(m, ns_s_an, i, &rr) != 0)
				return;
			if (ns_rr_type(rr) != ns_t_cname ||
			    ns_rr_class(rr) != ns_c_in ||
			    !names_has(ns, ns_rr_name(rr)))
				continue;
			if (dn_expand(ns_msg_base(*m), ns_msg_end(*m),
			    ns_rr_rdata(rr), target, sizeof(target)) < 0 ||
			    names_has(ns, target))
				continue;
			memcpy(ns->v[ns->n++], target, sizeof(target));
		}
	} while (ns->n > before && ns->n < CNAME_HOPS);
}

/*
 * Join one TXT record's character-strings into out (NUL-terminated);
 * false if the rdata is malformed or the text longer than outlen - 1.
 */
static bool
txt_join(const unsigned char *rd, size_t rdlen, char *out, size_t outlen,
    size_t *outn)
{
	size_t	 off = 0, n = 0, l;

	while (off < rdlen) {
		l = rd[off++];
		if (l > rdlen - off)
			return false;
		if (n + l >= outlen)
			return false;
		memcpy(out + n, rd + off, l);
		n += l;
		off += l;
	}
	out[n] = '\0';
	*outn = n;
	return true;
}

enum handleres_result
handleres_dns(const unsigned char *msg, size_t len, const char *qname,
    char *did, size_t *nrec)
{
	struct names	 ns;
	ns_msg		 m;
	ns_rr		 rr;
	char		 text[4 + HANDLERES_DID_MAX + 1];
	size_t		 n, found = 0;
	bool		 bad = false;
	int		 i, count;

	if (nrec != NULL)
		*nrec = 0;
	if (len > 65535 || strlen(qname) >= NS_MAXDNAME ||
	    ns_initparse(msg, (int)len, &m) != 0 ||
	    ns_msg_getflag(m, ns_f_qr) != 1)
		return HANDLERES_MALFORMED;
	if (ns_msg_getflag(m, ns_f_rcode) == ns_r_nxdomain)
		return HANDLERES_NONE;
	if (ns_msg_getflag(m, ns_f_rcode) != ns_r_noerror ||
	    ns_msg_count(m, ns_s_qd) != 1 ||
	    ns_parserr(&m, ns_s_qd, 0, &rr) != 0 ||
	    strcasecmp(ns_rr_name(rr), qname) != 0 ||
	    ns_rr_type(rr) != ns_t_txt)
		return HANDLERES_MALFORMED;
	memset(&ns, 0, sizeof(ns));
	memcpy(ns.v[0], qname, strlen(qname) + 1);
	ns.n = 1;
	names_follow(&ns, &m);
	count = ns_msg_count(m, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) != 0)
			return HANDLERES_MALFORMED;
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in ||
		    !names_has(&ns, ns_rr_name(rr)))
			continue;
		/* a record too long to hold a DID is not one of ours */
		if (!txt_join(ns_rr_rdata(rr), ns_rr_rdlen(rr), text,
		    sizeof(text), &n)) {
			if (ns_rr_rdlen(rr) > 0 && ns_rr_rdata(rr)[0] >= 4 &&
			    memcmp(ns_rr_rdata(rr) + 1, "did=", 4) == 0) {
				found++;
				bad = true;
			}
			continue;
		}
		if (n < 4 || memcmp(text, "did=", 4) != 0)
			continue;
		if (++found == 1 && syntax_is_did(text + 4, n - 4))
			memcpy(did, text + 4, n - 4 + 1);
		else
			bad = true;
	}
	if (nrec != NULL)
		*nrec = found;
	if (found == 0)
		return HANDLERES_NONE;
	if (found > 1)
		return HANDLERES_MANY;
	return bad ? HANDLERES_BAD : HANDLERES_OK;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum handleres_result
handleres_wellknown(const char *body, size_t len, char *did)
{
	const char	*p = body, *e;

	while (len > 0 && is_space(*p)) {
		p++;
		len--;
	}
	if (len == 0)
		return HANDLERES_NONE;
	if ((e = memchr(p, '\n', len)) == NULL)
		e = p + len;
	while (e > p && is_space(e[-1]))
		e--;
	if ((size_t)(e - p) > HANDLERES_DID_MAX ||
	    !syntax_is_did(p, (size_t)(e - p)))
		return HANDLERES_BAD;
	memcpy(did, p, (size_t)(e - p));
	did[e - p] = '\0';
	return HANDLERES_OK;
}

const char *
handleres_name(enum handleres_result r)
{
	switch (r) {
	case HANDLERES_OK:		return "ok";
	case HANDLERES_NONE:		return "none";
	case HANDLERES_MANY:		return "multiple";
	case HANDLERES_BAD:		return "invalid";
	case HANDLERES_MALFORMED:	return "malformed";
	}
	return "?";
}
