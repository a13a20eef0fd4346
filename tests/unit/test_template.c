/* test_template.c - unit tests for the template renderer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "template.h"

/* A map built in code stands in for the merged host variables. */

static struct lc_node *scalar(const char *s)
{
	return lc_node_new_scalar(s, strlen(s));
}

static struct lc_node *secret_scalar(const char *s)
{
	struct lc_node *n = scalar(s);

	n->secret = 1;
	return n;
}

static void set(struct lc_node *map, const char *key, struct lc_node *value)
{
	lc_node_map_set(map, scalar(key), value);
}

static struct lc_node *map_new(void)
{
	return lc_node_new(LC_NODE_MAP, NULL, 0, 0);
}

static struct lc_node *seq_new(void)
{
	return lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
}

static const struct lc_node *lookup(void *data, const char *name)
{
	return lc_node_get(data, name);
}

static int setup(void **state)
{
	struct lc_node *vars = map_new();
	struct lc_node *hosts = map_new(), *pg = map_new(), *web = map_new();
	struct lc_node *tags = seq_new(), *quoted = seq_new(), *mixed = seq_new();
	struct lc_node *nested = seq_new(), *inner = seq_new(), *kv = map_new();
	struct lc_node *vault = map_new(), *big = map_new();
	char key[8];
	int i;

	set(vars, "name", scalar("web1"));

	set(pg, "address", scalar("10.0.0.5"));
	set(pg, "port", scalar("5432"));
	set(hosts, "postgresql", pg);
	set(web, "address", scalar("10.0.0.6"));
	set(hosts, "web", web);
	set(vars, "hosts", hosts);

	lc_node_seq_add(tags, scalar("env:development:local"));
	lc_node_seq_add(tags, scalar("role:web"));
	set(vars, "tags", tags);

	lc_node_seq_add(quoted, scalar("say \"hi\""));
	lc_node_seq_add(quoted, scalar("back\\slash"));
	lc_node_seq_add(quoted, scalar("two\nlines"));
	set(vars, "quoted", quoted);

	set(vars, "password", secret_scalar("hunter2"));
	lc_node_seq_add(mixed, scalar("public"));
	lc_node_seq_add(mixed, secret_scalar("s3cr3t"));
	set(vars, "mixed", mixed);
	/* A secret mapping whose children are not marked themselves. */
	set(vault, "token", scalar("t0k3n"));
	vault->secret = 1;
	set(vars, "vault", vault);

	set(vars, "danger", scalar("$(rm -rf /) `id` 'single' \"double\""));
	set(vars, "unicode", scalar("h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93"));

	lc_node_seq_add(inner, scalar("a"));
	lc_node_seq_add(inner, scalar("b"));
	lc_node_seq_add(nested, inner);
	set(kv, "k", scalar("v"));
	lc_node_seq_add(nested, kv);
	set(vars, "nested", nested);
	set(vars, "empty", seq_new());

	for (i = 0; i < 12; i++) {
		key[0] = 'k';
		key[1] = (char)('a' + i);
		key[2] = '\0';
		set(big, key, scalar("x"));
	}
	set(vars, "big", big);

	*state = vars;
	return 0;
}

static int teardown(void **state)
{
	lc_node_free(*state);
	return 0;
}

/* Render src; return the output (malloc'd) or NULL with *rc and err set. */
static char *render(void **state, const char *src, int *rc, int *secret,
		    struct lc_error *err)
{
	struct lc_buf out = LC_BUF_INIT;

	lc_error_clear(err);
	*rc = lc_template_render(&out, "t.conf", src, strlen(src), lookup, *state,
				 secret, err);
	if (*rc) {
		assert_int_equal(out.len, 0);   /* left as it was */
		lc_buf_release(&out);
		return NULL;
	}
	return lc_buf_detach(&out, NULL);
}

static void assert_renders(void **state, const char *src, const char *want)
{
	struct lc_error err = LC_ERROR_INIT;
	int rc, secret = -1;
	char *got = render(state, src, &rc, &secret, &err);

	if (rc)
		fail_msg("rendering '%s' failed: %s", src, err.msg);
	assert_string_equal(got, want);
	assert_int_equal(secret, 0);
	free(got);
}

static void assert_fails(void **state, const char *src, int code, const char *msg)
{
	struct lc_error err = LC_ERROR_INIT;
	int rc, secret = -1;
	char *got = render(state, src, &rc, &secret, &err);

	if (!rc)
		fail_msg("rendering '%s' should fail, gave '%s'", src, got);
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	if (!strstr(err.msg, msg))
		fail_msg("error '%s' lacks '%s'", err.msg, msg);
	assert_int_equal(secret, 0);
}

static void test_plain_text(void **state)
{
	assert_renders(state, "", "");
	assert_renders(state, "listen_addresses = '*'\n{ } { x } }}\n",
		       "listen_addresses = '*'\n{ } { x } }}\n");
	assert_renders(state, "ends with a brace {", "ends with a brace {");
}

static void test_binary_text(void **state)
{
	static const char src[] = "a\0b{{ name }}\0c";
	struct lc_buf out = LC_BUF_INIT;
	struct lc_error err = LC_ERROR_INIT;

	assert_int_equal(lc_template_render(&out, "bin", src, sizeof(src) - 1, lookup,
					    *state, NULL, &err), 0);
	assert_int_equal(out.len, 9);
	assert_memory_equal(out.buf, "a\0bweb1\0c", 9);
	lc_buf_release(&out);
}

static void test_appends(void **state)
{
	struct lc_buf out = LC_BUF_INIT;
	struct lc_error err = LC_ERROR_INIT;

	lc_buf_adds(&out, "kept ");
	assert_int_equal(lc_template_render(&out, "t", "{{ name }}", 10, lookup,
					    *state, NULL, &err), 0);
	assert_string_equal(out.buf, "kept web1");
	/* A failure leaves what was there. */
	assert_int_equal(lc_template_render(&out, "t", "x{{ nope }}", 11, lookup,
					    *state, NULL, &err), LC_EUNDEF);
	assert_string_equal(out.buf, "kept web1");
	lc_buf_release(&out);
}

static void test_simple_var(void **state)
{
	assert_renders(state, "host={{ name }};", "host=web1;");
	assert_renders(state, "host={{name}};", "host=web1;");
	assert_renders(state, "{{\n  name\n}}", "web1");
}

static void test_dotted(void **state)
{
	assert_renders(state, "host {{ hosts.postgresql.address }}:{{hosts.postgresql.port}}",
		       "host 10.0.0.5:5432");
	assert_renders(state, "{{ hosts.web.address }}", "10.0.0.6");
}

static void test_list_index(void **state)
{
	assert_renders(state, "{{ tags.0 }} {{ tags.1 }}", "env:development:local role:web");
	assert_renders(state, "{{ nested.0.1 }}{{ nested.1.k }}", "bv");
}

static void test_list_flow(void **state)
{
	assert_renders(state, "tags: {{ tags }}",
		       "tags: [\"env:development:local\", \"role:web\"]");
	assert_renders(state, "{{ quoted }}",
		       "[\"say \\\"hi\\\"\", \"back\\\\slash\", \"two\\nlines\"]");
	assert_renders(state, "{{ nested }}", "[[\"a\", \"b\"], {\"k\": \"v\"}]");
	assert_renders(state, "{{ empty }}", "[]");
}

static void test_yaml_filter(void **state)
{
	assert_renders(state, "{{ name | yaml }}", "\"web1\"");
	assert_renders(state, "{{ danger | yaml }}",
		       "\"$(rm -rf /) `id` 'single' \\\"double\\\"\"");
	assert_renders(state, "{{ hosts.postgresql | yaml }}",
		       "{\"address\": \"10.0.0.5\", \"port\": \"5432\"}");
	assert_renders(state, "{{ tags | yaml }}",
		       "[\"env:development:local\", \"role:web\"]");
	assert_renders(state, "{{ tags | join(\",\") | yaml }}",
		       "\"env:development:local,role:web\"");
	assert_renders(state, "{{ \"a\\tb\" | yaml }}", "\"a\\tb\"");
}

static void test_join(void **state)
{
	assert_renders(state, "{{ tags | join(\", \") }}", "env:development:local, role:web");
	assert_renders(state, "{{ tags|join(\"\") }}", "env:development:localrole:web");
	assert_renders(state, "{{ name | join(\",\") }}", "web1");
	assert_renders(state, "[{{ empty | join(\",\") }}]", "[]");
	assert_fails(state, "{{ nested | join(\",\") }}", LC_EPARSE,
		     "t.conf:1: item 0 of 'nested' is a list; 'join' needs a list of scalars");
	assert_fails(state, "{{ hosts | join(\",\") }}", LC_EPARSE,
		     "t.conf:1: 'hosts' is a mapping; 'join' needs a list");
}

static void test_default(void **state)
{
	assert_renders(state, "{{ nope | default(\"5432\") }}", "5432");
	assert_renders(state, "{{ hosts.nope.port | default(\"x\") }}", "x");
	assert_renders(state, "{{ name.nope | default(\"x\") }}", "x");
	assert_renders(state, "{{ tags.7 | default(\"x\") }}", "x");
	assert_renders(state, "{{ tags.first | default(\"x\") }}", "x");
	assert_renders(state, "{{ name | default(\"x\") }}", "web1");
	assert_renders(state, "{{ nope | join(\",\") | default(\"\") }}", "");
	assert_renders(state, "{{ nope | default(\"a\\\"b\") | yaml }}", "\"a\\\"b\"");
	assert_fails(state, "{{ nope | default }}", LC_EPARSE,
		     "t.conf:1: filter 'default' takes one string argument");
	assert_fails(state, "{{ nope | default(x) }}", LC_EPARSE,
		     "t.conf:1: filter 'default' takes one string argument");
}

static void test_literal(void **state)
{
	assert_renders(state, "{{ \"{{\" }} name }}", "{{ name }}");
	assert_renders(state, "{{\"}}\"}}", "}}");
	assert_renders(state, "{{ \"a \\\"q\\\" \\\\ b\" }}", "a \"q\" \\ b");
	assert_fails(state, "{{ \"a\\qb\" }}", LC_EPARSE, "t.conf:1: unknown escape");
	assert_fails(state, "x\n{{ \"abc\n }}", LC_EPARSE,
		     "t.conf:2: unterminated string literal in '{{'");
}

static void test_undefined(void **state)
{
	assert_fails(state, "line 1\nline 2\n\nport = {{ nope }}\n", LC_EUNDEF,
		     "t.conf:4: undefined variable 'nope'");
	assert_fails(state, "a\n{{ name }}\n{{\n hosts.foo.address }}\n{{ name }}", LC_EUNDEF,
		     "t.conf:3: undefined variable 'hosts.foo.address' "
		     "('hosts' has no key 'foo')");
	/* Lines inside a tag count too. */
	assert_fails(state, "{{\n name\n}}\n{{ \"\\n\" }}{{ nope }}", LC_EUNDEF,
		     "t.conf:4: undefined variable 'nope'");
	assert_fails(state, "{{ hosts.postgresql.addr }}", LC_EUNDEF,
		     "t.conf:1: undefined variable 'hosts.postgresql.addr' "
		     "('hosts.postgresql' has no key 'addr')");
	assert_fails(state, "{{ nope.x }}", LC_EUNDEF,
		     "undefined variable 'nope.x' ('nope' is not defined)");
	assert_fails(state, "{{ tags.2 }}", LC_EUNDEF,
		     "undefined variable 'tags.2' ('tags' has no item 2)");
	assert_fails(state, "{{ tags.99999999999999999999999 }}", LC_EUNDEF,
		     "('tags' has no item 99999999999999999999999)");
	assert_fails(state, "{{ tags.x }}", LC_EUNDEF,
		     "('tags' is a list; 'x' is not an index)");
	assert_fails(state, "{{ name.x }}", LC_EUNDEF,
		     "('name' is a scalar; it has no key 'x')");
	/* The message is exact: nothing appended after the name. */
	{
		struct lc_error err = LC_ERROR_INIT;
		int rc;

		assert_null(render(state, "{{ nope }}", &rc, NULL, &err));
		assert_string_equal(err.msg, "t.conf:1: undefined variable 'nope'");
	}
}

static void test_mapping(void **state)
{
	assert_fails(state, "{{ hosts.postgresql }}", LC_EPARSE,
		     "t.conf:1: 'hosts.postgresql' is a mapping; "
		     "name one of its keys (address, port)");
	assert_fails(state, "{{ big }}", LC_EPARSE,
		     "name one of its keys (ka, kb, kc, kd, ke, kf, kg, kh, ki, kj, ...)");
}

static void test_parse_errors(void **state)
{
	assert_fails(state, "ok\nok {{ name\nmore", LC_EPARSE, "t.conf:2: unterminated '{{'");
	assert_fails(state, "{{", LC_EPARSE, "t.conf:1: unterminated '{{'");
	assert_fails(state, "{{ \"x", LC_EPARSE, "t.conf:1: unterminated '{{'");
	assert_fails(state, "\n\n{{ name | capitalize }}", LC_EPARSE,
		     "t.conf:3: unknown filter 'capitalize'");
	assert_fails(state, "{{ name | }}", LC_EPARSE, "expected a filter name after '|'");
	assert_fails(state, "{{ }}", LC_EPARSE, "t.conf:1: empty '{{ }}'");
	assert_fails(state, "{{ name extra }}", LC_EPARSE,
		     "unexpected 'e' after 'name' (expected '|' or '}}')");
	assert_fails(state, "{{ hosts. }}", LC_EPARSE, "expected a name after '.'");
	assert_fails(state, "{{ $x }}", LC_EPARSE, "unexpected '$' in '{{ }}'");
	assert_fails(state, "{{ name | yaml(\"x\") }}", LC_EPARSE,
		     "filter 'yaml' takes no arguments");
	assert_fails(state, "{{ tags | join(\",\" }}", LC_EPARSE,
		     "filter 'join' takes one string argument");
}

static void test_upper_lower(void **state)
{
	assert_renders(state, "{{ name | upper }} {{ \"ABC\" | lower() }}", "WEB1 abc");
	assert_fails(state, "{{ tags | upper }}", LC_EPARSE,
		     "'tags' is a list; 'upper' needs a scalar");
}

static void assert_secret(void **state, const char *src, const char *want)
{
	struct lc_error err = LC_ERROR_INIT;
	int rc, secret = 0;
	char *got = render(state, src, &rc, &secret, &err);

	if (rc)
		fail_msg("rendering '%s' failed: %s", src, err.msg);
	assert_string_equal(got, want);
	assert_int_equal(secret, 1);
	free(got);
}

static void test_secret(void **state)
{
	struct lc_error err = LC_ERROR_INIT;
	int rc;

	assert_secret(state, "pw={{ password }}", "pw=hunter2");
	assert_secret(state, "{{ mixed }}", "[\"public\", \"s3cr3t\"]");
	assert_secret(state, "{{ mixed | join(\" \") }}", "public s3cr3t");
	assert_secret(state, "{{ mixed.1 }}", "s3cr3t");
	assert_secret(state, "{{ vault.token }}", "t0k3n");
	assert_secret(state, "{{ vault | yaml }}", "{\"token\": \"t0k3n\"}");
	assert_secret(state, "{{ password | upper }}", "HUNTER2");
	assert_secret(state, "{{ password | default(\"x\") }}", "hunter2");

	/* Near a secret but not rendering it. */
	assert_renders(state, "{{ mixed.0 }} {{ name }}", "public web1");
	assert_renders(state, "{{ nope | default(\"x\") }}", "x");
	assert_renders(state, "password", "password");

	/* Errors about secrets name them without their values. */
	assert_null(render(state, "{{ vault }}", &rc, NULL, &err));
	assert_int_equal(rc, LC_EPARSE);
	assert_non_null(strstr(err.msg, "'vault' is a mapping; name one of its keys (token)"));
	assert_null(strstr(err.msg, "t0k3n"));
	assert_null(render(state, "{{ password.x }}", &rc, NULL, &err));
	assert_int_equal(rc, LC_EUNDEF);
	assert_null(strstr(err.msg, "hunter2"));
	assert_null(render(state, "{{ password | join(\",\") | bogus }}", &rc, NULL, &err));
	assert_null(strstr(err.msg, "hunter2"));
}

static void test_literal_values(void **state)
{
	assert_renders(state, "cmd={{ danger }}", "cmd=$(rm -rf /) `id` 'single' \"double\"");
	assert_renders(state, "{{ \"$(id)\" }}", "$(id)");
}

static void test_non_ascii(void **state)
{
	assert_renders(state, "gr\xc3\xbc\xc3\x9f {{ unicode }} \xe2\x82\xac",
		       "gr\xc3\xbc\xc3\x9f h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe2\x82\xac");
	assert_renders(state, "{{ unicode | yaml }}",
		       "\"h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93\"");
	assert_renders(state, "{{ \"\xc3\xa9\" | upper }}", "\xc3\xa9");
	/* U+2028 and C1 controls are escaped in YAML output. */
	assert_renders(state, "{{ \"a\xe2\x80\xa8" "b\xc2\x85\x01\" | yaml }}",
		       "\"a\\u2028b\\u0085\\u0001\"");
}

static void test_null_lookup(void **state)
{
	struct lc_buf out = LC_BUF_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	assert_int_equal(lc_template_render(&out, NULL, "{{ x }}", 7, NULL, NULL,
					    NULL, &err), LC_EUNDEF);
	assert_string_equal(err.msg, "(template):1: undefined variable 'x'");
	assert_int_equal(lc_template_render(&out, "t", "{{ x | default(\"d\") }}", 22,
					    NULL, NULL, NULL, NULL), 0);
	assert_string_equal(out.buf, "d");
	lc_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_binary_text),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_simple_var),
		cmocka_unit_test(test_dotted),
		cmocka_unit_test(test_list_index),
		cmocka_unit_test(test_list_flow),
		cmocka_unit_test(test_yaml_filter),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_undefined),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_upper_lower),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_literal_values),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_null_lookup),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
