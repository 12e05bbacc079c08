/*
 * s3xml: the few facts pdsd reads from an S3 server's XML answers
 * (CreateMultipartUpload's UploadId, ListObjectsV2's keys and
 * continuation token, an Error's Code and Message).  Not an XML parser:
 * it finds the text between <Tag> and </Tag> and decodes the five
 * predefined entities and numeric character references.  The input is
 * untrusted (whatever answers at the configured endpoint) and need not
 * be NUL-terminated.
 */
#ifndef PDS_S3XML_H
#define PDS_S3XML_H

#include <stddef.h>

/*
 * The text of the next element named tag (no namespace prefix) at or
 * after *pos in xml[0..len): decoded into out (cap bytes, always
 * NUL-terminated), *pos moved past its end tag.  PDS_OK, PDS_ENOTFOUND
 * (no such element: *pos unchanged), PDS_ETOOBIG (the text does not fit
 * out) or PDS_EINVAL (no end tag, or a bad entity).
 */
int	s3xml_next(const char *xml, size_t len, const char *tag, size_t *pos,
	    char *out, size_t cap);

/* The first such element's text: s3xml_next() from 0. */
int	s3xml_get(const char *xml, size_t len, const char *tag, char *out,
	    size_t cap);

#endif
