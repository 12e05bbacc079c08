/*
 * mailer: plain-text mail to members over SMTP (libcurl), for the email
 * token flows (email_tokens.h) and for moderators' messages
 * (com.atproto.admin.sendEmail).
 *
 * Configured by PDS_EMAIL_SMTP_URL (smtp:// or smtps://, optionally
 * with user:password@, which libcurl uses for AUTH) and
 * PDS_EMAIL_FROM_ADDRESS; config.c already refuses one without the
 * other.  Moderators' messages go through PDS_MODERATION_EMAIL_SMTP_URL
 * from PDS_MODERATION_EMAIL_ADDRESS when both are set, else through the
 * same server as the rest.  smtp:// upgrades with STARTTLS when the
 * server offers it.
 *
 * Without SMTP nothing is sent: mailer_send() returns PDS_EUNSUPP and
 * the caller decides what to do (email_tokens.c logs the token at
 * warning level, and operators read it with `pdsctl account token`).
 *
 * A failed delivery is logged loudly (with the SMTP server's answer)
 * and returned as PDS_EIO: unlike the reference, which drops mail
 * silently, a member is told the mail could not be sent.
 *
 * Thread-safe after the module init; each send uses its own handle.
 */
#ifndef PDSD_MAILER_H
#define PDSD_MAILER_H

#include <stdbool.h>
#include <stddef.h>

struct config;

#define MAILER_TIMEOUT_S	20

/* Whether SMTP is configured. */
bool	mailer_enabled(void);

/*
 * Send one message.  to and subject must not contain CR or LF
 * (PDS_EINVAL); text is the body with '\n' line ends (converted to
 * CRLF here).
 */
int	mailer_send(const char *to, const char *subject, const char *text);
/* The same for a moderator's message (PDS_EUNSUPP with no SMTP at all). */
int	mailer_send_moderation(const char *to, const char *subject,
	    const char *text);

/*
 * The message as it goes on the wire (headers and CRLF body), appended
 * to out (for the tests and for mailer_send).  from may be NULL
 * (then PDS_EMAIL_FROM_ADDRESS).
 */
struct buf;
int	mailer_compose(struct buf *out, const char *from, const char *to,
	    const char *subject, const char *text);

/* For tests: set up without the module machinery. */
int	mailer_init(const struct config *);

#endif
