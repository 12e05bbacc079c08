/*
 * api: the prototype of every XRPC handler named in xrpc_methods.h.
 * A module implements the ones it owns (include this header so the
 * compiler checks the signature); the rest answer 501 until then.
 */
#ifndef PDSD_API_H
#define PDSD_API_H

#include "xrpc.h"

#define XF(f)	0
#define X(nsid, fn, m, auth, flags, in, max, rate) \
	int fn(struct xrpc_ctx *);
#include "xrpc_methods.h"
#undef X
#undef XF

#endif
