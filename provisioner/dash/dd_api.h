/* dd_api.h - a small client of the monitoring (Datadog) HTTP API: one
 * libcurl easy handle, JSON in and out.
 *
 * The keys come from the environment, DD_API_KEY and DD_APPLICATION_KEY
 * (DD_APP_KEY is accepted for the latter), and travel only in the
 * DD-API-KEY and DD-APPLICATION-KEY request headers: they are never in a URL,
 * never printed, and masked in every message this module writes.  Redirects
 * are not followed, so the keys go nowhere but the base URL.
 *
 * The base URL must be https://, or http:// to a loopback address (a local
 * stand-in); anything else is refused.  A 429 answer is retried after the
 * X-RateLimit-Reset header's seconds (at least 1, at most max_wait_s), at
 * most max_retries times.  Errors say the method, the path and the API's
 * message (its "errors" array), or that no answer came in time.  Nothing
 * here prints. */
#ifndef LC_DD_API_H
#define LC_DD_API_H

#include "buf.h"
#include "error.h"
#include "yamlx.h"

#define LC_DD_API_DEFAULT_URL "https://api.datadoghq.com"
#define LC_DD_API_KEY_ENV "DD_API_KEY"
#define LC_DD_APP_KEY_ENV "DD_APPLICATION_KEY"

struct lc_dd_api {
	char *base;                /* without a trailing '/' */
	char *api_key, *app_key;
	long timeout_ms;           /* per request (default 30 s) */
	unsigned max_retries;      /* on 429 (default 5) */
	unsigned max_wait_s;       /* longest wait for a rate limit reset (default 60) */
	void *curl;                /* the easy handle, private */
	/* counters */
	unsigned requests;         /* answered or not, retries included */
	unsigned writes;           /* POST, PUT, DELETE sent */
	unsigned rate_limited;     /* 429 answers waited out */
	/* called before waiting for a rate limit reset (may be NULL) */
	void (*on_wait)(void *data, const char *method, const char *path, unsigned seconds);
	void *data;
};

/* 0 when url may be used as the base URL: http(s) only, http only to
 * localhost, 127.0.0.0/8 or [::1]. */
int lc_dd_api_check_url(const char *url, struct lc_error *err);

/* Check the URL, read the keys from the environment and make the handle.
 * Fails with LC_EUSAGE when a key is missing or the URL is refused. */
int lc_dd_api_init(struct lc_dd_api *api, const char *base_url, struct lc_error *err);
void lc_dd_api_release(struct lc_dd_api *api);

/* METHOD base+path with body (JSON text or NULL).  On a 2xx answer *out is
 * the answer's JSON (NULL when the body is empty); a 404 to a DELETE counts
 * as done.  Any other answer, a timeout or an answer that is not JSON is an
 * error (LC_EREMOTE, LC_ETIMEOUT, LC_ECONNECT); *status (may be NULL) gets
 * the HTTP status, 0 when none came. */
int lc_dd_api_call(struct lc_dd_api *api, struct lc_node **out, long *status,
		   const char *method, const char *path, const char *body,
		   struct lc_error *err);

/* Replace the keys in s by ******** (a new string). */
char *lc_dd_api_mask(const struct lc_dd_api *api, const char *s);

#endif
