/* receiver.h - the trace intake: an HTTP server on a loopback address (the
 * tracer's default, 127.0.0.1:8126) answering the tracer protocol as the
 * real agent does, through Debian's libmicrohttpd (the only user is
 * receiver.c):
 *
 *   PUT|POST /v0.4/traces   msgpack        200 {"rate_by_service":{...}}
 *   PUT|POST /v0.3/traces   msgpack|JSON   200 OK
 *   GET /info               the endpoints it serves
 *
 * A body over LC_RECEIVER_MAX_BODY is 413, more than LC_RECEIVER_MAX_SPANS
 * spans 413, anything that is not a payload 400; every refusal is counted
 * in apm and the server keeps serving.  It never prints. */
#ifndef LC_RECEIVER_H
#define LC_RECEIVER_H

#include "apm.h"
#include "error.h"

#define LC_RECEIVER_MAX_BODY (8u << 20)
#define LC_RECEIVER_MAX_SPANS 50000

struct lc_receiver;

/* Listen on addr:port (an IPv4 address) in a thread of its own, feeding
 * apm; spans without env get env (copied). */
int lc_receiver_start(struct lc_receiver **out, const char *addr, unsigned port,
		      struct lc_apm *apm, const char *env, struct lc_error *err);
void lc_receiver_stop(struct lc_receiver *r);

#endif
