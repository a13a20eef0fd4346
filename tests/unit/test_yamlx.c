/* test_yamlx.c - YAML loading (yamlx.c) and node helpers (node.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yamlx.h"

#define assert_contains(hay, needle)                                          \
	do {                                                                  \
		const char *h_ = (hay), *n_ = (needle);                       \
		if (!strstr(h_, n_))                                          \
			fail_msg("message \"%s\"\n  does not contain \"%s\"", \
				 h_, n_);                                     \
	} while (0)

/* Load a string literal (length taken from the array, so "\0" works). */
#define LOAD(doc, name, lit, err) \
	lc_yaml_load_buf((doc), (name), (lit), sizeof(lit) - 1, NULL, (err))

static const struct lc_node *get(const struct lc_node *map, const char *key)
{
	const struct lc_node *n = lc_node_get(map, key);

	if (!n)
		fail_msg("no key '%s'", key);
	return n;
}

/* Expect a load to fail with LC_EPARSE and a message containing want. */
static void expect_fail_len(const char *name, const char *data, size_t len,
			    const struct lc_yaml_limits *lim, const char *want)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	int rc = lc_yaml_load_buf(&doc, name, data, len, lim, &err);

	if (rc != LC_EPARSE)
		fail_msg("rc %d for %s (msg \"%s\")", rc, name, err.msg);
	assert_null(doc.root);
	assert_null(doc.file);
	assert_contains(err.msg, want);
}

#define EXPECT_FAIL(name, lit, want) \
	expect_fail_len((name), (lit), sizeof(lit) - 1, NULL, (want))

static void test_normal_document(void **state)
{
	static const char y[] =
		"name: lab\n"
		"hosts:\n"
		"  - name: db\n"
		"    port: 5432\n"
		"    tags: [a, \"b\"]\n"
		"empty:\n";
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	const struct lc_node *root, *hosts, *db, *port, *tags;

	(void)state;
	assert_int_equal(LOAD(&doc, "lab.yaml", y, &err), 0);
	assert_string_equal(doc.file, "lab.yaml");
	root = doc.root;
	assert_non_null(root);
	assert_int_equal(root->kind, LC_NODE_MAP);
	assert_int_equal(root->n_pairs, 3);
	assert_string_equal(root->pairs[0].key->str, "name");
	assert_string_equal(root->pairs[1].key->str, "hosts");
	assert_string_equal(root->pairs[2].key->str, "empty");
	assert_int_equal(root->line, 1);
	assert_int_equal(root->col, 1);
	assert_ptr_equal(root->file, doc.file);

	hosts = get(root, "hosts");
	assert_int_equal(hosts->kind, LC_NODE_SEQ);
	assert_int_equal(hosts->n_items, 1);
	assert_int_equal(hosts->line, 3);
	assert_int_equal(hosts->col, 3);
	db = hosts->items[0];
	assert_int_equal(db->kind, LC_NODE_MAP);
	assert_int_equal(db->line, 3);
	assert_int_equal(db->col, 5);

	port = get(db, "port");
	assert_int_equal(port->kind, LC_NODE_SCALAR);
	assert_string_equal(port->str, "5432");
	assert_int_equal(port->len, 4);
	assert_int_equal(port->line, 4);
	assert_int_equal(port->col, 11);
	assert_ptr_equal(port->file, doc.file);
	assert_int_equal(db->pairs[1].key->line, 4);
	assert_int_equal(db->pairs[1].key->col, 5);

	tags = get(db, "tags");
	assert_int_equal(tags->kind, LC_NODE_SEQ);
	assert_int_equal(tags->n_items, 2);
	assert_int_equal(tags->line, 5);
	assert_int_equal(tags->col, 11);
	assert_int_equal(tags->items[1]->line, 5);
	assert_int_equal(tags->items[1]->col, 15);

	/* "empty:" has a null value: an empty plain scalar. */
	assert_int_equal(get(root, "empty")->kind, LC_NODE_SCALAR);
	assert_int_equal(get(root, "empty")->len, 0);
	assert_int_equal(get(root, "empty")->plain, 1);
	lc_doc_release(&doc);
	assert_null(doc.root);
	assert_null(doc.file);
	lc_doc_release(&doc);   /* twice is harmless */
}

static void test_plain_and_quoted(void **state)
{
	static const char y[] =
		"a: plain\n"
		"b: \"double\"\n"
		"c: 'single'\n"
		"d: |\n"
		"  literal\n"
		"e: \"x\\0y\"\n"
		"f: 'true'\n"
		"g: true\n";
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	const struct lc_node *r, *e;

	(void)state;
	assert_int_equal(LOAD(&doc, "q.yaml", y, &err), 0);
	r = doc.root;
	assert_int_equal(get(r, "a")->plain, 1);
	assert_int_equal(get(r, "b")->plain, 0);
	assert_string_equal(get(r, "b")->str, "double");
	assert_int_equal(get(r, "c")->plain, 0);
	assert_string_equal(get(r, "c")->str, "single");
	assert_int_equal(get(r, "d")->plain, 0);
	assert_string_equal(get(r, "d")->str, "literal\n");
	e = get(r, "e");
	assert_int_equal(e->len, 3);
	assert_memory_equal(e->str, "x\0y", 4);   /* NUL inside, NUL after */
	assert_int_equal(get(r, "f")->plain, 0);
	assert_int_equal(get(r, "g")->plain, 1);
	lc_doc_release(&doc);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	/* Unclosed quote: where it ended, and where the quote started. */
	EXPECT_FAIL("s.yaml", "a: 1\nb: \"abc\n",
		    "s.yaml:3:1: found unexpected end of stream "
		    "(while scanning a quoted scalar started at line 2, column 4)"
		    "; the closing quote is missing");
	/* Parser error: what was expected. */
	EXPECT_FAIL("s.yaml", "a: [1, 2\nb: 3\n",
		    "s.yaml:2:2: did not find expected ',' or ']' "
		    "(while parsing a flow sequence started at line 1, column 4)");
	EXPECT_FAIL("s.yaml", "a: 1\n: 2\n",
		    "s.yaml:2:1: did not find expected key "
		    "(while parsing a block mapping started at line 1, column 1)");
	EXPECT_FAIL("s.yaml", "a: b: c\n",
		    "s.yaml:1:5: mapping values are not allowed in this context");
	/* CRLF line ends count as one line each. */
	EXPECT_FAIL("s.yaml", "a: 1\r\nb: 2\r\nc: [\r\n",
		    "s.yaml:4:1: did not find expected node content");
}

static void test_tab_indentation(void **state)
{
	(void)state;
	EXPECT_FAIL("tab.yaml", "a:\n\tb: 1\n",
		    "tab.yaml:2:1: found a tab character that cannot start any token "
		    "(while scanning for the next token); indent with spaces, not tabs");
	EXPECT_FAIL("tab.yaml", "a: 1\n\tb: 2\n",
		    "tab.yaml:2:1: found a tab character that violates indentation "
		    "(while scanning a plain scalar started at line 1, column 4); "
		    "indent with spaces, not tabs");
}

static void test_duplicate_keys(void **state)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf big = LC_BUF_INIT;
	int i;

	(void)state;
	EXPECT_FAIL("dup.yaml", "a: 1\nb: 2\na: 3\n",
		    "dup.yaml:3:1: duplicate key 'a' (first defined at line 1)");
	/* Nested, and with the stack still open around it. */
	EXPECT_FAIL("dup.yaml", "top:\n  x:\n    k: 1\n\n    k: [2]\n",
		    "dup.yaml:5:5: duplicate key 'k' (first defined at line 3)");
	EXPECT_FAIL("dup.yaml", "{a: 1, 'a': 2}",
		    "dup.yaml:1:8: duplicate key 'a' (first defined at line 1)");
	/* A control character in the key is escaped in the message. */
	EXPECT_FAIL("dup.yaml", "\"a\\tb\": 1\n\"a\\tb\": 2\n",
		    "dup.yaml:2:1: duplicate key 'a\\x09b' (first defined at line 1)");

	/* Same key in different mappings is fine. */
	assert_int_equal(LOAD(&doc, "ok.yaml", "x: {a: 1}\ny: {a: 2}\nz: [{a: 3}, {a: 4}]\n",
			      &err), 0);
	lc_doc_release(&doc);

	/* A wide mapping (hash set growth); the duplicate is the last key. */
	for (i = 0; i < 20000; i++)
		lc_buf_addf(&big, "key%d: %d\n", i, i);
	assert_int_equal(lc_yaml_load_buf(&doc, "wide.yaml", big.buf, big.len, NULL, &err), 0);
	assert_int_equal(doc.root->n_pairs, 20000);
	assert_string_equal(get(doc.root, "key19999")->str, "19999");
	lc_doc_release(&doc);
	lc_buf_adds(&big, "key7: again\n");
	expect_fail_len("wide.yaml", big.buf, big.len, NULL,
			"wide.yaml:20001:1: duplicate key 'key7' (first defined at line 8)");
	lc_buf_release(&big);
}

static void test_keys_must_be_scalars(void **state)
{
	(void)state;
	EXPECT_FAIL("k.yaml", "? [a]\n: 1\n",
		    "k.yaml:1:3: mapping keys must be plain strings (found a list)");
	EXPECT_FAIL("k.yaml", "x:\n  {b: 1}: 2\n",
		    "k.yaml:2:3: mapping keys must be plain strings (found a mapping)");
	EXPECT_FAIL("k.yaml", "\"a\\0b\": 1\n",
		    "k.yaml:1:1: mapping keys must be plain strings (found a NUL byte)");
	EXPECT_FAIL("k.yaml", "a: 1\n? \n: 2\n",
		    "k.yaml:2:2: mapping keys must be plain strings (found an empty key)");
}

static void test_aliases_anchors_tags(void **state)
{
	static const char lol[] =
		"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n";

	(void)state;
	EXPECT_FAIL("al.yaml", "a: 1\nb: *x\n",
		    "al.yaml:2:4: YAML aliases (*x) are not supported");
	EXPECT_FAIL("al.yaml", "- *first\n",
		    "al.yaml:1:3: YAML aliases (*first) are not supported");
	EXPECT_FAIL("an.yaml", "a: &x 1\nb: *x\n",
		    "an.yaml:1:4: YAML anchors (&x) are not supported");
	EXPECT_FAIL("lol.yaml", lol,
		    "lol.yaml:1:4: YAML anchors (&a) are not supported");
	EXPECT_FAIL("t.yaml", "a: !!str 5\n",
		    "t.yaml:1:4: YAML tags (!!str) are not supported; quote the value");
	EXPECT_FAIL("t.yaml", "a: !!map {}\n",
		    "t.yaml:1:4: YAML tags (!!map) are not supported");
}

static void test_deep_nesting(void **state)
{
	enum { DEEP = 100000 };
	struct lc_yaml_limits lim = LC_YAML_LIMITS_DEFAULT;
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf b = LC_BUF_INIT;
	char *deep = malloc(2 * DEEP + 1);
	int i;

	(void)state;
	assert_non_null(deep);
	memset(deep, '[', DEEP);
	memset(deep + DEEP, ']', DEEP);
	deep[2 * DEEP] = '\0';
	/* The 65th '[' is the first node past the default limit of 64. */
	expect_fail_len("deep.yaml", deep, 2 * DEEP, NULL,
			"deep.yaml:1:65: nesting is deeper than the limit of 64 levels");
	free(deep);

	/* Flow mappings: "{a: {a: ..." */
	for (i = 0; i < DEEP / 4; i++)
		lc_buf_adds(&b, "{a: ");
	expect_fail_len("deep.yaml", b.buf, b.len, NULL,
			"deep.yaml:1:257: nesting is deeper than the limit of 64 levels");
	lc_buf_reset(&b);

	/* Block style, one level per line. */
	for (i = 0; i < 1000; i++)
		lc_buf_addf(&b, "%*sk:\n", 2 * i, "");
	expect_fail_len("deep.yaml", b.buf, b.len, NULL,
			"deep.yaml:65:129: nesting is deeper than the limit of 64 levels");
	lc_buf_release(&b);

	/* Exactly at the limit is fine. */
	lim.max_depth = 3;
	assert_int_equal(lc_yaml_load_buf(&doc, "d.yaml", "a: {b: [1]}", 11, &lim, &err), 0);
	assert_string_equal(get(doc.root, "a")->pairs[0].value->items[0]->str, "1");
	lc_doc_release(&doc);
	lim.max_depth = 2;
	expect_fail_len("d.yaml", "a: {b: [1]}", 11, &lim,
			"d.yaml:1:8: nesting is deeper than the limit of 2 levels");
}

static void test_size_limits(void **state)
{
	enum { FIVE_MIB = 5 << 20 };
	struct lc_yaml_limits lim = LC_YAML_LIMITS_DEFAULT;
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	char *big = malloc(FIVE_MIB);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', FIVE_MIB);
	expect_fail_len("big.yaml", big, FIVE_MIB, NULL,
			"big.yaml: file is 5242880 bytes, larger than the limit of 4194304");
	free(big);

	/* Node count: five scalars fit, the sequence itself makes six. */
	lim.max_nodes = 5;
	expect_fail_len("n.yaml", "[1, 2, 3, 4, 5]", 15, &lim,
			"n.yaml:1:14: too many YAML nodes (the limit is 5)");
	lim.max_nodes = 6;
	assert_int_equal(lc_yaml_load_buf(&doc, "n.yaml", "[1, 2, 3, 4, 5]", 15, &lim, &err), 0);
	assert_int_equal(doc.root->n_items, 5);
	lc_doc_release(&doc);
}

static void test_invalid_utf8(void **state)
{
	struct lc_buf b = LC_BUF_INIT;
	int i;

	(void)state;
	EXPECT_FAIL("u.yaml", "a: 1\nb: \xff\n",
		    "u.yaml:2:4: invalid leading UTF-8 octet (byte 0xff; expected UTF-8 text)");
	/* Columns count characters: "é" is one column. */
	EXPECT_FAIL("u.yaml", "a: \xc3\xa9\xc3\n",
		    "u.yaml:1:6: invalid trailing UTF-8 octet (byte 0x0a; expected UTF-8 text)");
	EXPECT_FAIL("u.yaml", "a: 1\r\nb: \xe2\x82",
		    "u.yaml:2:4: incomplete UTF-8 octet sequence (expected UTF-8 text)");
	EXPECT_FAIL("u.yaml", "a: \"\x00\"\n",
		    "u.yaml:1:5: control characters are not allowed (U+0000)");
	/* A UTF-16 BOM is not UTF-8. */
	EXPECT_FAIL("u.yaml", "\xff\xfe" "a\0:\0",
		    "u.yaml:1:1: invalid leading UTF-8 octet (byte 0xff");
	/* Far into the file, past libyaml's first input chunk. */
	for (i = 0; i < 3000; i++)
		lc_buf_addf(&b, "key%d: value\n", i);
	lc_buf_adds(&b, "last: ok\xc0\xaf\n");
	expect_fail_len("u.yaml", b.buf, b.len, NULL,
			"u.yaml:3001:9: invalid length of a UTF-8 sequence");
	lc_buf_release(&b);
}

static void test_bom_positions(void **state)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	assert_int_equal(LOAD(&doc, "bom.yaml", "\xef\xbb\xbf" "a: 1\n", &err), 0);
	assert_int_equal(doc.root->pairs[0].key->line, 1);
	assert_int_equal(doc.root->pairs[0].key->col, 1);
	assert_int_equal(get(doc.root, "a")->col, 4);
	lc_doc_release(&doc);
	EXPECT_FAIL("bom.yaml", "\xef\xbb\xbf" "a: \xff\n",
		    "bom.yaml:1:4: invalid leading UTF-8 octet");
}

static void test_empty_and_multiple_documents(void **state)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	assert_int_equal(lc_yaml_load_buf(&doc, "e.yaml", "", 0, NULL, &err), 0);
	assert_null(doc.root);
	assert_string_equal(doc.file, "e.yaml");
	lc_doc_release(&doc);
	assert_int_equal(lc_yaml_load_buf(&doc, "e.yaml", NULL, 0, NULL, &err), 0);
	assert_null(doc.root);
	lc_doc_release(&doc);
	assert_int_equal(LOAD(&doc, "e.yaml", "# just a comment\n\n", &err), 0);
	assert_null(doc.root);
	lc_doc_release(&doc);
	assert_int_equal(LOAD(&doc, "e.yaml", "---\n", &err), 0);
	assert_null(doc.root);
	lc_doc_release(&doc);
	/* A quoted empty string is a value, not an empty document. */
	assert_int_equal(LOAD(&doc, "e.yaml", "''\n", &err), 0);
	assert_non_null(doc.root);
	assert_int_equal(doc.root->len, 0);
	lc_doc_release(&doc);
	assert_int_equal(LOAD(&doc, "e.yaml", "---\na: 1\n...\n", &err), 0);
	assert_non_null(doc.root);
	lc_doc_release(&doc);

	EXPECT_FAIL("m.yaml", "a: 1\n---\nb: 2\n",
		    "m.yaml:2:1: only one YAML document is allowed");
}

static char *write_temp(const char *data, size_t len)
{
	char *path = lc_xstrdup("/tmp/test_yamlx.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_load_file(void **state)
{
	struct lc_yaml_limits lim = LC_YAML_LIMITS_DEFAULT;
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf want = LC_BUF_INIT;
	char *path;
	FILE *f;

	(void)state;
	assert_int_equal(lc_yaml_load_file(&doc, "/nonexistent/lab.yaml", NULL, &err),
			 LC_EIO);
	assert_string_equal(err.msg, "/nonexistent/lab.yaml: No such file or directory");
	assert_null(doc.root);
	assert_null(doc.file);
	assert_int_equal(lc_yaml_load_file(&doc, "/tmp", NULL, &err), LC_EIO);
	assert_string_equal(err.msg, "/tmp: Is a directory");

	path = write_temp("hosts:\n  - web\n", 15);
	assert_int_equal(lc_yaml_load_file(&doc, path, NULL, &err), 0);
	assert_string_equal(doc.file, path);
	assert_ptr_equal(get(doc.root, "hosts")->items[0]->file, doc.file);
	assert_int_equal(get(doc.root, "hosts")->items[0]->line, 2);
	assert_int_equal(get(doc.root, "hosts")->items[0]->col, 5);
	lc_doc_release(&doc);

	/* Errors name the path. */
	lim.max_bytes = 10;
	assert_int_equal(lc_yaml_load_file(&doc, path, &lim, &err), LC_EPARSE);
	lc_buf_addf(&want, "%s: file is 15 bytes, larger than the limit of 10", path);
	assert_string_equal(err.msg, want.buf);
	lc_buf_release(&want);
	unlink(path);
	free(path);

	/* A 50 MiB file is refused by its size, without being read. */
	path = write_temp("a: 1\n", 5);
	assert_int_equal(truncate(path, 50 << 20), 0);
	assert_int_equal(lc_yaml_load_file(&doc, path, NULL, &err), LC_EPARSE);
	assert_contains(err.msg, ": file is 52428800 bytes, larger than the limit of 4194304");
	unlink(path);
	free(path);

	/* Not a regular file (size unknown): read, but never past the limit. */
	f = fopen("/proc/self/status", "r");
	if (f) {
		fclose(f);
		lim.max_bytes = 16;
		assert_int_equal(lc_yaml_load_file(&doc, "/proc/self/status", &lim, &err),
				 LC_EPARSE);
		assert_string_equal(err.msg, "/proc/self/status: file is larger than "
					     "the limit of 16 bytes");
	}
}

/* --- node.c helpers ---------------------------------------------------- */

static void test_check_keys(void **state)
{
	static const char *const allowed[] = { "address", "port", "user", NULL };
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	assert_int_equal(LOAD(&doc, "inv.yaml", "address: 127.0.10.1\nport: 22\n", &err), 0);
	assert_int_equal(lc_node_check_keys(doc.root, allowed, "host", &err), 0);
	lc_doc_release(&doc);

	assert_int_equal(LOAD(&doc, "inv.yaml", "port: 22\nadress: 127.0.10.1\n", &err), 0);
	assert_int_equal(lc_node_check_keys(doc.root, allowed, "host", &err), LC_EPARSE);
	assert_string_equal(err.msg, "inv.yaml:2:1: unknown key 'adress' in host "
				     "(expected one of: address, port, user)");
	lc_doc_release(&doc);
}

static void test_expect(void **state)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	assert_int_equal(LOAD(&doc, "inv.yaml", "hosts:\n  - a\nvars: {}\n", &err), 0);
	assert_int_equal(lc_node_expect(get(doc.root, "hosts"), LC_NODE_SEQ,
					"the 'hosts' key", &err), 0);
	assert_int_equal(lc_node_expect(get(doc.root, "hosts"), LC_NODE_MAP,
					"the 'hosts' key", &err), LC_EPARSE);
	assert_string_equal(err.msg, "inv.yaml:2:3: expected a mapping for the 'hosts' key, "
				     "found a list");
	assert_int_equal(lc_node_expect(get(doc.root, "vars"), LC_NODE_SCALAR,
					"'vars'", &err), LC_EPARSE);
	assert_string_equal(err.msg, "inv.yaml:3:7: expected a scalar for 'vars', found a mapping");
	assert_int_equal(lc_node_expect(lc_node_get(doc.root, "roles"), LC_NODE_SEQ,
					"the 'roles' key", &err), LC_EPARSE);
	assert_string_equal(err.msg, "missing the 'roles' key (expected a list)");
	lc_doc_release(&doc);
}

static void test_int(void **state)
{
	static const char y[] =
		"port: 22\n"
		"big: 70000\n"
		"word: abc\n"
		"empty:\n"
		"list: [1]\n"
		"mode: 0644\n"
		"nul: \"5\\0\"\n"
		"neg: -3\n"
		"pw: 12345\n";
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	long v = 0;

	(void)state;
	assert_int_equal(LOAD(&doc, "i.yaml", y, &err), 0);
	assert_int_equal(lc_node_int(&v, get(doc.root, "port"), 1, 65535, &err), 0);
	assert_int_equal(v, 22);
	assert_int_equal(lc_node_int(&v, get(doc.root, "neg"), -10, 10, &err), 0);
	assert_int_equal(v, -3);
	assert_int_equal(lc_node_int(&v, get(doc.root, "mode"), 0, 07777, &err), 0);
	assert_int_equal(v, 0644);

	assert_int_equal(lc_node_int(&v, get(doc.root, "big"), 1, 65535, &err), LC_EPARSE);
	assert_string_equal(err.msg, "i.yaml:2:6: expected an integer from 1 to 65535, "
				     "found '70000'");
	assert_int_equal(lc_node_int(&v, get(doc.root, "word"), 1, 65535, &err), LC_EPARSE);
	assert_contains(err.msg, "i.yaml:3:7: expected an integer from 1 to 65535, found 'abc'");
	assert_int_equal(lc_node_int(&v, get(doc.root, "empty"), 1, 65535, &err), LC_EPARSE);
	assert_contains(err.msg, "found an empty value");
	assert_int_equal(lc_node_int(&v, get(doc.root, "list"), 1, 65535, &err), LC_EPARSE);
	assert_contains(err.msg, "i.yaml:5:7: expected an integer from 1 to 65535, found a list");
	assert_int_equal(lc_node_int(&v, get(doc.root, "nul"), 1, 65535, &err), LC_EPARSE);
	/* Secret values never appear in messages. */
	((struct lc_node *)get(doc.root, "pw"))->secret = 1;
	assert_int_equal(lc_node_int(&v, get(doc.root, "pw"), 1, 100, &err), LC_EPARSE);
	assert_string_equal(err.msg, "i.yaml:9:5: expected an integer from 1 to 100, "
				     "found a secret value");
	assert_int_equal(v, 0644);   /* untouched on failure */
	lc_doc_release(&doc);
}

static void test_bool(void **state)
{
	static const char y[] = "a: true\nb: no\nc: 'true'\nd: maybe\ne: [x]\nf: On\n";
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	int v = -1;

	(void)state;
	assert_int_equal(LOAD(&doc, "b.yaml", y, &err), 0);
	assert_int_equal(lc_node_bool(&v, get(doc.root, "a"), &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(lc_node_bool(&v, get(doc.root, "b"), &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(lc_node_bool(&v, get(doc.root, "c"), &err), LC_EPARSE);
	assert_string_equal(err.msg, "b.yaml:3:4: expected true or false, found 'true' (quoted)");
	assert_int_equal(lc_node_bool(&v, get(doc.root, "d"), &err), LC_EPARSE);
	assert_string_equal(err.msg, "b.yaml:4:4: expected true or false, found 'maybe'");
	assert_int_equal(lc_node_bool(&v, get(doc.root, "e"), &err), LC_EPARSE);
	assert_string_equal(err.msg, "b.yaml:5:4: expected true or false, found a list");
	assert_int_equal(lc_node_bool(&v, get(doc.root, "f"), &err), LC_EPARSE);
	assert_int_equal(v, 0);
	lc_doc_release(&doc);
}

static void test_dup(void **state)
{
	static const char y[] = "a:\n  b: [1, \"two\"]\n  c: \"x\\0y\"\nd: {}\n";
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_node *c;
	const struct lc_node *a, *ca, *cc;

	(void)state;
	assert_int_equal(LOAD(&doc, "dup.yaml", y, &err), 0);
	assert_null(lc_node_dup(NULL));
	c = lc_node_dup(doc.root);
	assert_ptr_not_equal(c, doc.root);
	assert_int_equal(c->n_pairs, 2);
	a = get(doc.root, "a");
	ca = get(c, "a");
	assert_ptr_not_equal(ca, a);
	assert_int_equal(ca->line, 2);
	assert_int_equal(ca->col, 3);
	assert_ptr_equal(ca->file, doc.file);
	assert_int_equal(get(ca, "b")->n_items, 2);
	assert_string_equal(get(ca, "b")->items[1]->str, "two");
	assert_int_equal(get(ca, "b")->items[1]->plain, 0);
	cc = get(ca, "c");
	assert_int_equal(cc->len, 3);
	assert_memory_equal(cc->str, "x\0y", 4);
	assert_int_equal(get(c, "d")->kind, LC_NODE_MAP);
	assert_int_equal(get(c, "d")->n_pairs, 0);

	/* The copy is deep: changing it leaves the original alone. */
	lc_node_seq_add((struct lc_node *)get(ca, "b"), lc_node_new_scalar("3", 1));
	lc_node_map_set((struct lc_node *)get(c, "d"), lc_node_new_scalar("k", 1),
			lc_node_new_scalar("v", 1));
	assert_int_equal(get(a, "b")->n_items, 2);
	assert_int_equal(get(doc.root, "d")->n_pairs, 0);
	assert_int_equal(get(c, "d")->n_pairs, 1);
	lc_node_free(c);
	lc_doc_release(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_document),
		cmocka_unit_test(test_plain_and_quoted),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_tab_indentation),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_keys_must_be_scalars),
		cmocka_unit_test(test_aliases_anchors_tags),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_bom_positions),
		cmocka_unit_test(test_empty_and_multiple_documents),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
