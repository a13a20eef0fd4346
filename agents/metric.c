/* metric.c - metric samples, tag lists and the series JSON. */
#include "metric.h"

#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void lc_tags_add(struct lc_tags *t, const char *s, size_t len)
{
	LC_ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	t->v[t->nr++] = lc_xstrndup(s, len);
}

void lc_tags_adds(struct lc_tags *t, const char *s)
{
	lc_tags_add(t, s, strlen(s));
}

int lc_tags_has(const struct lc_tags *t, const char *s)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (!strcmp(t->v[i], s))
			return 1;
	return 0;
}

int lc_tags_add_unique(struct lc_tags *t, const char *s)
{
	if (lc_tags_has(t, s))
		return 0;
	lc_tags_adds(t, s);
	return 1;
}

void lc_tags_copy(struct lc_tags *out, const struct lc_tags *from)
{
	size_t i;

	for (i = 0; i < from->nr; i++)
		lc_tags_adds(out, from->v[i]);
}

void lc_tags_release(struct lc_tags *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->nr = t->alloc = 0;
}

struct lc_node *lc_tags_node(const struct lc_tags *t)
{
	struct lc_node *a = lc_json_array();
	size_t i;

	for (i = 0; i < t->nr; i++)
		lc_json_push(a, lc_json_str(t->v[i]));
	return a;
}

struct lc_metric *lc_metrics_add(struct lc_metrics *l, const char *name,
				 double value, enum lc_metric_type type)
{
	struct lc_metric *m;

	LC_ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	m = &l->v[l->nr++];
	memset(m, 0, sizeof(*m));
	m->name = lc_xstrdup(name);
	m->value = value;
	m->type = type;
	return m;
}

void lc_metrics_take(struct lc_metrics *to, struct lc_metrics *from)
{
	if (!from->nr)
		return;
	LC_ALLOC_GROW(to->v, to->nr + from->nr, to->alloc);
	memcpy(to->v + to->nr, from->v, from->nr * sizeof(*from->v));
	to->nr += from->nr;
	from->nr = 0;
}

void lc_metric_release(struct lc_metric *m)
{
	free(m->name);
	free(m->host);
	free(m->own);
	free(m->message);
	lc_tags_release(&m->tags);
	memset(m, 0, sizeof(*m));
}

void lc_metrics_drop_front(struct lc_metrics *l, size_t n)
{
	size_t i;

	if (n > l->nr)
		n = l->nr;
	for (i = 0; i < n; i++)
		lc_metric_release(&l->v[i]);
	memmove(l->v, l->v + n, (l->nr - n) * sizeof(*l->v));
	l->nr -= n;
}

void lc_metrics_release(struct lc_metrics *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		lc_metric_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

void lc_metric_base_init(struct lc_metric_base *b, const char *host,
			 const struct lc_tags *tags, const char *env)
{
	size_t i;

	b->host = host;
	for (i = 0; tags && i < tags->nr; i++)
		lc_tags_add_unique(&b->tags, tags->v[i]);
	if (env && *env) {
		char *t = lc_xasprintf("env:%s", env);

		lc_tags_add_unique(&b->tags, t);
		free(t);
	}
}

void lc_metric_base_release(struct lc_metric_base *b)
{
	lc_tags_release(&b->tags);
	b->host = NULL;
}

static void decorate_one(struct lc_metric *m, const struct lc_metric_base *base,
			 const struct lc_tags *inst_tags, long long ts,
			 long interval)
{
	struct lc_tags all = LC_TAGS_INIT;
	struct lc_buf own = LC_BUF_INIT;
	size_t i;

	for (i = 0; i < m->tags.nr; i++) {
		if (i)
			lc_buf_addc(&own, ',');
		lc_buf_adds(&own, m->tags.v[i]);
	}
	free(m->own);
	m->own = m->tags.nr ? lc_buf_detach(&own, NULL) : NULL;
	lc_buf_release(&own);

	lc_tags_copy(&all, &base->tags);
	for (i = 0; inst_tags && i < inst_tags->nr; i++)
		lc_tags_add_unique(&all, inst_tags->v[i]);
	for (i = 0; i < m->tags.nr; i++)
		lc_tags_add_unique(&all, m->tags.v[i]);
	lc_tags_release(&m->tags);
	m->tags = all;

	free(m->host);
	m->host = lc_xstrdup(base->host ? base->host : "");
	m->ts = ts;
	m->interval = m->type == LC_METRIC_COUNT ? interval : 0;
}

void lc_metrics_decorate(struct lc_metrics *l, size_t from,
			 const struct lc_metric_base *base,
			 const struct lc_tags *inst_tags, long long ts,
			 long interval)
{
	size_t i;

	for (i = from; i < l->nr; i++)
		decorate_one(&l->v[i], base, inst_tags, ts, interval);
}

const char *lc_metric_type_name(enum lc_metric_type type)
{
	return type == LC_METRIC_COUNT ? "count" :
	       type == LC_METRIC_SERVICE_CHECK ? "service_check" : "gauge";
}

void lc_series_json(struct lc_buf *out, const struct lc_metric *m, size_t n)
{
	struct lc_node *o = lc_json_object(), *series = lc_json_set(o, "series", lc_json_array());
	size_t i;

	for (i = 0; i < n; i++) {
		struct lc_node *s, *pt;

		if (m[i].type == LC_METRIC_SERVICE_CHECK)
			continue;  /* lc_check_runs_json */
		s = lc_json_push(series, lc_json_object());
		lc_json_set(s, "metric", lc_json_str(m[i].name));
		pt = lc_json_push(lc_json_set(s, "points", lc_json_array()), lc_json_array());
		lc_json_push(pt, lc_json_int(m[i].ts));
		lc_json_push(pt, lc_json_number(m[i].value));
		lc_json_set(s, "type", lc_json_str(lc_metric_type_name(m[i].type)));
		if (m[i].interval > 0)
			lc_json_set(s, "interval", lc_json_int(m[i].interval));
		lc_json_set(s, "host", lc_json_str(m[i].host ? m[i].host : ""));
		lc_json_set(s, "tags", lc_tags_node(&m[i].tags));
	}
	lc_json_write(out, o, -1);
	lc_node_free(o);
}

void lc_check_runs_json(struct lc_buf *out, const struct lc_metric *m, size_t n)
{
	struct lc_node *runs = lc_json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		struct lc_node *r;

		if (m[i].type != LC_METRIC_SERVICE_CHECK)
			continue;
		r = lc_json_push(runs, lc_json_object());
		lc_json_set(r, "check", lc_json_str(m[i].name));
		lc_json_set(r, "host_name", lc_json_str(m[i].host ? m[i].host : ""));
		lc_json_set(r, "timestamp", lc_json_int(m[i].ts));
		lc_json_set(r, "status", lc_json_int((long long)m[i].value));
		lc_json_set(r, "message", lc_json_str(m[i].message ? m[i].message : ""));
		lc_json_set(r, "tags", lc_tags_node(&m[i].tags));
	}
	lc_json_write(out, runs, -1);
	lc_node_free(runs);
}
