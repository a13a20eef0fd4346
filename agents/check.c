/* check.c - schedule and run the instances of the configured checks. */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct lc_check_ops *ops_for(enum lc_check_kind kind)
{
	switch (kind) {
	case LC_CHECK_SYSTEM: return &lc_check_system_ops;
	case LC_CHECK_POSTGRES: return &lc_check_postgres_ops;
	case LC_CHECK_CUSTOM: return &lc_check_custom_ops;
	}
	return NULL;
}

static void free_slots(struct lc_check *c)
{
	size_t i;

	for (i = 0; i < c->n_slots; i++)
		if (c->slots[i].state)
			c->ops->free(c->slots[i].state);
	free(c->slots);
	c->slots = NULL;
	c->n_slots = 0;
}

static void build_one(struct lc_check *c, const struct lc_check_conf *conf,
		      double now)
{
	struct lc_error err = LC_ERROR_INIT;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->conf = conf;
	if (conf->error) {
		c->error = lc_xstrdup(conf->error);
		return;
	}
	c->ops = ops_for(conf->kind);
	c->slots = lc_xcalloc(conf->n_instances, sizeof(*c->slots));
	c->n_slots = conf->n_instances;
	for (i = 0; i < conf->n_instances; i++) {
		c->slots[i].inst = &conf->instances[i];
		c->slots[i].next_due = now;
		if (c->ops->init(&c->slots[i].state, conf, &conf->instances[i], &err) < 0) {
			c->error = lc_xstrdup(err.msg);
			free_slots(c);
			c->ops = NULL;
			return;
		}
	}
}

void lc_checks_build(struct lc_checks *out, const struct lc_check_confs *confs,
		     double now)
{
	size_t i;

	out->v = lc_xcalloc(confs->nr, sizeof(*out->v));
	out->nr = confs->nr;
	for (i = 0; i < confs->nr; i++)
		build_one(&out->v[i], &confs->v[i], now);
}

void lc_checks_release(struct lc_checks *cs)
{
	size_t i;

	for (i = 0; i < cs->nr; i++) {
		if (cs->v[i].ops)
			free_slots(&cs->v[i]);
		free(cs->v[i].error);
	}
	free(cs->v);
	cs->v = NULL;
	cs->nr = 0;
}

int lc_check_due(const struct lc_check *c, double now)
{
	size_t i;

	if (!c->ops)
		return 0;
	for (i = 0; i < c->n_slots; i++)
		if (c->slots[i].next_due <= now)
			return 1;
	return 0;
}

double lc_checks_next_due(const struct lc_checks *cs, double now)
{
	double next = now + 3600;
	size_t i, j;

	for (i = 0; i < cs->nr; i++) {
		if (!cs->v[i].ops)
			continue;
		for (j = 0; j < cs->v[i].n_slots; j++)
			if (cs->v[i].slots[j].next_due < next)
				next = cs->v[i].slots[j].next_due;
	}
	return next;
}

size_t lc_check_run_due(struct lc_check *c, double now,
			const struct lc_metric_base *base, struct lc_metrics *out,
			struct lc_buf *errors, const struct lc_cancel *cancel)
{
	size_t i, ran = 0;

	if (!c->ops)
		return 0;
	for (i = 0; i < c->n_slots; i++) {
		struct lc_check_slot *s = &c->slots[i];
		struct lc_error err = LC_ERROR_INIT;
		size_t from = out->nr;
		double started;

		if (s->next_due > now)
			continue;
		if (cancel && cancel->cancelled && cancel->cancelled(cancel->arg))
			break;
		started = lc_clock_now();
		if (c->ops->run(s->state, out, cancel, &err) < 0) {
			if (errors->len)
				lc_buf_adds(errors, "; ");
			if (c->n_slots > 1)
				lc_buf_addf(errors, "instance %zu: ", i + 1);
			lc_buf_adds(errors, err.msg[0] ? err.msg : "failed");
		}
		lc_metrics_decorate(out, from, base, &s->inst->tags,
				    (long long)time(NULL), s->inst->interval);
		/* The next run is one interval after this one started; after a
		 * run that overran its interval, the others get a second. */
		s->next_due = started + (double)s->inst->interval;
		if (s->next_due < lc_clock_now() + 1)
			s->next_due = lc_clock_now() + 1;
		ran++;
	}
	return ran;
}
