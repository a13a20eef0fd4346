/* submit.c - the forwarder; the only libcurl user. */
#include "submit.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "config.h"

#define RESPONSE_MAX (64u << 10)
#define ERROR_BODY_MAX 200

struct lc_submit {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int started, stopping;
	unsigned interval;
	unsigned failures;     /* in a row: the backoff */
	size_t max_points;
	struct lc_metrics buf; /* oldest first */
	char *intake;
	char *api_key;
	struct lc_submit_stats st;
	char *metadata;        /* the host metadata body, or NULL */
	time_t metadata_due;   /* when to send it (0: now) */
	CURL *curl;            /* used by whoever flushes: one at a time */
	int global_init;
};

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

int lc_submit_new(struct lc_submit **out, size_t max_points, struct lc_error *err)
{
	struct lc_submit *s;
	pthread_condattr_t ca;
	CURLcode cc;

	*out = NULL;
	cc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK)
		return lc_error_set(err, LC_ERR, "libcurl: %s", curl_easy_strerror(cc));
	s = lc_xcalloc(1, sizeof(*s));
	s->global_init = 1;
	s->max_points = max_points ? max_points : LC_SUBMIT_MAX_POINTS;
	s->interval = LC_SUBMIT_FLUSH_S;
	s->intake = lc_xstrdup("");
	s->api_key = lc_xstrdup("");
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	*out = s;
	return 0;
}

void lc_submit_free(struct lc_submit *s)
{
	if (!s)
		return;
	lc_submit_stop(s);
	if (s->curl)
		curl_easy_cleanup(s->curl);
	lc_metrics_release(&s->buf);
	free(s->intake);
	free(s->metadata);
	wipe_free(s->api_key);
	free(s->st.last_error);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	if (s->global_init)
		curl_global_cleanup();
	free(s);
}

void lc_submit_configure(struct lc_submit *s, const char *intake, const char *api_key)
{
	pthread_mutex_lock(&s->lock);
	free(s->intake);
	s->intake = lc_xstrdup(intake ? intake : "");
	wipe_free(s->api_key);
	s->api_key = lc_xstrdup(api_key ? api_key : "");
	if (!*s->api_key && s->buf.nr) {
		/* Submission turned off: what waits will never be sent. */
		s->st.buffered = 0;
		lc_metrics_release(&s->buf);
	}
	s->failures = 0;
	s->st.events++;
	pthread_mutex_unlock(&s->lock);
}

int lc_submit_enabled(struct lc_submit *s)
{
	int on;

	pthread_mutex_lock(&s->lock);
	on = *s->api_key != '\0';
	pthread_mutex_unlock(&s->lock);
	return on;
}

/* With the lock held: keep at most max_points, dropping the oldest. */
static void trim_locked(struct lc_submit *s)
{
	if (s->buf.nr > s->max_points) {
		size_t n = s->buf.nr - s->max_points;

		lc_metrics_drop_front(&s->buf, n);
		s->st.dropped += n;
	}
	s->st.buffered = s->buf.nr;
}

void lc_submit_push(struct lc_submit *s, struct lc_metrics *from)
{
	pthread_mutex_lock(&s->lock);
	if (*s->api_key) {
		lc_metrics_take(&s->buf, from);
		trim_locked(s);
		s->st.events++;
	}
	pthread_mutex_unlock(&s->lock);
	lc_metrics_release(from);
}

void lc_submit_scrub(struct lc_buf *b, const char *secret)
{
	size_t slen = secret ? strlen(secret) : 0;
	struct lc_buf out = LC_BUF_INIT;
	const char *p, *hit;

	if (!slen || !b->len)
		return;
	p = b->buf;
	while ((hit = memmem(p, (size_t)(b->buf + b->len - p), secret, slen))) {
		lc_buf_add(&out, p, (size_t)(hit - p));
		lc_buf_adds(&out, "***");
		p = hit + slen;
	}
	if (p == b->buf) {
		lc_buf_release(&out);
		return;
	}
	lc_buf_add(&out, p, (size_t)(b->buf + b->len - p));
	lc_buf_release(b);
	*b = out;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct lc_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len < RESPONSE_MAX)
		lc_buf_add(b, data, n < RESPONSE_MAX - b->len ? n : RESPONSE_MAX - b->len);
	return n;
}

/* A short, printable, key-free excerpt of a response body. */
static void body_excerpt(struct lc_buf *out, struct lc_buf *body, const char *key)
{
	size_t i, n;

	lc_submit_scrub(body, key);
	n = body->len < ERROR_BODY_MAX ? body->len : ERROR_BODY_MAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)body->buf[i];

		lc_buf_addc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	while (out->len && out->buf[out->len - 1] == ' ')
		lc_buf_setlen(out, out->len - 1);
	if (body->len > n)
		lc_buf_adds(out, "...");
}

/* POST body to <intake>/api/v1/series once. */
static int post(struct lc_submit *s, const char *intake, const char *path, const char *key,
		const struct lc_buf *body, struct lc_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL, *h;
	struct lc_buf url = LC_BUF_INIT, shown = LC_BUF_INIT, hdr = LC_BUF_INIT;
	struct lc_buf resp = LC_BUF_INIT, excerpt = LC_BUF_INIT;
	long code = 0;
	CURLcode cc;
	int rc = 0;

	if (!s->curl && !(s->curl = curl_easy_init()))
		return lc_error_set(err, LC_ERR, "libcurl: cannot create a handle");
	curl_easy_reset(s->curl);
	lc_buf_addf(&url, "%s%s", intake, path);
	lc_url_redact(&shown, url.buf);

	lc_buf_addf(&hdr, "DD-API-KEY: %s", key);
	h = curl_slist_append(headers, hdr.buf);
	memset(hdr.buf, 0, hdr.len);
	if (h)
		headers = h;
	if (h && (h = curl_slist_append(headers, "Content-Type: application/json")))
		headers = h;
	/* No "Expect: 100-continue" round trip before the body. */
	if (h && (h = curl_slist_append(headers, "Expect:")))
		headers = h;
	if (!h) {
		rc = lc_error_set(err, LC_ENOMEM, "libcurl: out of memory");
		goto out;
	}

	errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_URL, url.buf);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body->buf);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "lab-agent/" LABCTL_VERSION);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);

	cc = curl_easy_perform(s->curl);
	if (cc != CURLE_OK) {
		rc = lc_error_set(err, LC_ECONNECT, "POST %s: %s", shown.buf,
				  errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		body_excerpt(&excerpt, &resp, key);
		rc = lc_error_set(err, LC_EREMOTE, "POST %s: HTTP %ld%s%s", shown.buf,
				  code, excerpt.len ? ": " : "", excerpt.buf);
	}
out:
	/* The handle keeps pointers to these: drop them now. */
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, NULL);
	curl_slist_free_all(headers);
	lc_buf_release(&url);
	lc_buf_release(&shown);
	lc_buf_release(&hdr);
	lc_buf_release(&resp);
	lc_buf_release(&excerpt);
	return rc;
}

/* A POST failed: count it and keep its message (lock held). */
static void failed_locked(struct lc_submit *s, const struct lc_error *err)
{
	s->st.failed++;
	free(s->st.last_error);
	s->st.last_error = lc_xstrdup(err->msg);
}

/* Send one batch of the oldest points.  Returns 0 with *more set when
 * points remain, or an error (the batch is back at the front). */
static int flush_batch(struct lc_submit *s, int *more, struct lc_error *err)
{
	struct lc_metrics batch = LC_METRICS_INIT;
	struct lc_buf body = LC_BUF_INIT;
	char *intake, *key;
	size_t n, i, n_sc = 0;
	int rc;

	*more = 0;
	pthread_mutex_lock(&s->lock);
	n = s->buf.nr < LC_SUBMIT_BATCH ? s->buf.nr : LC_SUBMIT_BATCH;
	if (!*s->api_key || !n) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	batch.v = lc_xmalloc(n * sizeof(*batch.v));
	memcpy(batch.v, s->buf.v, n * sizeof(*batch.v));
	batch.nr = batch.alloc = n;
	memmove(s->buf.v, s->buf.v + n, (s->buf.nr - n) * sizeof(*s->buf.v));
	s->buf.nr -= n;
	intake = lc_xstrdup(s->intake);
	key = lc_xstrdup(s->api_key);
	pthread_mutex_unlock(&s->lock);

	/* metrics to /api/v1/series, service checks to /api/v1/check_run */
	for (i = 0; i < n; i++)
		n_sc += batch.v[i].type == LC_METRIC_SERVICE_CHECK;
	rc = 0;
	if (n_sc < n) {
		lc_series_json(&body, batch.v, batch.nr);
		rc = post(s, intake, "/api/v1/series", key, &body, err);
	}
	if (!rc && n_sc) {
		lc_buf_reset(&body);
		lc_check_runs_json(&body, batch.v, batch.nr);
		rc = post(s, intake, "/api/v1/check_run", key, &body, err);
	}

	pthread_mutex_lock(&s->lock);
	if (!rc) {
		s->st.sent += n;
		s->st.last_success = time(NULL);
		free(s->st.last_error);
		s->st.last_error = NULL;
		lc_metrics_release(&batch);
	} else {
		failed_locked(s, err);
		if (*s->api_key) {
			/* Back at the front, as the oldest. */
			lc_metrics_take(&batch, &s->buf);
			lc_metrics_release(&s->buf);
			s->buf = batch;
			trim_locked(s);
		} else {
			lc_metrics_release(&batch);
		}
	}
	s->st.buffered = s->buf.nr;
	s->st.events++;
	*more = !rc && s->buf.nr > 0;
	pthread_mutex_unlock(&s->lock);

	lc_buf_release(&body);
	free(intake);
	wipe_free(key);
	return rc;
}

/* The host metadata, when it is due: at start, then every
 * LC_SUBMIT_METADATA_S; after a failure, at the next flush. */
static int flush_metadata(struct lc_submit *s, struct lc_error *err)
{
	struct lc_buf body = LC_BUF_INIT;
	char *intake = NULL, *key = NULL;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (s->metadata && *s->api_key && time(NULL) >= s->metadata_due) {
		lc_buf_adds(&body, s->metadata);
		intake = lc_xstrdup(s->intake);
		key = lc_xstrdup(s->api_key);
	}
	pthread_mutex_unlock(&s->lock);
	if (!key)
		return 0;
	rc = post(s, intake, "/intake/", key, &body, err);
	pthread_mutex_lock(&s->lock);
	if (!rc) {
		s->metadata_due = time(NULL) + LC_SUBMIT_METADATA_S;
	} else {
		failed_locked(s, err);
	}
	s->st.events++;
	pthread_mutex_unlock(&s->lock);
	lc_buf_release(&body);
	free(intake);
	wipe_free(key);
	return rc;
}

/* The host metadata when due, then everything buffered when called, batch
 * after batch, until one fails. */
static int flush_all(struct lc_submit *s, struct lc_error *err)
{
	struct lc_error merr = LC_ERROR_INIT;
	size_t rounds = s->max_points / LC_SUBMIT_BATCH + 2;
	int more = 1, rc = 0, mrc;

	/* a metadata failure does not hold the points back */
	mrc = flush_metadata(s, &merr);
	while (more && rounds-- && !(rc = flush_batch(s, &more, err)))
		;
	if (!rc && mrc) {
		*err = merr;
		rc = mrc;
	}
	return rc;
}

void lc_submit_set_metadata(struct lc_submit *s, const char *body)
{
	pthread_mutex_lock(&s->lock);
	free(s->metadata);
	s->metadata = body ? lc_xstrdup(body) : NULL;
	s->metadata_due = 0;
	pthread_mutex_unlock(&s->lock);
}

int lc_submit_flush(struct lc_submit *s, struct lc_error *err)
{
	return flush_all(s, err);
}

static void deadline_in(struct timespec *ts, unsigned seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += seconds;
}

static int reached(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void *flusher(void *arg)
{
	struct lc_submit *s = arg;
	struct lc_error err = LC_ERROR_INIT;
	struct timespec next;
	unsigned wait;
	int rc;

	pthread_mutex_lock(&s->lock);
	deadline_in(&next, s->interval);
	while (!s->stopping) {
		rc = pthread_cond_timedwait(&s->wake, &s->lock, &next);
		if (s->stopping)
			break;
		if (rc != ETIMEDOUT && !reached(&next))
			continue;
		pthread_mutex_unlock(&s->lock);
		rc = flush_all(s, &err);
		pthread_mutex_lock(&s->lock);
		if (!rc) {
			s->failures = 0;
			wait = s->interval;
		} else {
			/* interval * 2^failures, capped. */
			wait = s->interval;
			if (s->failures < 16)
				s->failures++;
			for (unsigned i = 0; i < s->failures && wait < LC_SUBMIT_BACKOFF_MAX_S; i++)
				wait *= 2;
			if (wait > LC_SUBMIT_BACKOFF_MAX_S)
				wait = LC_SUBMIT_BACKOFF_MAX_S;
		}
		deadline_in(&next, wait);
	}
	/* A last flush on the way out, unless the intake is down anyway. */
	if (!s->failures) {
		pthread_mutex_unlock(&s->lock);
		flush_all(s, &err);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int lc_submit_start(struct lc_submit *s, unsigned interval_s, struct lc_error *err)
{
	sigset_t all, old;
	int rc;

	pthread_mutex_lock(&s->lock);
	s->interval = interval_s ? interval_s : LC_SUBMIT_FLUSH_S;
	s->stopping = 0;
	pthread_mutex_unlock(&s->lock);
	/* Signals are for the main thread: the flusher blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, flusher, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return lc_error_set(err, LC_ERR, "cannot start the forwarder thread: %s",
				    strerror(rc));
	s->started = 1;
	return 0;
}

void lc_submit_stop(struct lc_submit *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	s->started = 0;
}

void lc_submit_get_stats(struct lc_submit *s, struct lc_submit_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	out->buffered = s->buf.nr;
	out->last_error = s->st.last_error ? lc_xstrdup(s->st.last_error) : NULL;
	pthread_mutex_unlock(&s->lock);
}

void lc_submit_stats_release(struct lc_submit_stats *st)
{
	free(st->last_error);
	st->last_error = NULL;
}
