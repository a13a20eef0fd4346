/* dogstatsd.h - the DogStatsD line format custom checks print:
 *   metric.name:value|type[|@rate][|#tag1:x,tag2]
 * Types g (gauge) and c (count) are accepted; a count's value is divided by
 * its sample rate.  Pure parsing: no I/O. */
#ifndef LC_DOGSTATSD_H
#define LC_DOGSTATSD_H

#include <stddef.h>

#include "error.h"
#include "metric.h"

/* Longest metric name accepted (Datadog's limit). */
#define LC_DSD_NAME_MAX 200

/* Parse one line (without its newline; a trailing CR is ignored) and append
 * the sample to out.  On error out is unchanged and err says what is wrong
 * with the line (LC_EPARSE). */
int lc_dogstatsd_parse_line(struct lc_metrics *out, const char *line,
			    size_t len, struct lc_error *err);

/* Parse every line of text; blank lines are skipped.  Good lines are
 * appended to out; returns how many lines were malformed, and first_err
 * (may be NULL) gets "line N: ..." for the first of them. */
size_t lc_dogstatsd_parse_text(struct lc_metrics *out, const char *text,
			       size_t len, struct lc_error *first_err);

#endif
