/*
 * curl_lazy: libcurl is loaded with dlopen() at its first use instead of
 * at exec.  pdsd only needs libcurl for outbound requests (the PLC
 * directory, DID documents, the AppView proxy, crawlers, SMTP), and the
 * library brings some twenty others with it (Kerberos, LDAP, SSH, RTMP,
 * HTTP/2, PSL, brotli, zstd...): about 2 MB of resident pages and their
 * relocation at every start, which an idle or just-started daemon does
 * not need.
 *
 * pdsd is linked without -lcurl (see the Makefile); this file defines the
 * libcurl functions pdsd calls and forwards each to the loaded library.
 * Programs that do link libcurl (the tests) get these definitions too,
 * and they forward to the same library.  If libcurl cannot be loaded, the
 * calls fail as libcurl's own failures do (NULL, CURLE_FAILED_INIT, ...).
 * Last, the glue pdsd's users of libcurl share (curl_lazy.h).
 */
#define CURL_DISABLE_TYPECHECK	/* plain prototypes, no setopt macros */

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

#include <curl/curl.h>

#include "curl_lazy.h"
#include "log.h"

/* curl 8.0.0 made curl_url_get() take a const handle. */
#if LIBCURL_VERSION_NUM >= 0x080000
#define URL_GET_CONST	const
#else
#define URL_GET_CONST
#endif

static const char *const sonames[] = {
	"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so",
};

static struct {
	CURLcode	(*global_init)(long);
	void		(*global_cleanup)(void);
	CURL		*(*easy_init)(void);
	void		(*easy_cleanup)(CURL *);
	void		(*easy_reset)(CURL *);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode	(*easy_perform)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	char		*(*easy_escape)(CURL *, const char *, int);
	CURLcode	(*easy_pause)(CURL *, int);
	void		(*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
	CURLM		*(*multi_init)(void);
	CURLMcode	(*multi_cleanup)(CURLM *);
	CURLMcode	(*multi_add_handle)(CURLM *, CURL *);
	CURLMcode	(*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode	(*multi_perform)(CURLM *, int *);
	CURLMcode	(*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int,
			    int, int *);
	CURLMsg		*(*multi_info_read)(CURLM *, int *);
	CURLU		*(*url)(void);
	void		(*url_cleanup)(CURLU *);
	CURLUcode	(*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode	(*url_get)(URL_GET_CONST CURLU *, CURLUPart, char **,
			    unsigned int);
} fn;
static int		 fn_ok;
static pthread_once_t	 fn_once = PTHREAD_ONCE_INIT;

#define LOAD(field, name) do {						\
	*(void **)&fn.field = dlsym(lib, name);				\
	if (fn.field == NULL)						\
		missing = name;						\
} while (0)

static void
fn_load(void)
{
	const char	*missing = NULL;
	void		*lib = NULL;
	size_t		 i;

	for (i = 0; lib == NULL && i < sizeof(sonames) / sizeof(sonames[0]);
	    i++)
		lib = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		log_warnx("libcurl: cannot load it: %s", dlerror());
		return;
	}
	LOAD(global_init, "curl_global_init");
	LOAD(global_cleanup, "curl_global_cleanup");
	LOAD(easy_init, "curl_easy_init");
	LOAD(easy_cleanup, "curl_easy_cleanup");
	LOAD(easy_reset, "curl_easy_reset");
	LOAD(easy_setopt, "curl_easy_setopt");
	LOAD(easy_getinfo, "curl_easy_getinfo");
	LOAD(easy_perform, "curl_easy_perform");
	LOAD(easy_strerror, "curl_easy_strerror");
	LOAD(easy_escape, "curl_easy_escape");
	LOAD(easy_pause, "curl_easy_pause");
	LOAD(free, "curl_free");
	LOAD(slist_append, "curl_slist_append");
	LOAD(slist_free_all, "curl_slist_free_all");
	LOAD(multi_init, "curl_multi_init");
	LOAD(multi_cleanup, "curl_multi_cleanup");
	LOAD(multi_add_handle, "curl_multi_add_handle");
	LOAD(multi_remove_handle, "curl_multi_remove_handle");
	LOAD(multi_perform, "curl_multi_perform");
	LOAD(multi_poll, "curl_multi_poll");
	LOAD(multi_info_read, "curl_multi_info_read");
	LOAD(url, "curl_url");
	LOAD(url_cleanup, "curl_url_cleanup");
	LOAD(url_set, "curl_url_set");
	LOAD(url_get, "curl_url_get");
	if (missing != NULL) {
		log_warnx("libcurl: no %s in the loaded library", missing);
		return;
	}
	fn_ok = 1;
}

static int
ready(void)
{
	pthread_once(&fn_once, fn_load);
	return fn_ok;
}

CURLcode
curl_global_init(long flags)
{
	return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

void
curl_global_cleanup(void)
{
	if (ready())
		fn.global_cleanup();
}

CURL *
curl_easy_init(void)
{
	return ready() ? fn.easy_init() : NULL;
}

void
curl_easy_cleanup(CURL *h)
{
	if (ready())
		fn.easy_cleanup(h);
}

void
curl_easy_reset(CURL *h)
{
	if (ready())
		fn.easy_reset(h);
}

/*
 * The option's number says the type of its argument (curl.h's
 * CURLOPTTYPE_* bases), so the argument is read with that type and
 * passed on with it.
 */
CURLcode
curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	va_list		 ap;
	CURLcode	 rc;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = fn.easy_setopt(h, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = fn.easy_setopt(h, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = fn.easy_setopt(h, opt, va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		rc = fn.easy_setopt(h, opt, va_arg(ap, curl_off_t));
	else
		rc = fn.easy_setopt(h, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* Every getinfo argument is a pointer to where the answer goes. */
CURLcode
curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	va_list		 ap;
	CURLcode	 rc;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = fn.easy_getinfo(h, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode
curl_easy_perform(CURL *h)
{
	return ready() ? fn.easy_perform(h) : CURLE_FAILED_INIT;
}

const char *
curl_easy_strerror(CURLcode c)
{
	return ready() ? fn.easy_strerror(c) : "libcurl could not be loaded";
}

char *
curl_easy_escape(CURL *h, const char *s, int len)
{
	return ready() ? fn.easy_escape(h, s, len) : NULL;
}

CURLcode
curl_easy_pause(CURL *h, int mask)
{
	return ready() ? fn.easy_pause(h, mask) : CURLE_FAILED_INIT;
}

void
curl_free(void *p)
{
	if (ready())
		fn.free(p);
}

struct curl_slist *
curl_slist_append(struct curl_slist *l, const char *s)
{
	return ready() ? fn.slist_append(l, s) : NULL;
}

void
curl_slist_free_all(struct curl_slist *l)
{
	if (ready())
		fn.slist_free_all(l);
}

CURLM *
curl_multi_init(void)
{
	return ready() ? fn.multi_init() : NULL;
}

CURLMcode
curl_multi_cleanup(CURLM *m)
{
	return ready() ? fn.multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}

CURLMcode
curl_multi_add_handle(CURLM *m, CURL *h)
{
	return ready() ? fn.multi_add_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode
curl_multi_remove_handle(CURLM *m, CURL *h)
{
	return ready() ? fn.multi_remove_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode
curl_multi_perform(CURLM *m, int *running)
{
	return ready() ? fn.multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode
curl_multi_poll(CURLM *m, struct curl_waitfd *fds, unsigned int nfds,
    int timeout_ms, int *numfds)
{
	return ready() ? fn.multi_poll(m, fds, nfds, timeout_ms, numfds) :
	    CURLM_INTERNAL_ERROR;
}

CURLMsg *
curl_multi_info_read(CURLM *m, int *left)
{
	return ready() ? fn.multi_info_read(m, left) : NULL;
}

CURLU *
curl_url(void)
{
	return ready() ? fn.url() : NULL;
}

void
curl_url_cleanup(CURLU *u)
{
	if (ready())
		fn.url_cleanup(u);
}

CURLUcode
curl_url_set(CURLU *u, CURLUPart part, const char *s, unsigned int flags)
{
	return ready() ? fn.url_set(u, part, s, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode
curl_url_get(URL_GET_CONST CURLU *u, CURLUPart part, char **out,
    unsigned int flags)
{
	return ready() ? fn.url_get(u, part, out, flags) :
	    CURLUE_OUT_OF_MEMORY;
}

void
curl_lazy_multi_free(CURLM *m, CURL *h)
{
	if (m != NULL && h != NULL)
		curl_multi_remove_handle(m, h);
	if (h != NULL)
		curl_easy_cleanup(h);
	if (m != NULL)
		curl_multi_cleanup(m);
}
