/*
 * plc_int: the field checks and list helper shared by plc.c (setters,
 * encoding) and plc_json.c (parsing).  Not for use outside those files.
 */
#ifndef PDS_PLC_INT_H
#define PDS_PLC_INT_H

#include <stdbool.h>
#include <stddef.h>

/* A did:key of a k256 or p256 key (rotation keys must be one). */
bool	plc_is_rotation_didkey(const char *s, const char **why);
/* A did:key of at most PLC_DIDKEY_MAX bytes (verification methods). */
bool	plc_is_vm_didkey(const char *s);
/* A map key of 1 to max bytes without '#'. */
bool	plc_is_id(const char *s, size_t max);
/* A CID in its string form. */
bool	plc_is_cid_str(const char *s);
/* Append a copy of s to the list v of *n strings (at most max). */
int	plc_strv_add(char **v, size_t *n, size_t max, const char *s);

#endif
