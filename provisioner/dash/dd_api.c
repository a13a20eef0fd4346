/* dd_api.c - the monitoring API's HTTP client (libcurl easy interface). */
#include "dd_api.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "json.h"

#define MAX_ANSWER (64u << 20)
#define MAX_SHOWN 300            /* bytes of a non-JSON answer quoted in errors */
#define MIN_KEY_MASK 4

struct call {
	struct lc_buf body;
	int too_big;
	long reset;                  /* X-RateLimit-Reset seconds, -1 when absent */
};

static int is_loopback_host(const char *h, size_t len)
{
	size_t i;
	int dots = 0;

	if ((len == 9 && !strncasecmp(h, "localhost", 9)) || (len == 5 && !memcmp(h, "[::1]", 5)))
		return 1;
	if (len < 4 || memcmp(h, "127.", 4))
		return 0;
	for (i = 0; i < len; i++) {
		if (h[i] == '.')
			dots++;
		else if (h[i] < '0' || h[i] > '9')
			return 0;
	}
	return dots == 3;
}

int lc_dd_api_check_url(const char *url, struct lc_error *err)
{
	const char *host, *end;
	size_t i;
	int https = !strncmp(url, "https://", 8);

	for (i = 0; url[i]; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
			return lc_error_set(err, LC_EUSAGE, "the API URL '%s' contains white space "
					    "or a control character", url);
	if (!https && strncmp(url, "http://", 7))
		return lc_error_set(err, LC_EUSAGE, "the API URL '%s' is not http:// or https:// "
				    "(set the lab var dd_api_url, e.g. %s)", url,
				    LC_DD_API_DEFAULT_URL);
	host = url + (https ? 8 : 7);
	end = host + strcspn(host, "/?#");
	if (end == host)
		return lc_error_set(err, LC_EUSAGE, "the API URL '%s' has no host", url);
	if (memchr(host, '@', (size_t)(end - host)))
		return lc_error_set(err, LC_EUSAGE, "the API URL must not hold credentials: the "
				    "keys come from %s and %s", LC_DD_API_KEY_ENV,
				    LC_DD_APP_KEY_ENV);
	if (*end == '?' || *end == '#')
		return lc_error_set(err, LC_EUSAGE, "the API URL '%s' must not have a query or "
				    "fragment", url);
	if (!https) {
		const char *colon = host[0] == '[' ? memchr(host, ']', (size_t)(end - host)) : host;
		size_t hl;

		if (host[0] == '[')
			hl = colon ? (size_t)(colon - host) + 1 : (size_t)(end - host);
		else
			hl = strcspn(host, ":/");
		if (hl > (size_t)(end - host))
			hl = (size_t)(end - host);
		if (!is_loopback_host(host, hl))
			return lc_error_set(err, LC_EUSAGE, "the API URL '%s' is plain http to a "
					    "host that is not local: the keys would travel in "
					    "clear (use https://)", url);
	}
	return 0;
}

static int check_key(char **out, const char *env, const char *alt, struct lc_error *err)
{
	const char *v = getenv(env);
	size_t i;

	*out = NULL;
	if ((!v || !*v) && alt && (v = getenv(alt)) && *v)
		env = alt;
	if (!v || !*v)
		return lc_error_set(err, LC_EUSAGE, "%s is not set: the API needs it (the key is "
				    "read from the environment only)", env);
	for (i = 0; v[i]; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return lc_error_set(err, LC_EUSAGE, "%s holds a character that cannot go "
					    "in an HTTP header", env);
	*out = lc_xstrdup(v);
	return 0;
}

int lc_dd_api_init(struct lc_dd_api *api, const char *base_url, struct lc_error *err)
{
	size_t len;
	int rc;

	memset(api, 0, sizeof(*api));
	if ((rc = lc_dd_api_check_url(base_url, err)))
		return rc;
	if ((rc = check_key(&api->api_key, LC_DD_API_KEY_ENV, NULL, err)) ||
	    (rc = check_key(&api->app_key, LC_DD_APP_KEY_ENV, "DD_APP_KEY", err)))
		goto fail;
	if (!(api->curl = curl_easy_init())) {
		rc = lc_error_set(err, LC_ENOMEM, "libcurl: cannot create a handle");
		goto fail;
	}
	len = strlen(base_url);
	while (len && base_url[len - 1] == '/')
		len--;
	api->base = lc_xstrndup(base_url, len);
	api->timeout_ms = 30000;
	api->max_retries = 5;
	api->max_wait_s = 60;
	return 0;
fail:
	lc_dd_api_release(api);
	return rc;
}

void lc_dd_api_release(struct lc_dd_api *api)
{
	if (api->curl)
		curl_easy_cleanup(api->curl);
	free(api->base);
	if (api->api_key)
		memset(api->api_key, 0, strlen(api->api_key));
	if (api->app_key)
		memset(api->app_key, 0, strlen(api->app_key));
	free(api->api_key);
	free(api->app_key);
	memset(api, 0, sizeof(*api));
}

static void mask_one(struct lc_buf *b, const char *key)
{
	struct lc_buf out = LC_BUF_INIT;
	size_t kl = key ? strlen(key) : 0;
	const char *p, *s;

	if (kl < MIN_KEY_MASK || !memmem(b->buf, b->len, key, kl))
		return;
	for (s = b->buf; (p = memmem(s, b->len - (size_t)(s - b->buf), key, kl)); s = p + kl) {
		lc_buf_add(&out, s, (size_t)(p - s));
		lc_buf_adds(&out, "********");
	}
	lc_buf_add(&out, s, b->len - (size_t)(s - b->buf));
	lc_buf_release(b);
	*b = out;
}

char *lc_dd_api_mask(const struct lc_dd_api *api, const char *s)
{
	struct lc_buf b = LC_BUF_INIT;

	lc_buf_adds(&b, s);
	mask_one(&b, api->api_key);
	mask_one(&b, api->app_key);
	return lc_buf_detach(&b, NULL);
}

/* Set err to msg with the keys masked. */
static int fail(struct lc_dd_api *api, struct lc_error *err, int code, struct lc_buf *msg)
{
	char *m = lc_dd_api_mask(api, msg->buf);

	lc_error_set(err, code, "%s", m);
	free(m);
	lc_buf_release(msg);
	return code;
}

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct call *c = data;

	if (c->body.len + size * n > MAX_ANSWER) {
		c->too_big = 1;
		return 0;
	}
	lc_buf_add(&c->body, p, size * n);
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *data)
{
	static const char name[] = "x-ratelimit-reset:";
	struct call *c = data;
	size_t len = size * n;

	if (len > sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1)) {
		char num[32];
		size_t i = sizeof(name) - 1, k = 0;
		char *end;
		long v;

		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		while (i < len && k < sizeof(num) - 1 && p[i] >= '0' && p[i] <= '9')
			num[k++] = p[i++];
		num[k] = '\0';
		v = strtol(num, &end, 10);
		if (k)
			c->reset = v;
	}
	return len;
}

/* Append the API's message: its "errors" array, or the start of the body. */
static void add_api_message(struct lc_buf *msg, const struct lc_buf *body)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error perr = LC_ERROR_INIT;
	const struct lc_node *errs;
	size_t i, n = 0;

	if (body->len && !lc_json_parse(&doc, "answer", body->buf, body->len, NULL, &perr) &&
	    (errs = lc_node_get(doc.root, "errors")) && errs->kind == LC_NODE_SEQ) {
		for (i = 0; i < errs->n_items; i++) {
			if (errs->items[i]->kind != LC_NODE_SCALAR)
				continue;
			lc_buf_adds(msg, n++ ? "; " : ": ");
			lc_buf_add(msg, errs->items[i]->str, strnlen(errs->items[i]->str, 1000));
		}
	}
	lc_doc_release(&doc);
	if (n)
		return;
	if (!body->len) {
		lc_buf_adds(msg, " (no message)");
		return;
	}
	lc_buf_adds(msg, ": ");
	for (i = 0; i < body->len && i < MAX_SHOWN; i++) {
		unsigned char c = (unsigned char)body->buf[i];

		lc_buf_addc(msg, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	if (body->len > MAX_SHOWN)
		lc_buf_adds(msg, "...");
}

static void setup(struct lc_dd_api *api, struct call *c, const char *method, const char *url,
		  const char *body, struct curl_slist *headers, char *errbuf)
{
	CURL *e = api->curl;
	const char *np = getenv("no_proxy") ? getenv("no_proxy") : getenv("NO_PROXY");
	char *noproxy = lc_xasprintf("localhost,127.0.0.0/8,::1%s%s", np && *np ? "," : "",
				     np ? np : "");

	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	} else if (!strcmp(method, "GET")) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, api->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 api->timeout_ms < 10000 ? api->timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "labctl/" LABCTL_VERSION);
	curl_easy_setopt(e, CURLOPT_NOPROXY, noproxy);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	free(noproxy);   /* libcurl copies string options */
}

int lc_dd_api_call(struct lc_dd_api *api, struct lc_node **out, long *status,
		   const char *method, const char *path, const char *body,
		   struct lc_error *err)
{
	struct curl_slist *headers = NULL;
	struct call c = { LC_BUF_INIT, 0, -1 };
	struct lc_buf msg = LC_BUF_INIT;
	char errbuf[CURL_ERROR_SIZE];
	char *url = lc_xasprintf("%s%s", api->base, path), *h;
	unsigned attempt;
	long code = 0;
	int rc = 0;

	*out = NULL;
	if (status)
		*status = 0;
	h = lc_xasprintf("DD-API-KEY: %s", api->api_key);
	headers = curl_slist_append(headers, h);
	memset(h, 0, strlen(h));
	free(h);
	h = lc_xasprintf("DD-APPLICATION-KEY: %s", api->app_key);
	headers = curl_slist_append(headers, h);
	memset(h, 0, strlen(h));
	free(h);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (body)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Expect:");
	for (attempt = 0;; attempt++) {
		CURLcode res;

		lc_buf_reset(&c.body);
		c.too_big = 0;
		c.reset = -1;
		errbuf[0] = '\0';
		setup(api, &c, method, url, body, headers, errbuf);
		api->requests++;
		if (strcmp(method, "GET"))
			api->writes++;
		res = curl_easy_perform(api->curl);
		code = 0;
		curl_easy_getinfo(api->curl, CURLINFO_RESPONSE_CODE, &code);
		if (status)
			*status = code;
		if (res != CURLE_OK) {
			if (res == CURLE_OPERATION_TIMEDOUT) {
				lc_buf_addf(&msg, "%s %s: no answer from %s within %.1f s", method,
					    path, api->base, (double)api->timeout_ms / 1000.0);
				rc = fail(api, err, LC_ETIMEOUT, &msg);
			} else if (c.too_big) {
				lc_buf_addf(&msg, "%s %s: the answer is larger than %u MiB", method,
					    path, MAX_ANSWER >> 20);
				rc = fail(api, err, LC_EREMOTE, &msg);
			} else {
				lc_buf_addf(&msg, "%s %s: %s", method, path,
					    errbuf[0] ? errbuf : curl_easy_strerror(res));
				rc = fail(api, err, LC_ECONNECT, &msg);
			}
			goto out;
		}
		if (code == 429 && attempt < api->max_retries) {
			unsigned s = c.reset < 1 ? 1u : c.reset > (long)api->max_wait_s ?
				     api->max_wait_s : (unsigned)c.reset;

			api->rate_limited++;
			if (api->on_wait)
				api->on_wait(api->data, method, path, s);
			lc_clock_sleep_ms((long)s * 1000);
			continue;
		}
		break;
	}
	if (code >= 200 && code < 300) {
		struct lc_doc doc = LC_DOC_INIT;
		struct lc_error perr = LC_ERROR_INIT;
		size_t i = 0;

		while (i < c.body.len && strchr(" \t\r\n", c.body.buf[i]))
			i++;
		if (i == c.body.len)
			goto out;
		if (lc_json_parse(&doc, "answer", c.body.buf, c.body.len, NULL, &perr)) {
			lc_buf_addf(&msg, "%s %s: HTTP %ld but the answer is not JSON (%s)", method,
				    path, code, perr.msg);
			rc = fail(api, err, LC_EREMOTE, &msg);
			goto out;
		}
		*out = doc.root;
		doc.root = NULL;
		lc_doc_release(&doc);
		goto out;
	}
	if (code == 404 && !strcmp(method, "DELETE"))
		goto out;
	lc_buf_addf(&msg, "%s %s: HTTP %ld", method, path, code);
	if (code == 429)
		lc_buf_addf(&msg, " (still rate limited after %u retries)", api->max_retries);
	add_api_message(&msg, &c.body);
	rc = fail(api, err, LC_EREMOTE, &msg);
out:
	curl_slist_free_all(headers);
	curl_easy_setopt(api->curl, CURLOPT_HTTPHEADER, NULL);
	lc_buf_release(&c.body);
	lc_buf_release(&msg);
	free(url);
	return rc;
}
