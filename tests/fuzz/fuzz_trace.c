/* fuzz_trace.c - libFuzzer target for lab-agent's trace intake: what a
 * tracer (or anything that reaches port 8126) sends.
 *
 * The first byte picks the decoder (even: v0.4 msgpack, odd: v0.3 JSON),
 * the rest is the payload.  A payload either decodes or is refused with a
 * message; what decodes goes through the APM aggregation (metrics and the
 * status), as the receiver does.  No crash, no leak, no allocation beyond
 * what the payload's size justifies (libFuzzer's -rss_limit_mb). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apm.h"
#include "buf.h"
#include "json.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lc_traces t = LC_TRACES_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf body = LC_BUF_INIT, out = LC_BUF_INIT;
	struct lc_metrics m = LC_METRICS_INIT;
	struct lc_apm *apm;
	struct lc_node *st;
	int rc;

	if (size < 1)
		return 0;
	/* the receiver hands the decoders an lc_buf: NUL-terminated */
	lc_buf_add(&body, data + 1, size - 1);
	rc = data[0] & 1 ? lc_traces_decode_json(&t, body.buf, body.len, 1000, &err)
			 : lc_traces_decode_msgpack(&t, body.buf, body.len, 1000, &err);
	if (rc) {
		if (!err.msg[0] || t.n || t.v)
			abort();  /* refused: a message, nothing kept */
	} else {
		apm = lc_apm_new();
		lc_apm_add(apm, &t, "fuzz", 100.0);
		lc_apm_take(apm, &m);
		st = lc_apm_status(apm, 101.0);
		lc_json_write(&out, st, -1);
		lc_node_free(st);
		lc_metrics_release(&m);
		lc_apm_free(apm);
	}
	lc_traces_release(&t);
	lc_buf_release(&body);
	lc_buf_release(&out);
	return 0;
}
