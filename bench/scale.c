/* bench/scale.c - labctl's own work at scale, timed: JSON documents of
 * 120 KB to 5 MB (a monitor list as the API answers it), and a file of
 * 50,000 lines with 1,000 edits applied and proven idempotent as a
 * converge does.  Prints one line per figure; exits 1 when a figure
 * exceeds its bound (generous: a regression to quadratic time shows as
 * seconds, not milliseconds).  Built by CMake as bench_scale; run by
 * bench/scale-run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "edit.h"
#include "json.h"
#include "op.h"

#define BOUND_JSON_5MB 1.0     /* s: parse and write a 5 MB document */
#define BOUND_EDITS 1.0        /* s: 1,000 edits of a 50,000-line file, proven */

static int failed;

static void figure(const char *what, double secs, double bound)
{
	printf("%-44s %8.3f s  (bound %.1f s)%s\n", what, secs, bound,
	       secs > bound ? "  EXCEEDED" : "");
	if (secs > bound)
		failed = 1;
}

/* A monitor list: n monitors shaped like the API's answers. */
static void monitors(struct lc_buf *b, size_t bytes)
{
	size_t i;

	lc_buf_addc(b, '[');
	for (i = 0; b->len < bytes; i++)
		lc_buf_addf(b, "%s{\"id\":%zu,\"name\":\"my_metric high on host %zu \\u00e9\","
			    "\"type\":\"query alert\",\"query\":\"avg(last_5m):avg:my_metric"
			    "{host:chaos_engine} > 800\",\"message\":\"{{#is_alert}}high{{/is_alert}}"
			    " \\ud83d\\ude00\",\"tags\":[\"labctl:m%zu\",\"team:lab\"],\"options\":"
			    "{\"thresholds\":{\"critical\":800,\"warning\":500.5},\"notify_no_data\":"
			    "true,\"no_data_timeframe\":10,\"renotify_interval\":null}}",
			    i ? "," : "", i, i, i);
	lc_buf_addc(b, ']');
}

static void bench_json(size_t bytes, double bound)
{
	struct lc_buf text = LC_BUF_INIT, out = LC_BUF_INIT;
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	char what[80];
	double t0;

	monitors(&text, bytes);
	t0 = lc_clock_now();
	if (lc_json_parse(&doc, "monitors.json", text.buf, text.len, NULL, &err)) {
		fprintf(stderr, "bench_scale: %s\n", err.msg);
		exit(1);
	}
	lc_json_write(&out, doc.root, -1);
	snprintf(what, sizeof(what), "json: parse + write %zu KB (%zu monitors)", text.len / 1024,
		 doc.root->n_items);
	figure(what, lc_clock_now() - t0, bound);
	lc_doc_release(&doc);
	lc_buf_release(&text);
	lc_buf_release(&out);
}

/* 50,000 lines of a config file; 1,000 edits of the three kinds, applied
 * and proven by the code a plan runs for an edit op. */
static void bench_edits(void)
{
	struct lc_buf cur = LC_BUF_INIT;
	struct lc_edit *e = lc_xcalloc(1000, sizeof(*e));
	struct lc_error err = LC_ERROR_INIT;
	struct lc_res r;
	size_t i;
	double t0;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 50000; i++)
		lc_buf_addf(&cur, i % 50 ? "key_%zu = value %zu\n" : "# section %zu %zu\n", i, i * 7);
	for (i = 0; i < 1000; i++) {
		char a[128], b[128];
		int rc;

		if (i % 3 == 0) {
			snprintf(a, sizeof(a), "s/^key_%zu = value .*$/key_%zu = edited/", i * 50 + 1,
				 i * 50 + 1);
			rc = lc_edit_parse_subst(&e[i], a, &err);
		} else if (i % 3 == 1) {
			snprintf(a, sizeof(a), "setting_%zu = on", i);
			snprintf(b, sizeof(b), "^# ?setting_%zu =", i);
			rc = lc_edit_init_line(&e[i], a, b, "^# section", &err);
		} else {
			snprintf(a, sizeof(a), "^key_%zu = ", i * 50 + 2);
			rc = lc_edit_init_absent(&e[i], a, &err);
		}
		if (rc) {
			fprintf(stderr, "bench_scale: %s\n", err.msg);
			exit(1);
		}
	}
	/* what a plan does with an edit op: apply them in order, each proven
	 * idempotent, then the list proven on the end result */
	r.edits = e;
	r.n_edits = 1000;
	r.path = "/etc/bench.conf";
	t0 = lc_clock_now();
	if (lc_op_file_apply_edits(&r, cur.buf, cur.len, &err)) {
		fprintf(stderr, "bench_scale: %s\n", err.msg);
		exit(1);
	}
	figure("edits: 1,000 of 50,000 lines, proven", lc_clock_now() - t0, BOUND_EDITS);
	for (i = 0; i < 1000; i++)
		lc_edit_release(&e[i]);
	free(e);
	lc_buf_release(&cur);
	lc_buf_release(&r.own);
}

int main(void)
{
	bench_json(120u << 10, BOUND_JSON_5MB);
	bench_json(500u << 10, BOUND_JSON_5MB);
	bench_json(5u << 20, BOUND_JSON_5MB);
	bench_edits();
	return failed;
}
