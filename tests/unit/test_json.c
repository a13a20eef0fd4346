/* test_json.c - JSON text to lc_node trees and back (libjansson): escapes,
 * surrogate pairs, typing of scalars, numbers, invalid UTF-8 written,
 * positioned errors, limits, building values. */
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
	/* a real is read as the double it is and written in the fewest digits */
	assert_string_equal(s, "{\"a\":[1,-500.0,true,false,null,\"x\"],\"b\":{},\"c\":[]}");
	free(s);
	s = roundtrip("[0.1, 1e3, 2.5e-7, 1234567890123, 1.5]", -1);
	assert_string_equal(s, "[0.1,1000.0,2.5e-7,1234567890123,1.5]");
	free(s);
	/* the digits a double needs to read back as itself (then every real
	 * of that document is written with as many) */
	s = roundtrip("[0.30000000000000004]", -1);
	assert_string_equal(s, "[0.30000000000000004]");
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
	const char text[] = "[\"a\\/b\\\"\\\\\\n\\t\\u00e9\", \"\\ud83d\\ude00\", \"x\", "
			    "\"\\u0000z\"]";

	if (lc_json_parse(&doc, "t", text, strlen(text), NULL, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(doc.root->items[0]->str, "a/b\"\\\n\t\xc3\xa9");
	assert_string_equal(doc.root->items[1]->str, "\xf0\x9f\x98\x80");
	assert_string_equal(doc.root->items[2]->str, "x");
	assert_int_equal(doc.root->items[3]->len, 2);
	assert_int_equal(doc.root->items[3]->plain, 0);
	assert_int_equal(lc_json_type(doc.root->items[3]), LC_JSON_STRING);
	lc_doc_release(&doc);
}

static void test_errors(void **state)
{
	struct lc_json_limits lim = { 100, 3, 1000 };

	(void)state;
	expect_error("{\"a\": 1,\n  \"b\" 2}", NULL, "t.json:2:7: ':' expected near '2'");
	expect_error("{\"a\": 1, \"a\": 2}", NULL, "t.json:1:12: duplicate object key near '\"a\"'");
	expect_error("[1, 2", NULL, "t.json:1:5: ']' expected near end of file");
	expect_error("[01]", NULL, "t.json:1:2: invalid token near '0'");
	expect_error("[1.]", NULL, "t.json:1:3: invalid token near '1.'");
	expect_error("\"a\nb\"", NULL, "unexpected newline");
	expect_error("\"\\x\"", NULL, "invalid escape");
	expect_error("\"\\udc00x\"", NULL, "t.json:1:9: invalid Unicode '\\uDC00'");  /* lone surrogate */
	expect_error("[1] [2]", NULL, "t.json:1:5: end of file expected near '['");
	expect_error("", NULL, "t.json:1:1: unexpected token near end of file");
	expect_error("[[[[1]]]]", &lim, "t.json: nested too deeply (more than 3 levels)");
	expect_error("[1,2,3,4,5,6,7,8,9,10]", &(struct lc_json_limits){ 100, 3, 5 },
		     "t.json: more than 5 values");
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

/* What the writer makes of bytes that are not UTF-8, of values built in
 * code, and of YAML scalars. */
static void test_write(void **state)
{
	struct lc_buf b = LC_BUF_INIT;
	struct lc_node *o = lc_json_object(), *a;

	(void)state;
	lc_json_set(o, "event", lc_json_str("op"));
	lc_json_set(o, "n", lc_json_int(-3));
	lc_json_set(o, "s", lc_json_real(0.25));
	lc_json_set(o, "inf", lc_json_real(1.0 / 0.0));
	lc_json_set(o, "ok", lc_json_bool(1));
	lc_json_set(o, "none", lc_json_str(NULL));
	lc_json_set(o, "bad", lc_json_strn("a\xff\xc3(b\xed\xa0\x80", 8));
	lc_json_set(o, "nul", lc_json_strn("x\0y", 3));
	a = lc_json_set(o, "list", lc_json_array());
	lc_json_push(a, lc_json_str("800"));
	lc_json_push(a, lc_node_new_scalar("800", 3));  /* a YAML plain scalar */
	lc_json_line(&b, o);
	assert_string_equal(b.buf, "{\"event\":\"op\",\"n\":-3,\"s\":0.25,\"inf\":null,\"ok\":true,"
			    "\"none\":null,\"bad\":\"a\xef\xbf\xbd\xef\xbf\xbd(b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\","
			    "\"nul\":\"x\\u0000y\",\"list\":[\"800\",800]}\n");
	lc_buf_release(&b);
}

/* Strings as the writer escapes them, byte by byte. */
static void string_is(const char *in, size_t len, const char *want)
{
	struct lc_buf b = LC_BUF_INIT;
	struct lc_node *n = lc_json_strn(in, len);

	lc_json_write(&b, n, -1);
	lc_node_free(n);
	assert_string_equal(b.buf, want);
	lc_buf_release(&b);
}

static void test_write_strings(void **state)
{
	(void)state;
	string_is("", 0, "\"\"");
	string_is("plain", 5, "\"plain\"");
	string_is("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"");
	string_is("\n\r\t", 3, "\"\\n\\r\\t\"");
	string_is("\x01\x1f", 2, "\"\\u0001\\u001F\"");
	string_is("a\0b", 3, "\"a\\u0000b\"");
	string_is("\b\f", 2, "\"\\b\\f\"");
	string_is("\xc3\xa9", 2, "\"\xc3\xa9\"");   /* UTF-8 passes through */
	string_is("abcdef", 3, "\"abc\"");           /* only len bytes */
}

/* And a JSON parser agrees: the document ["<every byte 1..127>"] decodes
 * back to those bytes. */
static void test_write_python_reads(void **state)
{
	struct lc_buf b = LC_BUF_INIT;
	struct lc_node *a = lc_json_array();
	char all[127];
	FILE *py;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)(i + 1);
	lc_json_push(a, lc_json_strn(all, sizeof(all)));
	lc_json_write(&b, a, -1);
	lc_node_free(a);
	py = popen("python3 -c 'import json,sys; d=json.load(sys.stdin); "
		   "sys.exit(0 if d == [\"\".join(map(chr, range(1, 128)))] else 3)'", "w");
	assert_non_null(py);
	assert_int_equal(fwrite(b.buf, 1, b.len, py), b.len);
	assert_int_equal(pclose(py), 0);
	lc_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_write_strings),
		cmocka_unit_test(test_write_python_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
