/* test_agent_submit.c - the forwarder against a one-request HTTP server on
 * 127.0.0.1: headers, body, errors, the bounded buffer and retries. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "testutil.h"

#include "submit.h"

/* ---- a tiny HTTP server ------------------------------------------------- */

struct server {
	int fd;
	int port;
	const char *reply;     /* the whole response */
	int requests;          /* how many to serve */
	struct lc_buf got;     /* the requests, head and body */
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	char chunk[4096];
	int n;

	while (s->requests-- > 0) {
		int c = accept(s->fd, NULL, NULL);
		size_t start = s->got.len, want = 0;
		ssize_t r;

		if (c < 0)
			break;
		for (;;) {
			const char *head_end;

			r = read(c, chunk, sizeof(chunk));
			if (r <= 0)
				break;
			lc_buf_add(&s->got, chunk, (size_t)r);
			head_end = strstr(s->got.buf + start, "\r\n\r\n");
			if (head_end && !want) {
				const char *cl = strcasestr(s->got.buf + start, "content-length:");

				want = (size_t)(head_end + 4 - s->got.buf) - start +
				       (cl ? strtoul(cl + 15, NULL, 10) : 0);
			}
			if (want && s->got.len - start >= want)
				break;
		}
		n = (int)strlen(s->reply);
		if (write(c, s->reply, (size_t)n) != n)
			break;
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s, const char *reply, int requests)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	lc_buf_init(&s->got);
	s->reply = reply;
	s->requests = requests;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

/* Wait for the requests; s->got stays for the test to read. */
static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* A port on 127.0.0.1 where nothing listens. */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void push_n(struct lc_submit *s, int n, const char *name)
{
	struct lc_metric_base base = LC_METRIC_BASE_INIT;
	struct lc_metrics l = LC_METRICS_INIT;
	struct lc_tags tags = LC_TAGS_INIT;
	int i;

	lc_tags_adds(&tags, "a:b");
	lc_metric_base_init(&base, "h1", &tags, "test");
	for (i = 0; i < n; i++)
		lc_metrics_add(&l, name, i, LC_METRIC_GAUGE);
	lc_metrics_decorate(&l, 0, &base, NULL, 1700000000, 15);
	lc_submit_push(s, &l);
	assert_int_equal(l.nr, 0);
	lc_metrics_release(&l);
	lc_metric_base_release(&base);
	lc_tags_release(&tags);
}

static char *url_of(int port)
{
	return lc_xasprintf("http://127.0.0.1:%d", port);
}

/* ---- tests -------------------------------------------------------------- */

static void test_post(void **state)
{
	struct lc_submit *s;
	struct lc_submit_stats st;
	struct lc_error err = LC_ERROR_INIT;
	struct server srv;
	char *url;

	(void)state;
	server_start(&srv, "HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n"
			   "Connection: close\r\n\r\n{\"status\":\"ok\"}\n", 1);
	assert_int_equal(lc_submit_new(&s, 100, &err), 0);
	url = url_of(srv.port);
	lc_submit_configure(s, url, "test-key-123");
	assert_true(lc_submit_enabled(s));
	push_n(s, 2, "my_metric");
	assert_int_equal(lc_submit_flush(s, &err), 0);
	server_stop(&srv);

	tu_assert_contains(srv.got.buf, "POST /api/v1/series HTTP/1.1\r\n");
	tu_assert_contains(srv.got.buf, "\r\nDD-API-KEY: test-key-123\r\n");
	tu_assert_contains(srv.got.buf, "\r\nContent-Type: application/json\r\n");
	assert_null(strcasestr(srv.got.buf, "Expect:"));
	tu_assert_contains(srv.got.buf,
			   "\r\n\r\n{\"series\":[{\"metric\":\"my_metric\",\"points\":[[1700000000,0]],"
			   "\"type\":\"gauge\",\"host\":\"h1\",\"tags\":[\"a:b\",\"env:test\"]},");

	lc_submit_get_stats(s, &st);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.buffered, 0);
	assert_true(st.last_success > 0);
	assert_null(st.last_error);
	lc_submit_stats_release(&st);
	lc_buf_release(&srv.got);
	free(url);
	lc_submit_free(s);
}

/* A refusal: counted, kept for a retry, and the key (echoed back by a
 * misbehaving intake) does not reach the message. */
static void test_http_error(void **state)
{
	struct lc_submit *s;
	struct lc_submit_stats st;
	struct lc_error err = LC_ERROR_INIT;
	struct server srv;
	char *url;

	(void)state;
	server_start(&srv, "HTTP/1.1 403 Forbidden\r\nContent-Length: 39\r\n"
			   "Connection: close\r\n\r\n{\"errors\":[\"bad key test-key-123\"]}\n\n\n\n", 1);
	assert_int_equal(lc_submit_new(&s, 100, &err), 0);
	url = url_of(srv.port);
	lc_submit_configure(s, url, "test-key-123");
	push_n(s, 3, "m");
	if (lc_submit_flush(s, &err) != LC_EREMOTE)
		fail_msg("not refused: %s", err.msg);
	server_stop(&srv);
	lc_buf_release(&srv.got);
	tu_assert_contains(err.msg, "/api/v1/series: HTTP 403: {\"errors\":[\"bad key ***\"]}");
	assert_null(strstr(err.msg, "test-key-123"));

	lc_submit_get_stats(s, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.buffered, 3);
	tu_assert_contains(st.last_error, "HTTP 403");
	lc_submit_stats_release(&st);
	free(url);
	lc_submit_free(s);
}

static void test_intake_down(void **state)
{
	struct lc_submit *s;
	struct lc_submit_stats st;
	struct lc_error err = LC_ERROR_INIT;
	char *url = url_of(closed_port());

	(void)state;
	assert_int_equal(lc_submit_new(&s, 10, &err), 0);
	lc_submit_configure(s, url, "k");
	push_n(s, 4, "old");
	assert_int_equal(lc_submit_flush(s, &err), LC_ECONNECT);
	tu_assert_contains(err.msg, "POST http://127.0.0.1:");
	/* Retried points stay the oldest: with more coming, they go first. */
	push_n(s, 8, "new");
	lc_submit_get_stats(s, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.buffered, 10);
	assert_int_equal(st.dropped, 2);
	lc_submit_stats_release(&st);
	free(url);
	lc_submit_free(s);
}

static void test_disabled(void **state)
{
	struct lc_submit *s;
	struct lc_submit_stats st;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	assert_int_equal(lc_submit_new(&s, 10, &err), 0);
	lc_submit_configure(s, "http://127.0.0.1:1", "");
	assert_false(lc_submit_enabled(s));
	push_n(s, 5, "m");
	assert_int_equal(lc_submit_flush(s, &err), 0);
	lc_submit_get_stats(s, &st);
	assert_int_equal(st.buffered + st.sent + st.failed + st.dropped, 0);
	lc_submit_stats_release(&st);
	lc_submit_free(s);
}

/* The thread flushes on its own and stops promptly. */
static void test_thread(void **state)
{
	struct lc_submit *s;
	struct lc_submit_stats st;
	struct lc_error err = LC_ERROR_INIT;
	struct server srv;
	char *url;
	int i;

	(void)state;
	server_start(&srv, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			   "Connection: close\r\n\r\n{}", 1);
	assert_int_equal(lc_submit_new(&s, 100, &err), 0);
	url = url_of(srv.port);
	lc_submit_configure(s, url, "k");
	assert_int_equal(lc_submit_start(s, 1, &err), 0);
	push_n(s, 2, "m");
	for (i = 0; i < 50; i++) {
		lc_submit_get_stats(s, &st);
		if (st.sent == 2)
			break;
		lc_submit_stats_release(&st);
		usleep(100 * 1000);
	}
	assert_int_equal(st.sent, 2);
	lc_submit_stats_release(&st);
	lc_submit_stop(s);
	server_stop(&srv);
	tu_assert_contains(srv.got.buf, "DD-API-KEY: k\r\n");
	lc_buf_release(&srv.got);
	free(url);
	lc_submit_free(s);
}

static void test_scrub(void **state)
{
	struct lc_buf b = LC_BUF_INIT;

	(void)state;
	lc_buf_adds(&b, "keyA and keyA again");
	lc_submit_scrub(&b, "keyA");
	assert_string_equal(b.buf, "*** and *** again");
	lc_submit_scrub(&b, "");
	assert_string_equal(b.buf, "*** and *** again");
	lc_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post),
		cmocka_unit_test(test_http_error),
		cmocka_unit_test(test_intake_down),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_thread),
		cmocka_unit_test(test_scrub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
