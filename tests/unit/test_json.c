/* test_json.c - JSON text to lc_node trees and back: escapes, surrogate
 * pairs, typing of scalars, positioned errors, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json.h"
#include "testutil.h"

static char *roundtrip(const char *text, int indent)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf b = LC_BUF_INIT;

	if (lc_json_parse(&doc, "t", text, strlen(text), NULL, &err))
		fail_msg("%s", err.msg);
	lc_json_write(&b, doc.root, indent);
	lc_doc_release(&doc);
	return lc_buf_detach(&b, NULL);
}

static void expect_error(const char *text, const struct lc_json_limits *lim, const char *needle)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;

	assert_int_equal(lc_json_parse(&doc, "t.json", text, strlen(text), lim, &err), LC_EPARSE);
	tu_assert_contains(err.msg, needle);
	assert_null(doc.root);
	assert_null(doc.file);
}

static void test_values(void **state)
{
	char *s;

	(void)state;
	s = roundtrip(" {\"a\": [1, -0.5e+3, true, false, null, \"x\"], \"b\": {}, \"c\": []} ", -1);
	assert_string_equal(s, "{\"a\":[1,-0.5e+3,true,false,null,\"x\"],\"b\":{},\"c\":[]}");
	free(s);
	/* strings stay strings even when they read as numbers */
	s = roundtrip("[\"800\", \"true\", \"\"]", -1);
	assert_string_equal(s, "[\"800\",\"true\",\"\"]");
	free(s);
	s = roundtrip("{\"a\": [1, {\"b\": null}], \"c\": {}}", 2);
	assert_string_equal(s, "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n"
			    "  \"c\": {}\n}");
	free(s);
}

static void test_strings(void **state)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	const char text[] = "[\"a\\/b\\\"\\\\\\n\\t\\u00e9\", \"\\ud83d\\ude00\", \"\\udc00x\", "
			    "\"\\u0000z\"]";

	if (lc_json_parse(&doc, "t", text, strlen(text), NULL, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(doc.root->items[0]->str, "a/b\"\\\n\t\xc3\xa9");
	assert_string_equal(doc.root->items[1]->str, "\xf0\x9f\x98\x80");
	assert_string_equal(doc.root->items[2]->str, "\xef\xbf\xbdx");   /* lone surrogate */
	assert_int_equal(doc.root->items[3]->len, 2);
	assert_int_equal(doc.root->items[3]->plain, 0);
	assert_int_equal(lc_json_type(doc.root->items[3]), LC_JSON_STRING);
	lc_doc_release(&doc);
}

static void test_errors(void **state)
{
	struct lc_json_limits lim = { 100, 3, 1000 };

	(void)state;
	expect_error("{\"a\": 1,\n  \"b\" 2}", NULL, "t.json:2:7: expected ':' after a key");
	expect_error("{\"a\": 1, \"a\": 2}", NULL, "t.json:1:10: duplicate key");
	expect_error("[1, 2", NULL, "expected ',' or ']' (the text ends here)");
	expect_error("[01]", NULL, "expected ',' or ']'");
	expect_error("[1.]", NULL, "expected a digit after '.'");
	expect_error("\"a\nb\"", NULL, "a control character inside a string");
	expect_error("\"\\x\"", NULL, "unknown escape");
	expect_error("[1] [2]", NULL, "unexpected text after the value");
	expect_error("", NULL, "expected a value");
	expect_error("[[[[1]]]]", &lim, "nested too deeply");
	expect_error("[\"0123456789012345678901234567890123456789012345678901234567890123456789"
		     "0123456789012345678901234567890123456789\"]", &lim, "more than the 100 allowed");
}

static void test_types(void **state)
{
	struct lc_node *n = lc_node_new_scalar("800", 3);

	(void)state;
	assert_int_equal(lc_json_type(n), LC_JSON_NUMBER);
	n->plain = 0;
	assert_int_equal(lc_json_type(n), LC_JSON_STRING);
	lc_node_free(n);
	n = lc_node_new_scalar("0x10", 4);
	assert_int_equal(lc_json_type(n), LC_JSON_STRING);   /* not JSON's grammar */
	lc_node_free(n);
	n = lc_node_new_scalar("~", 1);
	assert_int_equal(lc_json_type(n), LC_JSON_NULL);
	lc_node_free(n);
	n = lc_node_new_scalar("yes", 3);
	assert_int_equal(lc_json_type(n), LC_JSON_STRING);   /* YAML 1.2: only true/false */
	lc_node_free(n);
	assert_int_equal(lc_json_type(NULL), LC_JSON_NULL);
	assert_true(lc_json_is_number("-1.5E-3"));
	assert_false(lc_json_is_number("+1"));
	assert_false(lc_json_is_number(".5"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
