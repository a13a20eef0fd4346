/* trace.h - traces as tracers send them to the agent: the v0.4 payload
 * (msgpack, through Debian's libmsgpack-c: the only msgpack user is
 * trace.c) and the v0.3 one (JSON): an array of traces, each an array of
 * spans {trace_id, span_id, parent_id, name, service, resource, type,
 * start, duration, error, meta, metrics}.  A payload that is not that shape
 * is refused whole, with a message saying where it went wrong. */
#ifndef LC_TRACE_H
#define LC_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct lc_span {
	uint64_t trace_id, span_id, parent_id;
	char *name, *service, *resource, *type;
	int64_t start, duration;   /* nanoseconds */
	int error;
	char *env, *version;       /* meta env, version (NULL: none) */
	int http_status;           /* meta http.status_code (0: none) */
	int top_level;             /* an entry into its service (see lc_traces_mark) */
};

struct lc_trace {
	struct lc_span *spans;
	size_t n;
};

struct lc_traces {
	struct lc_trace *v;
	size_t n;
	size_t n_spans;
};

#define LC_TRACES_INIT { NULL, 0, 0 }

/* Decode a payload; more than max_spans spans in it is an error (LC_EUSAGE:
 * too large), any other problem LC_EPARSE.  On error out is empty.  Spans
 * are marked top-level on success. */
int lc_traces_decode_msgpack(struct lc_traces *out, const char *buf, size_t len,
			     size_t max_spans, struct lc_error *err);
int lc_traces_decode_json(struct lc_traces *out, const char *buf, size_t len,
			  size_t max_spans, struct lc_error *err);
void lc_traces_release(struct lc_traces *t);

#endif
