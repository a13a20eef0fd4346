/* receiver.c - the trace intake (receiver.h). */
#include "receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "buf.h"
#include "clock.h"

struct lc_receiver {
	struct MHD_Daemon *d;
	struct lc_apm *apm;
	char *env;
};

/* One request: its body so far, or why it is already refused. */
struct request {
	struct lc_buf body;
	int too_large;
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code, const char *type,
			       const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ok;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	ok = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result refuse(struct lc_receiver *rc, struct MHD_Connection *c, unsigned code,
			      const char *why, const char *msg)
{
	struct lc_buf text = LC_BUF_INIT;
	enum MHD_Result ok;

	lc_apm_refused(rc->apm, why, msg);
	lc_buf_addf(&text, "%s\n", msg);
	ok = respond(c, code, "text/plain", text.buf);
	lc_buf_release(&text);
	return ok;
}

/* The whole body is here: decode it, count it, answer. */
static enum MHD_Result finish(struct lc_receiver *rc, struct MHD_Connection *c,
			      const char *url, struct request *rq)
{
	struct lc_traces t = LC_TRACES_INIT;
	struct lc_error err = LC_ERROR_INIT;
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_TYPE);
	int v04 = !strcmp(url, "/v0.4/traces"), json = !v04 && type && strstr(type, "json");
	char msg[LC_ERROR_MSG_MAX + 32];
	int rc_;

	if (rq->too_large) {
		snprintf(msg, sizeof(msg), "payload over %u bytes", LC_RECEIVER_MAX_BODY);
		return refuse(rc, c, 413, "too_large", msg);
	}
	rc_ = json ? lc_traces_decode_json(&t, rq->body.buf, rq->body.len, LC_RECEIVER_MAX_SPANS, &err)
		   : lc_traces_decode_msgpack(&t, rq->body.buf, rq->body.len, LC_RECEIVER_MAX_SPANS,
					      &err);
	if (rc_) {
		snprintf(msg, sizeof(msg), "%s: %s", url, err.msg);
		return rc_ == LC_EUSAGE ? refuse(rc, c, 413, "too_large", msg)
					: refuse(rc, c, MHD_HTTP_BAD_REQUEST, "bad_payload", msg);
	}
	lc_apm_add(rc->apm, &t, rc->env, lc_clock_now());
	if (v04)
		return respond(c, MHD_HTTP_OK, "application/json",
			       "{\"rate_by_service\":{\"service:,env:\":1}}");
	return respond(c, MHD_HTTP_OK, "text/plain", "OK");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct lc_receiver *rc = cls;
	struct request *rq = *con_cls;
	int put = !strcmp(method, "PUT") || !strcmp(method, "POST");

	(void)version;
	if (!rq) {
		if (!strcmp(method, "GET") && !strcmp(url, "/info"))
			return respond(c, MHD_HTTP_OK, "application/json",
				       "{\"version\":\"lab-agent " LABCTL_VERSION "\","
				       "\"endpoints\":[\"/v0.3/traces\",\"/v0.4/traces\"]}");
		if (strcmp(url, "/v0.4/traces") && strcmp(url, "/v0.3/traces"))
			return refuse(rc, c, MHD_HTTP_NOT_FOUND, "bad_request", "no such endpoint");
		if (!put)
			return refuse(rc, c, MHD_HTTP_METHOD_NOT_ALLOWED, "bad_request",
				      "traces are sent with PUT or POST");
		rq = lc_xcalloc(1, sizeof(*rq));
		lc_buf_init(&rq->body);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* over the limit: keep reading (the client may not read an early
		 * answer), keep nothing */
		if (!rq->too_large && rq->body.len + *upload_data_size > LC_RECEIVER_MAX_BODY) {
			rq->too_large = 1;
			lc_buf_release(&rq->body);
		}
		if (!rq->too_large)
			lc_buf_add(&rq->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return finish(rc, c, url, rq);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		lc_buf_release(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

int lc_receiver_start(struct lc_receiver **out, const char *addr, unsigned port,
		      struct lc_apm *apm, const char *env, struct lc_error *err)
{
	struct lc_receiver *r;
	struct sockaddr_in sa;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (port == 0 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return lc_error_set(err, LC_EUSAGE, "trace receiver: bad address %s:%u", addr, port);
	r = lc_xcalloc(1, sizeof(*r));
	r->apm = apm;
	r->env = lc_xstrdup(env ? env : "");
	r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, (uint16_t)port,
				NULL, NULL, on_request, r,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, r,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256u << 10),
				MHD_OPTION_END);
	if (!r->d) {
		free(r->env);
		free(r);
		return lc_error_set(err, LC_EIO, "trace receiver: cannot listen on %s:%u (in use?)",
				    addr, port);
	}
	*out = r;
	return 0;
}

void lc_receiver_stop(struct lc_receiver *r)
{
	if (!r)
		return;
	MHD_stop_daemon(r->d);
	free(r->env);
	free(r);
}
