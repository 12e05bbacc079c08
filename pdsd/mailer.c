/*
 * mailer: SMTP through libcurl.  See mailer.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "mailer.h"
#include "module.h"
#include "offload.h"

#define MAIL_MAX	(64 * 1024)

static const struct config *mcfg;

int
mailer_init(const struct config *cfg)
{
	mcfg = cfg;
	if (cfg->email_smtp_url == NULL)
		log_info("mailer: no PDS_EMAIL_SMTP_URL; email tokens go to "
		    "the log and to `pdsctl account token'");
	if ((cfg->email_smtp_url != NULL ||
	    cfg->moderation_email_smtp_url != NULL) &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("mailer: libcurl failed to initialise");
		return PDS_EINTERNAL;
	}
	return PDS_OK;
}

static void
mailer_fini(void)
{
	mcfg = NULL;
}

PDSD_MODULE(mailer, mailer_init, mailer_fini)

bool
mailer_enabled(void)
{
	return mcfg != NULL && mcfg->email_smtp_url != NULL &&
	    mcfg->email_from_address != NULL;
}

static bool
has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* The bare address of "Name <addr>" or "addr". */
static int
bare_address(const char *in, char *out, size_t cap)
{
	const char	*lt, *gt;
	size_t		 n;

	if ((lt = strrchr(in, '<')) != NULL &&
	    (gt = strchr(lt, '>')) != NULL) {
		in = lt + 1;
		n = (size_t)(gt - in);
	} else
		n = strlen(in);
	if (n == 0 || n >= cap)
		return PDS_EINVAL;
	memcpy(out, in, n);
	out[n] = '\0';
	return strchr(out, '@') != NULL ? PDS_OK : PDS_EINVAL;
}

int
mailer_compose(struct buf *out, const char *from, const char *to,
    const char *subject, const char *text)
{
	char		 date[64], host[256], fromaddr[320];
	uint8_t		 rnd[12];
	struct tm	 tm;
	time_t		 now = time(NULL);
	const char	*p, *at;
	int		 rc = PDS_OK;

	if (from == NULL)
		from = mcfg != NULL ? mcfg->email_from_address : NULL;
	if (from == NULL || has_crlf(from) || has_crlf(to) ||
	    has_crlf(subject))
		return PDS_EINVAL;
	if (bare_address(from, fromaddr, sizeof(fromaddr)) != PDS_OK)
		return PDS_EINVAL;
	at = strchr(fromaddr, '@');
	snprintf(host, sizeof(host), "%s", at + 1);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	randombytes_buf(rnd, sizeof(rnd));
	if (buf_printf(out, "From: %s\r\nTo: %s\r\nSubject: %s\r\n"
	    "Date: %s\r\nMessage-ID: <", from, to, subject, date) != PDS_OK)
		return PDS_ENOMEM;
	for (size_t i = 0; i < sizeof(rnd); i++)
		if (buf_printf(out, "%02x", rnd[i]) != PDS_OK)
			return PDS_ENOMEM;
	if (buf_printf(out, "@%s>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n", host) != PDS_OK)
		return PDS_ENOMEM;
	/* The body with CRLF line ends (libcurl does the dot-stuffing). */
	for (p = text; *p != '\0' && rc == PDS_OK; p++) {
		if (*p == '\r')
			continue;
		rc = *p == '\n' ? buf_append(out, "\r\n", 2) :
		    buf_putc(out, (uint8_t)*p);
	}
	if (rc == PDS_OK && (out->len < 2 ||
	    memcmp(out->p + out->len - 2, "\r\n", 2) != 0))
		rc = buf_append(out, "\r\n", 2);
	return rc;
}

struct upload {
	const uint8_t	*p;
	size_t		 len, off;
};

static size_t
read_cb(char *dst, size_t size, size_t n, void *arg)
{
	struct upload	*u = arg;
	size_t		 room = size * n, left = u->len - u->off;

	if (room > left)
		room = left;
	memcpy(dst, u->p + u->off, room);
	u->off += room;
	return room;
}

/* One message to `to' through the SMTP server at url, from `from'. */
static int
send_via(const char *url, const char *from, const char *to,
    const char *subject, const char *text)
{
	struct buf		 msg;
	struct upload		 up;
	struct curl_slist	*rcpt = NULL;
	char			 fromaddr[320], toaddr[320];
	char			 errbuf[CURL_ERROR_SIZE];
	CURL			*c;
	CURLcode		 cc;
	long			 code = 0;
	int			 rc;

	if (has_crlf(to) || bare_address(to, toaddr, sizeof(toaddr)) !=
	    PDS_OK || bare_address(from, fromaddr, sizeof(fromaddr)) !=
	    PDS_OK)
		return PDS_EINVAL;
	if (offload_would_block()) {	/* an HTTP worker (offload.h) */
		log_warnx("mailer: \"%s\" not sent: on an HTTP worker",
		    subject);
		return PDS_EIO;
	}
	buf_init(&msg, MAIL_MAX);
	if ((rc = mailer_compose(&msg, from, to, subject, text)) != PDS_OK) {
		buf_clear(&msg);
		return rc;
	}
	if ((c = curl_easy_init()) == NULL ||
	    (rcpt = curl_slist_append(NULL, toaddr)) == NULL) {
		if (c != NULL)
			curl_easy_cleanup(c);
		buf_clear(&msg);
		return PDS_ENOMEM;
	}
	up.p = msg.p;
	up.len = msg.len;
	up.off = 0;
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, fromaddr);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)MAILER_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cc != CURLE_OK) {
		/* Loud: a member is waiting for this mail. */
		log_warnx("mailer: could not send \"%s\" to %s: %s (SMTP %ld)",
		    subject, toaddr, errbuf[0] ? errbuf :
		    curl_easy_strerror(cc), code);
		rc = PDS_EIO;
	} else
		log_info("mailer: sent \"%s\" to %s", subject, toaddr);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	sodium_memzero(msg.p, msg.len);
	buf_clear(&msg);
	return rc;
}

int
mailer_send(const char *to, const char *subject, const char *text)
{
	if (!mailer_enabled())
		return PDS_EUNSUPP;
	return send_via(mcfg->email_smtp_url, mcfg->email_from_address, to,
	    subject, text);
}

int
mailer_send_moderation(const char *to, const char *subject,
    const char *text)
{
	if (mcfg != NULL && mcfg->moderation_email_smtp_url != NULL &&
	    mcfg->moderation_email_address != NULL)
		return send_via(mcfg->moderation_email_smtp_url,
		    mcfg->moderation_email_address, to, subject, text);
	return mailer_send(to, subject, text);
}
