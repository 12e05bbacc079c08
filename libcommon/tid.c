/*
 * tid: encode, decode and generate TIDs (atproto-notes §7, V4).
 */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "syntax.h"
#include "tid.h"

static const char b32s[] = "234567abcdefghijklmnopqrstuvwxyz";

/* A prev this far ahead of the clock does not move the generator. */
#define TID_AHEAD_MAX	((uint64_t)3600 * 1000000)

static pthread_mutex_t	 tid_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t	 tid_once = PTHREAD_ONCE_INIT;
static uint64_t		 tid_last;	/* last micros handed out */
static unsigned		 tid_clock;

static void
tid_init(void)
{
	/* sodium_init() is idempotent; randombytes needs it first. */
	if (sodium_init() < 0)
		tid_clock = (unsigned)getpid() & 31;
	else
		tid_clock = randombytes_uniform(32);
}

static uint64_t
now_micros(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
encode(char out[TID_LEN + 1], uint64_t v)
{
	int	 i;

	for (i = TID_LEN - 1; i >= 0; i--) {
		out[i] = b32s[v & 31];
		v >>= 5;
	}
	out[TID_LEN] = '\0';
}

int
tid_from_parts(char out[TID_LEN + 1], uint64_t micros, unsigned clock)
{
	if (micros > TID_MICROS_MAX || clock > TID_CLOCK_MAX)
		return PDS_EINVAL;
	encode(out, micros << 10 | clock);
	return PDS_OK;
}

bool
tid_valid(const char *s, size_t len)
{
	return syntax_is_tid(s, len);
}

int
tid_parse_len(const char *s, size_t len, uint64_t *micros, unsigned *clock)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (!syntax_is_tid(s, len))
		return PDS_EINVAL;
	for (i = 0; i < TID_LEN; i++)
		v = v << 5 | (uint64_t)(strchr(b32s, s[i]) - b32s);
	if (micros != NULL)
		*micros = v >> 10;
	if (clock != NULL)
		*clock = (unsigned)(v & 1023);
	return PDS_OK;
}

int
tid_parse(const char *s, uint64_t *micros, unsigned *clock)
{
	return tid_parse_len(s, strnlen(s, TID_LEN + 1), micros, clock);
}

/*
 * The next micros value above both the generator's last value and
 * `floor`; moves the generator unless floor is far in the future.
 */
static uint64_t
next_micros(uint64_t floor, bool have_floor)
{
	uint64_t	 now, m;

	pthread_once(&tid_once, tid_init);
	now = now_micros();
	pthread_mutex_lock(&tid_lock);
	m = now > tid_last ? now : tid_last + 1;
	if (have_floor && m <= floor) {
		m = floor + 1;
		if (floor > now + TID_AHEAD_MAX) {
			pthread_mutex_unlock(&tid_lock);
			return m;
		}
	}
	tid_last = m;
	pthread_mutex_unlock(&tid_lock);
	return m;
}

void
tid_next(char out[TID_LEN + 1])
{
	encode(out, next_micros(0, false) << 10 | tid_clock);
}

int
tid_next_after(char out[TID_LEN + 1], const char *prev)
{
	uint64_t	 pm = 0, m;
	unsigned	 pc;

	if (prev != NULL && tid_parse(prev, &pm, &pc) != PDS_OK)
		return PDS_EINVAL;
	m = next_micros(pm, prev != NULL);
	/* micros > pm, so the TID is above prev whatever the clock ids. */
	if (m > TID_MICROS_MAX)
		return PDS_ETOOBIG;
	encode(out, m << 10 | tid_clock);
	return PDS_OK;
}
