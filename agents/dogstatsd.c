/* dogstatsd.c - parse DogStatsD metric lines. */
#include "dogstatsd.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Datadog metric names: a letter, then letters, digits, '_' and '.'. */
static int check_name(const char *s, size_t len, struct lc_error *err)
{
	size_t i;

	if (!len)
		return lc_error_set(err, LC_EPARSE, "empty metric name");
	if (len > LC_DSD_NAME_MAX)
		return lc_error_set(err, LC_EPARSE,
				    "metric name longer than %d characters",
				    LC_DSD_NAME_MAX);
	if (!is_alpha(s[0]))
		return lc_error_set(err, LC_EPARSE,
				    "metric name '%.*s' must start with a letter",
				    (int)len, s);
	for (i = 1; i < len; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_' && s[i] != '.')
			return lc_error_set(err, LC_EPARSE,
					    "metric name '%.*s' may only hold letters, digits, '_' and '.'",
					    (int)len, s);
	return 0;
}

/* A plain decimal number: no hex, inf, nan or surrounding spaces. */
static int parse_number(double *out, const char *s, size_t len)
{
	char *copy, *end;
	size_t i;
	double v;

	if (!len)
		return -1;
	for (i = 0; i < len; i++)
		if (!is_digit(s[i]) && !strchr("+-.eE", s[i]))
			return -1;
	copy = lc_xstrndup(s, len);
	errno = 0;
	v = strtod(copy, &end);
	i = (size_t)(end - copy);
	free(copy);
	if (i != len || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

static int parse_tags(struct lc_tags *out, const char *s, size_t len,
		      struct lc_error *err)
{
	size_t i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ',') {
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return lc_error_set(err, LC_EPARSE,
						    "control character in tags");
			continue;
		}
		if (i > start)
			lc_tags_add(out, s + start, i - start);
		start = i + 1;
	}
	return 0;
}

/* "_sc|name|status" then |d:timestamp, |h:hostname, |#tags and, last,
 * |m:message (where "\\n" is a new line). */
static int parse_service_check(struct lc_metrics *out, const char *line, size_t len,
			       struct lc_error *err)
{
	const char *end = line + len, *p = line + 4, *bar;
	struct lc_tags tags = LC_TAGS_INIT;
	struct lc_buf msg = LC_BUF_INIT;
	struct lc_metric *m;
	char *name;
	double status;
	int rc;

	bar = memchr(p, '|', (size_t)(end - p));
	if (!bar || bar == p)
		return lc_error_set(err, LC_EPARSE, "expected '_sc|name|status', found '%.*s'",
				    (int)(len > 80 ? 80 : len), line);
	if ((rc = check_name(p, (size_t)(bar - p), err)))
		return rc;
	name = lc_xstrndup(p, (size_t)(bar - p));
	p = bar + 1;
	bar = memchr(p, '|', (size_t)(end - p));
	if (!bar)
		bar = end;
	if (parse_number(&status, p, (size_t)(bar - p)) < 0 ||
	    !(status == 0 || status == 1 || status == 2 || status == 3)) {
		rc = lc_error_set(err, LC_EPARSE, "service check %s: bad status '%.*s' "
				  "(expected 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN)", name,
				  (int)(bar - p > 10 ? 10 : bar - p), p);
		goto out;
	}
	while (bar < end) {
		p = bar + 1;
		if (end - p >= 2 && !memcmp(p, "m:", 2)) {  /* the message: the rest */
			const char *q;

			for (q = p + 2; q < end; q++) {
				if (*q == '\\' && q + 1 < end && q[1] == 'n') {
					lc_buf_addc(&msg, '\n');
					q++;
				} else {
					lc_buf_addc(&msg, *q);
				}
			}
			break;
		}
		bar = memchr(p, '|', (size_t)(end - p));
		if (!bar)
			bar = end;
		if (p < bar && *p == '#') {
			if ((rc = parse_tags(&tags, p + 1, (size_t)(bar - p - 1), err)))
				goto out;
		} else if (!(bar - p >= 2 && (!memcmp(p, "d:", 2) || !memcmp(p, "h:", 2)))) {
			rc = lc_error_set(err, LC_EPARSE, "service check %s: unexpected section "
					  "'|%.*s' (expected |d:, |h:, |#tags or |m:)", name,
					  (int)(bar - p > 20 ? 20 : bar - p), p);
			goto out;
		}
	}
	m = lc_metrics_add(out, name, status, LC_METRIC_SERVICE_CHECK);
	m->tags = tags;
	tags.v = NULL;
	tags.nr = tags.alloc = 0;
	m->message = lc_buf_detach(&msg, NULL);
	rc = 0;
out:
	free(name);
	lc_tags_release(&tags);
	lc_buf_release(&msg);
	return rc;
}

int lc_dogstatsd_parse_line(struct lc_metrics *out, const char *line,
			    size_t len, struct lc_error *err)
{
	struct lc_tags tags = LC_TAGS_INIT;
	const char *colon, *bar, *p, *end;
	enum lc_metric_type type;
	double value, rate = 1;
	int have_rate = 0, have_tags = 0, rc;
	struct lc_metric *m;
	char *name = NULL;

	if (len && line[len - 1] == '\r')
		len--;
	end = line + len;
	if (memchr(line, '\0', len))
		return lc_error_set(err, LC_EPARSE, "NUL byte in line");
	if (len >= 4 && !memcmp(line, "_sc|", 4))
		return parse_service_check(out, line, len, err);
	if (len >= 3 && !memcmp(line, "_e{", 3))
		return lc_error_set(err, LC_EPARSE, "events are not supported, only metrics and "
				    "service checks");
	colon = memchr(line, ':', len);
	bar = memchr(line, '|', len);
	if (!colon || !bar || bar < colon)
		return lc_error_set(err, LC_EPARSE,
				    "expected 'metric:value|type', found '%.*s'",
				    (int)(len > 80 ? 80 : len), line);
	if ((rc = check_name(line, (size_t)(colon - line), err)))
		return rc;
	if (parse_number(&value, colon + 1, (size_t)(bar - colon - 1)) < 0)
		return lc_error_set(err, LC_EPARSE, "bad value '%.*s' (expected a number)",
				    (int)(bar - colon - 1 > 40 ? 40 : bar - colon - 1),
				    colon + 1);

	/* The type, then the optional sections in any order. */
	p = bar + 1;
	bar = memchr(p, '|', (size_t)(end - p));
	if (!bar)
		bar = end;
	if (bar - p == 1 && *p == 'g') {
		type = LC_METRIC_GAUGE;
	} else if (bar - p == 1 && *p == 'c') {
		type = LC_METRIC_COUNT;
	} else {
		return lc_error_set(err, LC_EPARSE,
				    "metric type '%.*s' is not supported (expected g or c)",
				    (int)(bar - p > 10 ? 10 : bar - p), p);
	}
	while (bar < end) {
		p = bar + 1;
		bar = memchr(p, '|', (size_t)(end - p));
		if (!bar)
			bar = end;
		if (p < bar && *p == '@' && !have_rate) {
			if (parse_number(&rate, p + 1, (size_t)(bar - p - 1)) < 0 ||
			    !(rate > 0 && rate <= 1)) {
				rc = lc_error_set(err, LC_EPARSE,
						  "bad sample rate '%.*s' (expected a number in (0, 1])",
						  (int)(bar - p > 20 ? 20 : bar - p), p);
				goto out;
			}
			have_rate = 1;
		} else if (p < bar && *p == '#' && !have_tags) {
			if ((rc = parse_tags(&tags, p + 1, (size_t)(bar - p - 1), err)))
				goto out;
			have_tags = 1;
		} else {
			rc = lc_error_set(err, LC_EPARSE,
					  "unexpected section '|%.*s' (expected |@rate or |#tags, once each)",
					  (int)(bar - p > 20 ? 20 : bar - p), p);
			goto out;
		}
	}

	if (type == LC_METRIC_COUNT)
		value /= rate;
	name = lc_xstrndup(line, (size_t)(colon - line));
	m = lc_metrics_add(out, name, value, type);
	m->tags = tags;
	tags.v = NULL;
	tags.nr = tags.alloc = 0;
	rc = 0;
out:
	free(name);
	lc_tags_release(&tags);
	return rc;
}

static int is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

size_t lc_dogstatsd_parse_text(struct lc_metrics *out, const char *text,
			       size_t len, struct lc_error *first_err)
{
	const char *p = text, *end = text + len, *nl;
	struct lc_error err = LC_ERROR_INIT;
	size_t bad = 0, lineno = 0, n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (!is_blank(p, n) && lc_dogstatsd_parse_line(out, p, n, &err) < 0) {
			if (!bad++ && first_err)
				lc_error_set(first_err, LC_EPARSE, "line %zu: %s",
					     lineno, err.msg);
		}
		p += n + (nl ? 1 : 0);
	}
	return bad;
}
