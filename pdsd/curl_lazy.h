/*
 * curl_lazy: libcurl, loaded at its first use (see curl_lazy.c), and
 * the glue its users share.
 */
#ifndef PDSD_CURL_LAZY_H
#define PDSD_CURL_LAZY_H

#include <curl/curl.h>

/*
 * Free an easy handle that runs on a multi handle of its own: h is taken
 * off m, then both are cleaned up.  Either may be NULL.
 */
void	curl_lazy_multi_free(CURLM *m, CURL *h);

#endif
