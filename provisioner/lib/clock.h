/* clock.h - the one clock module: monotonic time for timeouts and
 * durations, sleeping, and wall-clock timestamps as ISO 8601 UTC. */
#ifndef LC_CLOCK_H
#define LC_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic time: seconds (durations), milliseconds (deadlines). */
double lc_clock_now(void);
int64_t lc_clock_ms(void);

/* Sleep ms milliseconds, resumed after a signal (callers that must wake up
 * on a signal poll in shorter steps). */
void lc_clock_sleep_ms(long ms);

/* "2026-12-05T22:02:00Z": t as ISO 8601 UTC. */
#define LC_CLOCK_ISO 32
void lc_clock_utc_iso(char out[LC_CLOCK_ISO], time_t t);

#endif
