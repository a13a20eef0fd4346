/* fuzz_yaml.c - libFuzzer target for the YAML loader (lc_yaml_load_buf),
 * and, for input that loads, the inventory and role loaders on the same
 * text (through a file in a private temp dir: they read files).
 *
 * Checks beyond "no crash": a loaded tree respects the default limits
 * (depth 64, 200,000 nodes), every node has a position, and a deep copy
 * (lc_node_dup) frees cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "inventory.h"
#include "role.h"
#include "yamlx.h"

static char *dir, *inv_path, *role_path, *roles_dir;

static void check(const struct lc_node *n, unsigned depth, size_t *count)
{
	size_t i;

	if (depth > 66 || ++*count > 200001)
		abort();
	if (n->line == 0 || n->file == NULL)
		abort();
	switch (n->kind) {
	case LC_NODE_SCALAR:
		if (!n->str || n->str[n->len] != '\0')
			abort();
		break;
	case LC_NODE_SEQ:
		for (i = 0; i < n->n_items; i++)
			check(n->items[i], depth + 1, count);
		break;
	case LC_NODE_MAP:
		for (i = 0; i < n->n_pairs; i++) {
			if (n->pairs[i].key->kind != LC_NODE_SCALAR)
				abort();
			check(n->pairs[i].key, depth + 1, count);
			check(n->pairs[i].value, depth + 1, count);
		}
		break;
	default:
		abort();
	}
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

static void mk(const char *base, const char *rel)
{
	char *p = lc_xasprintf("%s/%s", base, rel);

	mkdir(p, 0755);
	free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char tmpl[] = "/tmp/lc-fuzz-yaml-XXXXXX";

	(void)argc;
	(void)argv;
	if (!mkdtemp(tmpl))
		abort();
	dir = strdup(tmpl);
	inv_path = lc_xasprintf("%s/inventory/lab.yaml", dir);
	roles_dir = lc_xasprintf("%s/roles", dir);
	role_path = lc_xasprintf("%s/roles/r/role.yaml", dir);
	mkdir(roles_dir, 0755);
	mk(dir, "inventory");
	mk(dir, "roles/r");
	mk(dir, "roles/r/files");
	mk(dir, "roles/r/templates");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	int rc;

	rc = lc_yaml_load_buf(&doc, "fuzz.yaml", (const char *)data, size, NULL, &err);
	if (rc == 0) {
		if (doc.root) {
			size_t count = 0;
			struct lc_node *copy;

			check(doc.root, 1, &count);
			copy = lc_node_dup(doc.root);
			lc_node_free(copy);
		}
	} else if (err.msg[0] == '\0' || rc >= 0) {
		abort();  /* an error must say something */
	}
	lc_doc_release(&doc);
	if (rc != 0)
		return 0;

	/* The loaders on top, through files. */
	{
		struct lc_inventory inv;
		struct lc_role role;

		write_file(inv_path, data, size);
		lc_error_clear(&err);
		if (lc_inventory_load(&inv, inv_path, &err) == 0)
			lc_inventory_release(&inv);
		else if (err.msg[0] == '\0')
			abort();
		write_file(role_path, data, size);
		lc_error_clear(&err);
		memset(&role, 0, sizeof(role));
		if (lc_role_load(&role, roles_dir, dir, "r", NULL, &err) == 0)
			lc_role_release(&role);
		else if (err.msg[0] == '\0')
			abort();
	}
	return 0;
}
