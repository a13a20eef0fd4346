/* status.c - the status file: JSON (lib/json.h), written atomically. */
#include "status.h"

#include "clock.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef LABCTL_VERSION
#define LABCTL_VERSION "0"
#endif

static void check_release(struct lc_status_check *c)
{
	size_t i;

	free(c->name);
	for (i = 0; i < c->n_values; i++)
		free(c->values[i].key);
	free(c->values);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

void lc_status_release(struct lc_status *st)
{
	size_t i;

	free(st->dir);
	free(st->hostname);
	lc_tags_release(&st->tags);
	free(st->env);
	free(st->dd_url);
	lc_tags_release(&st->errors);
	for (i = 0; i < st->n_checks; i++)
		check_release(&st->checks[i]);
	free(st->checks);
	free(st->intake.last_error);
	lc_node_free(st->apm);
	memset(st, 0, sizeof(*st));
}

struct lc_status_check *lc_status_check(struct lc_status *st, const char *name)
{
	struct lc_status_check *c;
	size_t i, at;

	for (i = 0; i < st->n_checks; i++)
		if (!strcmp(st->checks[i].name, name))
			return &st->checks[i];
	/* Kept sorted by name so the file reads the same every time. */
	for (at = 0; at < st->n_checks && strcmp(st->checks[at].name, name) < 0; at++)
		;
	LC_ALLOC_GROW(st->checks, st->n_checks + 1, st->alloc);
	memmove(st->checks + at + 1, st->checks + at,
		(st->n_checks - at) * sizeof(*st->checks));
	st->n_checks++;
	c = &st->checks[at];
	memset(c, 0, sizeof(*c));
	c->name = lc_xstrdup(name);
	return c;
}

void lc_status_keep_only(struct lc_status *st, const struct lc_tags *keep)
{
	size_t i, j = 0;

	for (i = 0; i < st->n_checks; i++) {
		if (lc_tags_has(keep, st->checks[i].name))
			st->checks[j++] = st->checks[i];
		else
			check_release(&st->checks[i]);
	}
	st->n_checks = j;
}

static void set_value(struct lc_status_check *c, const char *key, double v)
{
	size_t i;

	for (i = 0; i < c->n_values; i++)
		if (!strcmp(c->values[i].key, key)) {
			c->values[i].value = v;
			return;
		}
	LC_ALLOC_GROW(c->values, c->n_values + 1, c->alloc);
	c->values[c->n_values].key = lc_xstrdup(key);
	c->values[c->n_values].value = v;
	c->n_values++;
}

static void clear_values(struct lc_status_check *c)
{
	size_t i;

	for (i = 0; i < c->n_values; i++)
		free(c->values[i].key);
	c->n_values = 0;
}

void lc_status_check_record(struct lc_status_check *c, time_t when,
			    const struct lc_metric *m, size_t n, const char *error)
{
	size_t i;

	c->last_run = when;
	c->runs++;
	clear_values(c);
	for (i = 0; i < n; i++) {
		if (m[i].type == LC_METRIC_SERVICE_CHECK) {
			/* its status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN */
			char *key = lc_xasprintf("service_check:%s%s%s%s", m[i].name,
						 m[i].own ? "{" : "", m[i].own ? m[i].own : "",
						 m[i].own ? "}" : "");

			set_value(c, key, m[i].value);
			free(key);
		} else if (m[i].own) {
			char *key = lc_xasprintf("%s{%s}", m[i].name, m[i].own);

			set_value(c, key, m[i].value);
			free(key);
		} else {
			set_value(c, m[i].name, m[i].value);
		}
	}
	free(c->error);
	c->error = error ? lc_xstrdup(error) : NULL;
}

void lc_status_check_set_error(struct lc_status_check *c, const char *error)
{
	free(c->error);
	c->error = error ? lc_xstrdup(error) : NULL;
}

static struct lc_node *time_node(time_t t)
{
	char iso[LC_CLOCK_ISO];

	if (!t)
		return lc_json_null();
	lc_clock_utc_iso(iso, t);
	return lc_json_str(iso);
}

void lc_status_render(struct lc_buf *out, const struct lc_status *st)
{
	struct lc_node *o = lc_json_object(), *cfg, *checks, *in;
	size_t i, j;

	lc_json_set(o, "version", lc_json_str(LABCTL_VERSION));
	lc_json_set(o, "pid", lc_json_int(st->pid));
	lc_json_set(o, "running_since", time_node(st->running_since));
	cfg = lc_json_set(o, "config", lc_json_object());
	lc_json_set(cfg, "dir", lc_json_str(st->dir));
	lc_json_set(cfg, "hostname", lc_json_str(st->hostname));
	lc_json_set(cfg, "tags", lc_tags_node(&st->tags));
	lc_json_set(cfg, "env", lc_json_str(st->env));
	lc_json_set(cfg, "dd_url", lc_json_str(st->dd_url));
	lc_json_set(cfg, "submission",
		    lc_json_str(st->submission ? "enabled" : "disabled (no api_key)"));
	lc_json_set(cfg, "errors", lc_tags_node(&st->errors));
	checks = lc_json_set(o, "checks", lc_json_object());
	for (i = 0; i < st->n_checks; i++) {
		const struct lc_status_check *c = &st->checks[i];
		struct lc_node *cn = lc_json_set(checks, c->name, lc_json_object()), *v;

		lc_json_set(cn, "last_run", time_node(c->last_run));
		v = lc_json_set(cn, "last_value", lc_json_object());
		for (j = 0; j < c->n_values; j++)
			lc_json_set(v, c->values[j].key, lc_json_number(c->values[j].value));
		lc_json_set(cn, "error", lc_json_str(c->error));
		lc_json_set(cn, "runs", lc_json_int((long long)c->runs));
	}
	in = lc_json_set(o, "intake", lc_json_object());
	lc_json_set(in, "sent", lc_json_int((long long)st->intake.sent));
	lc_json_set(in, "failed", lc_json_int((long long)st->intake.failed));
	lc_json_set(in, "dropped", lc_json_int((long long)st->intake.dropped));
	lc_json_set(in, "buffered", lc_json_int((long long)st->intake.buffered));
	lc_json_set(in, "last_success", time_node(st->intake.last_success));
	lc_json_set(in, "last_error", lc_json_str(st->intake.last_error));
	if (st->apm)
		lc_json_set(o, "apm", lc_node_dup(st->apm));
	lc_json_write(out, o, 2);
	lc_buf_addc(out, '\n');
	lc_node_free(o);
}

/* mkdir -p the directory part of path. */
static int make_parents(const char *path, struct lc_error *err)
{
	char *dir = lc_xstrdup(path), *s;
	int rc = 0;

	for (s = strchr(dir + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			rc = lc_error_set(err, LC_EIO, "cannot create %s: %s", dir,
					  strerror(errno));
			break;
		}
		*s = '/';
	}
	free(dir);
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int lc_status_write(const char *path, const struct lc_status *st,
		    struct lc_error *err)
{
	struct lc_buf json = LC_BUF_INIT;
	char *tmp = lc_xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = -1, rc = 0;

	if ((rc = make_parents(path, err)))
		goto out;
	lc_status_render(&json, st);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = lc_error_set(err, LC_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, json.buf, json.len) < 0 || fsync(fd) < 0) {
		rc = lc_error_set(err, LC_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = lc_error_set(err, LC_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		rc = lc_error_set(err, LC_EIO, "cannot rename %s to %s: %s", tmp, path,
				  strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	lc_buf_release(&json);
	return rc;
}
