/* apm.c - trace metrics and the APM part of the status file (apm.h). */
#include "apm.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define RING 4096   /* top-level spans remembered for the last minute */

/* One group of top-level spans since the last take. */
struct bucket {
	char *name, *service, *resource, *env, *version;
	int status;
	unsigned long long hits, errors;
	double duration;   /* seconds */
};

/* A top-level span of the last minute. */
struct hit {
	double when;
	char *service, *resource;
	double ms;
	int error;
};

struct last_trace {
	char *service, *resource, *name;
	unsigned long long trace_id;
	double ms, when;
	int error, status;
	size_t spans;
};

struct lc_apm {
	pthread_mutex_t lock;
	struct bucket *b;
	size_t nb, alloc;
	struct hit ring[RING];
	size_t ring_next, ring_n;
	struct last_trace last[LC_APM_LAST_TRACES];
	size_t last_next, last_n;
	unsigned long long payloads, traces, spans, refused;
	unsigned long long refused_too_large, refused_bad_payload, refused_bad_request;
	char *last_refusal, *receiver;
	int changed;
};

struct lc_apm *lc_apm_new(void)
{
	struct lc_apm *a = lc_xcalloc(1, sizeof(*a));

	pthread_mutex_init(&a->lock, NULL);
	a->receiver = lc_xstrdup("off");
	return a;
}

static void bucket_release(struct bucket *b)
{
	free(b->name);
	free(b->service);
	free(b->resource);
	free(b->env);
	free(b->version);
}

static void hit_release(struct hit *h)
{
	free(h->service);
	free(h->resource);
	memset(h, 0, sizeof(*h));
}

static void last_release(struct last_trace *t)
{
	free(t->service);
	free(t->resource);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void lc_apm_free(struct lc_apm *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nb; i++)
		bucket_release(&a->b[i]);
	free(a->b);
	for (i = 0; i < RING; i++)
		hit_release(&a->ring[i]);
	for (i = 0; i < LC_APM_LAST_TRACES; i++)
		last_release(&a->last[i]);
	free(a->last_refusal);
	free(a->receiver);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void lc_apm_set_receiver(struct lc_apm *a, const char *state)
{
	pthread_mutex_lock(&a->lock);
	free(a->receiver);
	a->receiver = lc_xstrdup(state);
	a->changed = 1;
	pthread_mutex_unlock(&a->lock);
}

static int same(const char *x, const char *y)
{
	return (!x && !y) || (x && y && !strcmp(x, y));
}

static struct bucket *bucket_for(struct lc_apm *a, const struct lc_span *s, const char *env)
{
	struct bucket *b;
	size_t i;

	for (i = 0; i < a->nb; i++) {
		b = &a->b[i];
		if (!strcmp(b->name, s->name) && !strcmp(b->service, s->service) &&
		    !strcmp(b->resource, s->resource) && same(b->env, env) &&
		    same(b->version, s->version) && b->status == s->http_status)
			return b;
	}
	LC_ALLOC_GROW(a->b, a->nb + 1, a->alloc);
	b = &a->b[a->nb++];
	memset(b, 0, sizeof(*b));
	b->name = lc_xstrdup(s->name);
	b->service = lc_xstrdup(s->service);
	b->resource = lc_xstrdup(s->resource);
	b->env = env ? lc_xstrdup(env) : NULL;
	b->version = s->version ? lc_xstrdup(s->version) : NULL;
	b->status = s->http_status;
	return b;
}

void lc_apm_add(struct lc_apm *a, struct lc_traces *t, const char *default_env, double now)
{
	size_t i, j;

	pthread_mutex_lock(&a->lock);
	a->payloads++;
	a->traces += t->n;
	a->spans += t->n_spans;
	for (i = 0; i < t->n; i++) {
		const struct lc_trace *tr = &t->v[i];
		const struct lc_span *root = NULL;

		for (j = 0; j < tr->n; j++) {
			const struct lc_span *s = &tr->spans[j];
			const char *env = s->env ? s->env : default_env && *default_env ? default_env : NULL;
			struct bucket *b;
			struct hit *h;

			if (!s->parent_id && !root)
				root = s;
			if (!s->top_level)
				continue;
			b = bucket_for(a, s, env);
			b->hits++;
			b->errors += s->error ? 1 : 0;
			b->duration += (double)s->duration / 1e9;
			h = &a->ring[a->ring_next];
			hit_release(h);
			h->when = now;
			h->service = lc_xstrdup(s->service);
			h->resource = lc_xstrdup(s->resource);
			h->ms = (double)s->duration / 1e6;
			h->error = s->error;
			a->ring_next = (a->ring_next + 1) % RING;
			if (a->ring_n < RING)
				a->ring_n++;
		}
		if (!root && tr->n)
			root = &tr->spans[0];
		if (root) {
			struct last_trace *l = &a->last[a->last_next];

			last_release(l);
			l->service = lc_xstrdup(root->service);
			l->resource = lc_xstrdup(root->resource);
			l->name = lc_xstrdup(root->name);
			l->trace_id = root->trace_id;
			l->ms = (double)root->duration / 1e6;
			l->when = now;
			l->error = root->error;
			l->status = root->http_status;
			l->spans = tr->n;
			a->last_next = (a->last_next + 1) % LC_APM_LAST_TRACES;
			if (a->last_n < LC_APM_LAST_TRACES)
				a->last_n++;
		}
	}
	a->changed = 1;
	pthread_mutex_unlock(&a->lock);
	lc_traces_release(t);
}

void lc_apm_refused(struct lc_apm *a, const char *why, const char *msg)
{
	pthread_mutex_lock(&a->lock);
	a->refused++;
	if (!strcmp(why, "too_large"))
		a->refused_too_large++;
	else if (!strcmp(why, "bad_payload"))
		a->refused_bad_payload++;
	else
		a->refused_bad_request++;
	free(a->last_refusal);
	a->last_refusal = lc_xstrdup(msg);
	a->changed = 1;
	pthread_mutex_unlock(&a->lock);
}

static void add_tag(struct lc_tags *t, const char *key, const char *value)
{
	char *tag;

	if (!value || !*value)
		return;
	tag = lc_xasprintf("%s:%s", key, value);
	lc_tags_adds(t, tag);
	free(tag);
}

static void add_metric(struct lc_metrics *out, const struct bucket *b, const char *what,
		       double value, enum lc_metric_type type, int with_status)
{
	char *name = lc_xasprintf("trace.%s.%s", b->name, what);
	struct lc_metric *m = lc_metrics_add(out, name, value, type);

	free(name);
	add_tag(&m->tags, "env", b->env);
	add_tag(&m->tags, "service", b->service);
	add_tag(&m->tags, "resource_name", b->resource);
	add_tag(&m->tags, "version", b->version);
	if (with_status && b->status) {
		char code[16];

		snprintf(code, sizeof(code), "%d", b->status);
		add_tag(&m->tags, "http.status_code", code);
	}
}

size_t lc_apm_take(struct lc_apm *a, struct lc_metrics *out)
{
	size_t i, before = out->nr;

	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->nb; i++) {
		struct bucket *b = &a->b[i];

		add_metric(out, b, "hits", (double)b->hits, LC_METRIC_COUNT, 1);
		add_metric(out, b, "errors", (double)b->errors, LC_METRIC_COUNT, 1);
		add_metric(out, b, "duration", b->duration, LC_METRIC_GAUGE, 0);
		bucket_release(b);
	}
	a->nb = 0;
	pthread_mutex_unlock(&a->lock);
	return out->nr - before;
}

int lc_apm_changed(struct lc_apm *a)
{
	int c;

	pthread_mutex_lock(&a->lock);
	c = a->changed;
	pthread_mutex_unlock(&a->lock);
	return c;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* The q-quantile (nearest rank) of v[0..n), sorted. */
static double quantile(const double *v, size_t n, double q)
{
	size_t k = (size_t)ceil(q * (double)n);

	return n ? v[k ? k - 1 : 0] : 0;
}

/* {"requests_per_s":..,"error_rate":..,"p50_ms":..,"p95_ms":..,"hits":..}
 * of the ring's spans of the last minute that match service (and resource,
 * when not NULL). */
static struct lc_node *window(const struct lc_apm *a, double now, const char *service,
			      const char *resource)
{
	struct lc_node *o = lc_json_object();
	double *ms = lc_xcalloc(a->ring_n + 1, sizeof(*ms));
	size_t i, n = 0, errors = 0;

	for (i = 0; i < a->ring_n; i++) {
		const struct hit *h = &a->ring[i];

		if (now - h->when > LC_APM_WINDOW_S || strcmp(h->service, service) ||
		    (resource && strcmp(h->resource, resource)))
			continue;
		ms[n++] = h->ms;
		errors += h->error ? 1 : 0;
	}
	qsort(ms, n, sizeof(*ms), cmp_double);
	lc_json_set(o, "hits", lc_json_int((long long)n));
	lc_json_set(o, "requests_per_s", lc_json_real((double)n / LC_APM_WINDOW_S));
	lc_json_set(o, "error_rate", lc_json_real(n ? (double)errors / (double)n : 0));
	lc_json_set(o, "p50_ms", lc_json_real(quantile(ms, n, 0.50)));
	lc_json_set(o, "p95_ms", lc_json_real(quantile(ms, n, 0.95)));
	free(ms);
	return o;
}

struct lc_node *lc_apm_status(struct lc_apm *a, double now)
{
	struct lc_node *o = lc_json_object(), *refused, *services, *resources, *traces;
	struct lc_tags seen_s = LC_TAGS_INIT, seen_r = LC_TAGS_INIT;
	size_t i, k;

	pthread_mutex_lock(&a->lock);
	lc_json_set(o, "receiver", lc_json_str(a->receiver));
	lc_json_set(o, "payloads", lc_json_int((long long)a->payloads));
	lc_json_set(o, "traces", lc_json_int((long long)a->traces));
	lc_json_set(o, "spans", lc_json_int((long long)a->spans));
	refused = lc_json_set(o, "refused", lc_json_object());
	lc_json_set(refused, "total", lc_json_int((long long)a->refused));
	lc_json_set(refused, "too_large", lc_json_int((long long)a->refused_too_large));
	lc_json_set(refused, "bad_payload", lc_json_int((long long)a->refused_bad_payload));
	lc_json_set(refused, "bad_request", lc_json_int((long long)a->refused_bad_request));
	lc_json_set(refused, "last", a->last_refusal ? lc_json_str(a->last_refusal) : lc_json_null());
	/* the last minute, per service and per service + resource */
	services = lc_json_set(o, "services", lc_json_object());
	resources = lc_json_set(o, "resources", lc_json_object());
	for (i = 0; i < a->ring_n; i++) {
		const struct hit *h = &a->ring[i];
		char *key;

		if (now - h->when > LC_APM_WINDOW_S)
			continue;
		if (!lc_tags_has(&seen_s, h->service)) {
			lc_tags_adds(&seen_s, h->service);
			lc_json_set(services, h->service, window(a, now, h->service, NULL));
		}
		key = lc_xasprintf("%s %s", h->service, h->resource);
		if (!lc_tags_has(&seen_r, key)) {
			lc_tags_adds(&seen_r, key);
			lc_json_set(resources, key, window(a, now, h->service, h->resource));
		}
		free(key);
	}
	/* the last traces, newest first */
	traces = lc_json_set(o, "last_traces", lc_json_array());
	for (k = 0; k < a->last_n; k++) {
		const struct last_trace *l =
			&a->last[(a->last_next + LC_APM_LAST_TRACES - 1 - k) % LC_APM_LAST_TRACES];
		struct lc_node *t = lc_json_push(traces, lc_json_object());
		char id[24];

		snprintf(id, sizeof(id), "%llu", l->trace_id);
		lc_json_set(t, "trace_id", lc_json_str(id));
		lc_json_set(t, "service", lc_json_str(l->service));
		lc_json_set(t, "name", lc_json_str(l->name));
		lc_json_set(t, "resource", lc_json_str(l->resource));
		lc_json_set(t, "duration_ms", lc_json_real(l->ms));
		lc_json_set(t, "error", lc_json_bool(l->error));
		lc_json_set(t, "http_status", l->status ? lc_json_int(l->status) : lc_json_null());
		lc_json_set(t, "spans", lc_json_int((long long)l->spans));
	}
	a->changed = 0;
	pthread_mutex_unlock(&a->lock);
	lc_tags_release(&seen_s);
	lc_tags_release(&seen_r);
	return o;
}
