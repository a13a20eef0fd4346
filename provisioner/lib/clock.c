/* clock.c - monotonic time, sleeping, UTC timestamps. */
#include "clock.h"

#include <errno.h>

static struct timespec mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

double lc_clock_now(void)
{
	struct timespec ts = mono();

	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t lc_clock_ms(void)
{
	struct timespec ts = mono();

	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lc_clock_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void lc_clock_utc_iso(char out[LC_CLOCK_ISO], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, LC_CLOCK_ISO, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
