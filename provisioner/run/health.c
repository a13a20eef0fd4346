/* health.c - HTTP health checks with libcurl's multi interface. */
#include "health.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"

#define RETRY_MS 200

struct slot {
	struct lc_health_check *c;
	CURL *easy;
	double start, next_try;   /* next_try > 0: waiting to retry */
	int active;
	char errbuf[CURL_ERROR_SIZE];
};

int lc_health_global_init(struct lc_error *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return lc_error_set(err, LC_ERR, "libcurl could not be initialized");
	return 0;
}

void lc_health_global_release(void)
{
	curl_global_cleanup();
}

static size_t discard(char *p, size_t size, size_t n, void *data)
{
	(void)p;
	(void)data;
	return size * n;
}

static int start(CURLM *m, struct slot *s, double t)
{
	double left = (double)s->c->timeout_ms / 1000.0 - (t - s->start);
	long ms = (long)(left * 1000);

	if (ms < 100)
		ms = 100;
	curl_easy_reset(s->easy);
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->easy, CURLOPT_URL, s->c->url);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	s->c->attempts++;
	s->active = 1;
	s->next_try = 0;
	return curl_multi_add_handle(m, s->easy) == CURLM_OK ? 0 : -1;
}

static void finish(struct slot *s, double t, const char *why)
{
	s->active = 0;
	s->next_try = 0;
	s->c->seconds = t - s->start;
	free(s->c->error);
	s->c->error = why ? lc_xstrdup(why) : NULL;
}

int lc_health_run(struct lc_health_check *checks, size_t n, struct lc_error *err)
{
	struct slot *slots;
	CURLM *m;
	size_t i, pending = n;
	int failed = 0;
	double t0 = lc_clock_now();

	if (!n)
		return 0;
	if (!(m = curl_multi_init()))
		return lc_error_set(err, LC_ENOMEM, "libcurl: cannot create a multi handle");
	slots = lc_xcalloc(n, sizeof(*slots));
	for (i = 0; i < n; i++) {
		slots[i].c = &checks[i];
		slots[i].start = t0;
		checks[i].ok = 0;
		checks[i].got_status = 0;
		checks[i].attempts = 0;
		if (!(slots[i].easy = curl_easy_init()) || start(m, &slots[i], t0)) {
			finish(&slots[i], t0, "libcurl could not start the request");
			pending--;
		}
	}
	while (pending) {
		CURLMsg *msg;
		int running, left;
		double t = lc_clock_now();

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct slot *s;
			long code = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			curl_multi_remove_handle(m, msg->easy_handle);
			s->active = 0;
			s->c->got_status = code;
			t = lc_clock_now();
			if (msg->data.result == CURLE_OK && code == s->c->want_status) {
				s->c->ok = 1;
				finish(s, t, NULL);
				pending--;
			} else if ((t - s->start) * 1000 + RETRY_MS >= s->c->timeout_ms) {
				struct lc_buf why = LC_BUF_INIT;

				if (msg->data.result != CURLE_OK)
					lc_buf_addf(&why, "%s", s->errbuf[0] ? s->errbuf :
						    curl_easy_strerror(msg->data.result));
				else
					lc_buf_addf(&why, "HTTP %ld, expected %ld", code, s->c->want_status);
				lc_buf_addf(&why, " (after %u attempt%s in %.1f s)", s->c->attempts,
					    s->c->attempts == 1 ? "" : "s", t - s->start);
				finish(s, t, why.buf);
				lc_buf_release(&why);
				pending--;
			} else {
				s->next_try = t + RETRY_MS / 1000.0;
			}
		}
		t = lc_clock_now();
		for (i = 0; i < n; i++)
			if (!slots[i].active && slots[i].next_try > 0 && t >= slots[i].next_try &&
			    start(m, &slots[i], t)) {
				finish(&slots[i], t, "libcurl could not start the request");
				pending--;
			}
		if (pending)
			curl_multi_poll(m, NULL, 0, 50, NULL);
	}
	for (i = 0; i < n; i++) {
		if (!checks[i].ok)
			failed++;
		curl_easy_cleanup(slots[i].easy);
	}
	free(slots);
	curl_multi_cleanup(m);
	return failed;
}

void lc_health_release(struct lc_health_check *c)
{
	free(c->error);
	c->error = NULL;
}
