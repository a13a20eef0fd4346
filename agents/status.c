/* status.c - the status file: JSON by hand, written atomically. */
#include "status.h"

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
		if (m[i].own) {
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

void lc_iso8601(struct lc_buf *out, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	lc_buf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void add_str(struct lc_buf *out, const char *s)
{
	if (s)
		lc_buf_add_json(out, s, strlen(s));
	else
		lc_buf_adds(out, "null");
}

static void add_time(struct lc_buf *out, time_t t)
{
	if (!t) {
		lc_buf_adds(out, "null");
		return;
	}
	lc_buf_addc(out, '"');
	lc_iso8601(out, t);
	lc_buf_addc(out, '"');
}

void lc_status_render(struct lc_buf *out, const struct lc_status *st)
{
	size_t i, j;

	lc_buf_adds(out, "{\n  \"version\": ");
	add_str(out, LABCTL_VERSION);
	lc_buf_addf(out, ",\n  \"pid\": %ld,\n  \"running_since\": ", st->pid);
	add_time(out, st->running_since);

	lc_buf_adds(out, ",\n  \"config\": {\n    \"dir\": ");
	add_str(out, st->dir);
	lc_buf_adds(out, ",\n    \"hostname\": ");
	add_str(out, st->hostname);
	lc_buf_adds(out, ",\n    \"tags\": ");
	lc_tags_json(out, &st->tags);
	lc_buf_adds(out, ",\n    \"env\": ");
	add_str(out, st->env);
	lc_buf_adds(out, ",\n    \"dd_url\": ");
	add_str(out, st->dd_url);
	lc_buf_adds(out, ",\n    \"submission\": ");
	add_str(out, st->submission ? "enabled" : "disabled (no api_key)");
	lc_buf_adds(out, ",\n    \"errors\": ");
	lc_tags_json(out, &st->errors);
	lc_buf_adds(out, "\n  },\n  \"checks\": {");

	for (i = 0; i < st->n_checks; i++) {
		const struct lc_status_check *c = &st->checks[i];

		lc_buf_adds(out, i ? ",\n    " : "\n    ");
		add_str(out, c->name);
		lc_buf_adds(out, ": {\"last_run\": ");
		add_time(out, c->last_run);
		lc_buf_adds(out, ", \"last_value\": {");
		for (j = 0; j < c->n_values; j++) {
			if (j)
				lc_buf_adds(out, ", ");
			add_str(out, c->values[j].key);
			lc_buf_adds(out, ": ");
			lc_json_add_number(out, c->values[j].value);
		}
		lc_buf_adds(out, "}, \"error\": ");
		add_str(out, c->error);
		lc_buf_addf(out, ", \"runs\": %lu}", c->runs);
	}
	lc_buf_adds(out, st->n_checks ? "\n  },\n" : "},\n");

	lc_buf_addf(out, "  \"intake\": {\"sent\": %llu, \"failed\": %llu, "
		    "\"dropped\": %llu, \"buffered\": %zu, \"last_success\": ",
		    st->intake.sent, st->intake.failed, st->intake.dropped,
		    st->intake.buffered);
	add_time(out, st->intake.last_success);
	lc_buf_adds(out, ", \"last_error\": ");
	add_str(out, st->intake.last_error);
	lc_buf_adds(out, "}\n}\n");
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
