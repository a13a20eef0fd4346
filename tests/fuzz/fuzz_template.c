/* fuzz_template.c - libFuzzer target for the template renderer
 * (lc_template_render and lc_template_render_masked) with a small fixed
 * set of variables: scalars, a list, nested maps, a secret.
 *
 * Checks beyond "no crash": the masked rendering never contains the secret
 * value; an error leaves out as it was and has a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

#define SECRET "S3CR3T-fuzz-value"

static struct lc_node *vars;

static struct lc_node *scalar(const char *s)
{
	return lc_node_new_scalar(s, strlen(s));
}

static void set(struct lc_node *map, const char *key, struct lc_node *value)
{
	lc_node_map_set(map, scalar(key), value);
}

static const struct lc_node *lookup(void *data, const char *name)
{
	return lc_node_get(data, name);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct lc_node *hosts, *pg, *tags, *sec, *vault, *nested;

	(void)argc;
	(void)argv;
	vars = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	set(vars, "name", scalar("web1"));
	set(vars, "empty", scalar(""));
	set(vars, "quote", scalar("it's \"q\" $(x) `y`; \n\xc3\xa9"));
	hosts = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	pg = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	set(pg, "address", scalar("127.0.40.1"));
	set(pg, "port", scalar("5432"));
	set(hosts, "postgresql", pg);
	set(vars, "hosts", hosts);
	tags = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
	lc_node_seq_add(tags, scalar("env:dev"));
	lc_node_seq_add(tags, scalar("role:\"web\""));
	set(vars, "tags", tags);
	sec = scalar(SECRET);
	sec->secret = 1;
	set(vars, "password", sec);
	vault = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	set(vault, "token", scalar(SECRET));
	vault->secret = 1;
	set(vars, "vault", vault);
	nested = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
	lc_node_seq_add(nested, lc_node_dup(tags));
	set(vars, "nested", nested);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lc_buf out = LC_BUF_INIT;
	struct lc_error err = LC_ERROR_INIT;
	int secret = -1, rc;

	lc_buf_adds(&out, "prefix");
	rc = lc_template_render(&out, "fuzz.tmpl", (const char *)data, size, lookup,
				vars, &secret, &err);
	if (rc) {
		if (out.len != 6 || memcmp(out.buf, "prefix", 6) || secret != 0 ||
		    !err.msg[0])
			abort();
		/* messages never carry values (they may quote the template's
		 * own text: skip inputs that contain the secret themselves) */
		if (!memmem(data, size, "S3CR3T", 6) && strstr(err.msg, SECRET))
			abort();
	}
	lc_buf_reset(&out);
	lc_error_clear(&err);
	rc = lc_template_render_masked(&out, "fuzz.tmpl", (const char *)data, size,
				       lookup, vars, &err);
	if (rc == 0 && !memmem(data, size, "S3CR3T", 6) &&
	    memmem(out.buf, out.len, SECRET, strlen(SECRET)))
		abort();  /* the secret leaked through the masked rendering */
	lc_buf_release(&out);
	return 0;
}
