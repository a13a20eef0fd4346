/* inventory.c - load and check inventory/lab.yaml. */
#include "inventory.h"

#include "source.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reserved_vars[] = {
	"agent", "host", "hosts", "inventory_hostname", "roles", "tags", NULL
};

static int is_reserved(const char *name)
{
	size_t i;

	for (i = 0; reserved_vars[i]; i++)
		if (!strcmp(reserved_vars[i], name))
			return 1;
	return 0;
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

int lc_vars_resolve(struct lc_node **out, const struct lc_node *v, struct lc_error *err)
{
	static const char *const env_keys[] = { "from_env", "secret", "default", NULL };
	const struct lc_node *name, *secret, *def;
	struct lc_node *r = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (v->kind == LC_NODE_MAP && (name = lc_node_get(v, "from_env"))) {
		const char *val;
		int is_secret = 1;

		if ((rc = lc_node_check_keys(v, env_keys, "a from_env value", err)))
			return rc;
		if (name->kind != LC_NODE_SCALAR || !valid_name(name->str))
			return lc_node_error(err, LC_EPARSE, name,
					     "expected an environment variable name for from_env");
		if ((secret = lc_node_get(v, "secret")) &&
		    (rc = lc_node_bool(&is_secret, secret, err)))
			return rc;
		def = lc_node_get(v, "default");
		if (def && def->kind != LC_NODE_SCALAR)
			return lc_node_error(err, LC_EPARSE, def, "expected a string for default");
		val = getenv(name->str);
		if (!val && !def)
			return lc_node_error(err, LC_EUNDEF, name,
					     "environment variable %s is not set and has no default",
					     name->str);
		r = val ? lc_node_new_scalar(val, strlen(val)) : lc_node_new_scalar(def->str, def->len);
		r->file = v->file;
		r->line = v->line;
		r->col = v->col;
		r->plain = 0;
		r->secret = is_secret;
		*out = r;
		return 0;
	}
	if (v->kind == LC_NODE_SCALAR) {
		*out = lc_node_dup(v);
		return 0;
	}
	r = lc_node_new(v->kind, v->file, v->line, v->col);
	if (v->kind == LC_NODE_SEQ) {
		for (i = 0; i < v->n_items; i++) {
			struct lc_node *item;

			if ((rc = lc_vars_resolve(&item, v->items[i], err)))
				goto fail;
			lc_node_seq_add(r, item);
		}
	} else {
		for (i = 0; i < v->n_pairs; i++) {
			struct lc_node *item;

			if ((rc = lc_vars_resolve(&item, v->pairs[i].value, err)))
				goto fail;
			lc_node_map_set(r, lc_node_dup(v->pairs[i].key), item);
		}
	}
	*out = r;
	return 0;
fail:
	lc_node_free(r);
	return rc;
}

/* vars: a map of name -> value; names must not be reserved. */
static int load_vars(struct lc_node **out, const struct lc_node *n, struct lc_error *err)
{
	size_t i;
	int rc;

	*out = NULL;
	if (!n) {
		*out = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
		return 0;
	}
	if ((rc = lc_node_expect(n, LC_NODE_MAP, "'vars'", err)))
		return rc;
	for (i = 0; i < n->n_pairs; i++) {
		const struct lc_node *k = n->pairs[i].key;

		if (is_reserved(k->str))
			return lc_node_error(err, LC_EPARSE, k,
					     "'%s' is reserved and cannot be set as a variable%s",
					     k->str, strcmp(k->str, "tags") ? "" :
					     " (use the 'tags' key of the lab or the host)");
		if (!valid_name(k->str))
			return lc_node_error(err, LC_EPARSE, k,
					     "invalid variable name '%s' (letters, digits, '_' and '-')",
					     k->str);
	}
	return lc_vars_resolve(out, n, err);
}

static int load_tags(struct lc_node *list, const struct lc_node *n, struct lc_error *err)
{
	size_t i;
	int rc;

	if (!n)
		return 0;
	if ((rc = lc_node_expect(n, LC_NODE_SEQ, "'tags'", err)))
		return rc;
	for (i = 0; i < n->n_items; i++) {
		if ((rc = lc_node_expect(n->items[i], LC_NODE_SCALAR, "a tag", err)))
			return rc;
		lc_node_seq_add(list, lc_node_dup(n->items[i]));
	}
	return 0;
}

static int load_string(char **out, const struct lc_node *n, const char *what,
		       struct lc_error *err)
{
	int rc;

	if ((rc = lc_node_expect(n, LC_NODE_SCALAR, what, err)))
		return rc;
	free(*out);
	*out = lc_xstrndup(n->str, n->len);
	return 0;
}

/* p relative to dir, normalized when it exists (for readable messages). */
static char *path_from(const char *dir, const char *p)
{
	const char *home = getenv("HOME");
	char *joined = p[0] == '~' && (p[1] == '/' || !p[1]) ?
		       lc_xasprintf("%s%s", home ? home : "/root", p + 1) :
		       p[0] == '/' ? lc_xstrdup(p) : lc_xasprintf("%s/%s", dir, p);
	char *real = realpath(joined, NULL);

	if (!real)
		return joined;
	free(joined);
	return real;
}

static void become_release(struct lc_become *b)
{
	free(b->method);
	free(b->user);
	if (b->password)
		explicit_bzero(b->password, strlen(b->password));
	free(b->password);
	memset(b, 0, sizeof(*b));
}

static void become_copy(struct lc_become *out, const struct lc_become *b)
{
	out->method = b->method ? lc_xstrdup(b->method) : NULL;
	out->user = b->user ? lc_xstrdup(b->user) : NULL;
	out->password = b->password ? lc_xstrdup(b->password) : NULL;
}

/* become, become_user, become_password of map n (the ssh map, or a host) */
static int load_become(struct lc_become *b, const struct lc_node *n, struct lc_error *err)
{
	const struct lc_node *v;
	struct lc_node *pw = NULL;
	int rc;

	if ((v = lc_node_get(n, "become"))) {
		if ((rc = load_string(&b->method, v, "become", err)))
			return rc;
		if (!strcmp(b->method, "false") || !strcmp(b->method, "none")) {
			free(b->method);
			b->method = NULL;
		} else if (strcmp(b->method, "sudo")) {
			return lc_node_error(err, LC_EPARSE, v, "expected 'sudo' (or none) for become");
		}
	}
	if ((v = lc_node_get(n, "become_user"))) {
		if ((rc = load_string(&b->user, v, "become_user", err)))
			return rc;
		if (!valid_name(b->user))
			return lc_node_error(err, LC_EPARSE, v, "invalid become_user '%s'", b->user);
	}
	if ((v = lc_node_get(n, "become_password"))) {
		if (v->kind != LC_NODE_MAP || !lc_node_get(v, "from_env"))
			return lc_node_error(err, LC_EPARSE, v, "become_password must be "
					     "{ from_env: NAME }: a password is never written in "
					     "an inventory");
		if ((rc = lc_vars_resolve(&pw, v, err)))
			return rc;
		if (pw->kind != LC_NODE_SCALAR || strchr(pw->str, '\n')) {
			lc_node_free(pw);
			return lc_node_error(err, LC_EPARSE, v, "become_password must be one line");
		}
		if (b->password)
			explicit_bzero(b->password, strlen(b->password));
		free(b->password);
		b->password = lc_xstrdup(pw->str);
		explicit_bzero(pw->str, pw->len);
		lc_node_free(pw);
	}
	return 0;
}

static int load_ssh(struct lc_inventory *inv, const struct lc_node *n, const char **user,
		    long *port, struct lc_error *err)
{
	static const char *const keys[] = { "user", "port", "identity_file", "known_hosts",
		"connect_timeout", "command_timeout", "become", "become_user", "become_password",
		"config_file", NULL };
	const struct lc_node *v;
	long t;
	int rc;

	if ((rc = lc_node_expect(n, LC_NODE_MAP, "'ssh'", err)) ||
	    (rc = lc_node_check_keys(n, keys, "ssh", err)))
		return rc;
	if ((v = lc_node_get(n, "user"))) {
		if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "ssh user", err)))
			return rc;
		*user = v->str;
		inv->user_set = 1;
	}
	if ((v = lc_node_get(n, "port"))) {
		if ((rc = lc_node_int(port, v, 1, 65535, err)))
			return rc;
		inv->port_set = 1;
	}
	if ((v = lc_node_get(n, "config_file"))) {
		if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "config_file", err)))
			return rc;
		free(inv->ssh_config);
		inv->ssh_config = path_from(inv->dir, v->str);
		inv->ssh_config_set = 1;
	}
	if ((v = lc_node_get(n, "identity_file"))) {
		if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "identity_file", err)))
			return rc;
		free(inv->identity_file);
		inv->identity_file = path_from(inv->dir, v->str);
	}
	if ((v = lc_node_get(n, "known_hosts"))) {
		if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "known_hosts", err)))
			return rc;
		free(inv->known_hosts);
		inv->known_hosts = path_from(inv->dir, v->str);
		inv->known_hosts_set = 1;
	}
	if ((v = lc_node_get(n, "connect_timeout"))) {
		if ((rc = lc_node_int(&t, v, 1, 3600, err)))
			return rc;
		inv->connect_timeout_ms = (int)t * 1000;
		inv->connect_timeout_set = 1;
	}
	if ((v = lc_node_get(n, "command_timeout"))) {
		if ((rc = lc_node_int(&t, v, 1, 86400, err)))
			return rc;
		inv->command_timeout_ms = (int)t * 1000;
	}
	return load_become(&inv->become, n, err);
}

static int load_host(struct lc_inventory *inv, struct lc_host *h, const struct lc_node *key,
		     const struct lc_node *n, const char *user, long port, struct lc_error *err)
{
	static const char *const keys[] = { "address", "port", "user", "roles", "tags",
		"vars", "service_manager", "become", "become_user", "become_password", "lock",
		"identity_file", "ssh_alias", NULL };
	const struct lc_node *v;
	struct in_addr a;
	size_t i;
	int rc;

	h->name = lc_xstrdup(key->str);
	h->where = key;
	h->tags = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
	if (!valid_name(key->str))
		return lc_node_error(err, LC_EPARSE, key,
				     "invalid host name '%s' (letters, digits, '_' and '-')", key->str);
	if ((rc = lc_node_expect(n, LC_NODE_MAP, "a host", err)) ||
	    (rc = lc_node_check_keys(n, keys, "a host", err)))
		return rc;
	if (!(v = lc_node_get(n, "address")))
		return lc_node_error(err, LC_EPARSE, key, "host '%s' has no 'address'", key->str);
	if ((rc = load_string(&h->address, v, "address", err)))
		return rc;
	if (!strcmp(inv->provider, "local") &&
	    (inet_pton(AF_INET, h->address, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127))
		return lc_node_error(err, LC_EPARSE, v,
				     "local lab hosts must have an address in 127.0.0.0/8, found '%s'",
				     h->address);
	h->port_set = inv->port_set;
	h->user_set = inv->user_set;
	if ((v = lc_node_get(n, "port"))) {
		if ((rc = lc_node_int(&port, v, 1, 65535, err)))
			return rc;
		h->port_set = 1;
	}
	h->port = (int)port;
	h->user = lc_xstrdup(user);
	if ((v = lc_node_get(n, "user"))) {
		if ((rc = load_string(&h->user, v, "user", err)))
			return rc;
		h->user_set = 1;
	}
	if ((v = lc_node_get(n, "identity_file"))) {
		if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "identity_file", err)))
			return rc;
		h->identity_file = path_from(inv->dir, v->str);
	}
	if ((v = lc_node_get(n, "ssh_alias")) && (rc = load_string(&h->ssh_alias, v, "ssh_alias", err)))
		return rc;
	become_copy(&h->become, &inv->become);
	if ((rc = load_become(&h->become, n, err)))
		return rc;
	h->lock = inv->lock;
	if ((v = lc_node_get(n, "lock")) && (rc = lc_node_bool(&h->lock, v, err)))
		return rc;
	if ((v = lc_node_get(n, "service_manager"))) {
		if ((rc = load_string(&h->service_manager, v, "service_manager", err)))
			return rc;
		if (strcmp(h->service_manager, "daemon") && strcmp(h->service_manager, "systemd"))
			return lc_node_error(err, LC_EPARSE, v,
					     "expected 'daemon' or 'systemd' for service_manager");
	}
	if ((v = lc_node_get(n, "roles"))) {
		h->roles_node = v;
		if ((rc = lc_node_expect(v, LC_NODE_SEQ, "'roles'", err)))
			return rc;
		h->roles = lc_xcalloc(v->n_items + 1, sizeof(*h->roles));
		for (i = 0; i < v->n_items; i++) {
			const struct lc_node *r = v->items[i];

			if ((rc = lc_node_expect(r, LC_NODE_SCALAR, "a role name", err)))
				return rc;
			if (!valid_name(r->str))
				return lc_node_error(err, LC_EPARSE, r, "invalid role name '%s'", r->str);
			h->roles[h->n_roles++] = lc_xstrdup(r->str);
		}
	}
	if ((rc = load_tags(h->tags, lc_node_get(inv->doc.root, "tags"), err)) ||
	    (rc = load_tags(h->tags, lc_node_get(n, "tags"), err)))
		return rc;
	return load_vars(&h->vars, lc_node_get(n, "vars"), err);
}

static void set_var(struct lc_node *map, const char *name, const char *value)
{
	struct lc_node *v = lc_node_new_scalar(value, strlen(value));

	v->plain = 0;
	lc_node_map_set(map, lc_node_new_scalar(name, strlen(name)), v);
}

/* The agent the hosts run: `agent: { flavor: lab | datadog, version,
 * apt_url, apt_dist, apt_component, key_file }`, checked, defaults filled,
 * key_file read (relative to the inventory), and set as the lab variable
 * `agent` (a map) that roles see. */
static int load_agent(struct lc_inventory *inv, const struct lc_node *n, struct lc_error *err)
{
	static const char *const keys[] = { "flavor", "version", "apt_url", "apt_dist",
		"apt_component", "key_file", NULL };
	static const char *const str_keys[] = { "apt_url", "apt_dist", "apt_component", NULL };
	struct lc_node *a = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	const struct lc_node *v;
	const char *flavor = "lab", *version = "";
	struct lc_buf key = LC_BUF_INIT;
	size_t i;
	int rc = 0;

	if (n && ((rc = lc_node_expect(n, LC_NODE_MAP, "'agent'", err)) ||
		  (rc = lc_node_check_keys(n, keys, "'agent'", err))))
		goto out;
	if (n && (v = lc_node_get(n, "flavor"))) {
		if (v->kind != LC_NODE_SCALAR || (strcmp(v->str, "lab") && strcmp(v->str, "datadog"))) {
			rc = lc_node_error(err, LC_EPARSE, v, "agent flavor must be 'lab' (lab-agent, "
					   "offline) or 'datadog' (the Datadog Agent package)");
			goto out;
		}
		flavor = v->str;
	}
	if (n && (v = lc_node_get(n, "version"))) {
		const char *p;

		if (v->kind != LC_NODE_SCALAR || !*v->str)
			goto bad_version;
		for (p = v->str; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr(".-:~+", *p))
				goto bad_version;
		if (!isdigit((unsigned char)v->str[0]))
			goto bad_version;
		version = v->str;
	}
	if (!strcmp(flavor, "datadog") && !*version) {
		rc = lc_node_error(err, LC_EPARSE, n, "agent flavor 'datadog' needs 'version' "
				   "(the datadog-agent package version to pin, e.g. \"7.52.1-1\")");
		goto out;
	}
	set_var(a, "flavor", flavor);
	set_var(a, "version", version);
	/* the package's version as apt knows it: Datadog's are 1:X.Y.Z-1 */
	if (*version && !strpbrk(version, ":-")) {
		char *pv = lc_xasprintf("1:%s-1", version);

		set_var(a, "package_version", pv);
		free(pv);
	} else {
		set_var(a, "package_version", version);
	}
	set_var(a, "apt_url", "https://apt.datadoghq.com/");
	set_var(a, "apt_dist", "stable");
	set_var(a, "apt_component", "7");
	for (i = 0; n && str_keys[i]; i++) {
		if (!(v = lc_node_get(n, str_keys[i])))
			continue;
		if (v->kind != LC_NODE_SCALAR || !*v->str || strpbrk(v->str, " \t\n'\"")) {
			rc = lc_node_error(err, LC_EPARSE, v, "agent %s must be one word", str_keys[i]);
			goto out;
		}
		set_var(a, str_keys[i], v->str);
	}
	if (n && (v = lc_node_get(n, "key_file"))) {
		char *path;

		if (v->kind != LC_NODE_SCALAR || !*v->str) {
			rc = lc_node_error(err, LC_EPARSE, v, "agent key_file must be a path");
			goto out;
		}
		struct lc_source *fs = inv->source ? NULL : lc_source_fs();
		struct lc_source *from = inv->source ? inv->source : fs;

		path = v->str[0] == '/' ? lc_xstrdup(v->str) : lc_xasprintf("%s/%s", inv->dir, v->str);
		rc = from->ops->read(from, path, &key, 1u << 20, err);
		free(path);
		lc_source_free(fs);
		if (rc) {
			rc = lc_node_error(err, LC_EPARSE, v, "agent key_file: %s", err->msg);
			goto out;
		}
		if (memchr(key.buf, '\0', key.len)) {
			rc = lc_node_error(err, LC_EPARSE, v, "agent key_file must be an ASCII-armored "
					   "key (gpg --armor --export), not a binary one");
			goto out;
		}
	} else if (!strcmp(flavor, "datadog")) {
		rc = lc_node_error(err, LC_EPARSE, n, "agent flavor 'datadog' needs 'key_file': the "
				   "repository's signing key, ASCII-armored (Datadog's: "
				   "https://keys.datadoghq.com/DATADOG_APT_KEY_CURRENT.public)");
		goto out;
	}
	set_var(a, "key", key.len ? key.buf : "");
	lc_node_map_set(inv->vars, lc_node_new_scalar("agent", 5), a);
	a = NULL;
	goto out;
bad_version:
	rc = lc_node_error(err, LC_EPARSE, v, "agent version must be a package version such as "
			   "7.52.1-1");
out:
	lc_node_free(a);
	lc_buf_release(&key);
	return rc;
}

static int load(struct lc_inventory *inv, struct lc_error *err)
{
	static const char *const keys[] = { "name", "provider", "state_dir", "roles_dir", "project_dir",
		"ssh", "tags", "vars", "hosts", "lock", "agent", NULL };
	const struct lc_node *root = inv->doc.root, *v, *hosts;
	const char *user = "root";
	long port = 22;
	size_t i, j;
	int rc;

	if (!root)
		return lc_error_set(err, LC_EPARSE, "%s: the inventory is empty (expected a "
				    "mapping with 'hosts')", inv->path);
	if ((rc = lc_node_expect(root, LC_NODE_MAP, "the inventory", err)) ||
	    (rc = lc_node_check_keys(root, keys, "the inventory", err)))
		return rc;
	inv->provider = lc_xstrdup("ssh");
	if ((v = lc_node_get(root, "provider"))) {
		if ((rc = load_string(&inv->provider, v, "provider", err)))
			return rc;
		if (strcmp(inv->provider, "local") && strcmp(inv->provider, "ssh"))
			return lc_node_error(err, LC_EPARSE, v,
					     "unknown provider '%s' (expected local or ssh)",
					     inv->provider);
	}
	inv->roles_dir = path_from(inv->dir, "../roles");
	inv->project_dir = path_from(inv->dir, "..");
	if ((v = lc_node_get(root, "project_dir"))) {
		if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "project_dir", err)))
			return rc;
		free(inv->project_dir);
		inv->project_dir = path_from(inv->dir, v->str);
	}
	inv->state_dir = path_from(inv->dir, "../.lab");
	if ((v = lc_node_get(root, "roles_dir"))) {
		if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "roles_dir", err)))
			return rc;
		free(inv->roles_dir);
		inv->roles_dir = path_from(inv->dir, v->str);
	}
	if ((v = lc_node_get(root, "state_dir"))) {
		if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "state_dir", err)))
			return rc;
		free(inv->state_dir);
		inv->state_dir = path_from(inv->dir, v->str);
	}
	inv->connect_timeout_ms = 10000;
	inv->command_timeout_ms = 600000;
	if (!strcmp(inv->provider, "local")) {
		inv->identity_file = lc_xasprintf("%s/id_ed25519", inv->state_dir);
		inv->known_hosts = lc_xasprintf("%s/known_hosts", inv->state_dir);
	} else {
		const char *home = getenv("HOME");

		inv->known_hosts = lc_xasprintf("%s/.ssh/known_hosts", home ? home : "/root");
		inv->ssh_config = lc_xasprintf("%s/.ssh/config", home ? home : "/root");
	}
	inv->lock = 1;
	if ((v = lc_node_get(root, "lock")) && (rc = lc_node_bool(&inv->lock, v, err)))
		return rc;
	if ((v = lc_node_get(root, "ssh")) && (rc = load_ssh(inv, v, &user, &port, err)))
		return rc;
	if ((rc = load_vars(&inv->vars, lc_node_get(root, "vars"), err)) ||
	    (rc = load_agent(inv, lc_node_get(root, "agent"), err)))
		return rc;
	if ((v = lc_node_get(root, "tags")) && (rc = lc_node_expect(v, LC_NODE_SEQ, "'tags'", err)))
		return rc;
	if (!(hosts = lc_node_get(root, "hosts")))
		return lc_error_set(err, LC_EPARSE, "%s: the inventory has no 'hosts'", inv->path);
	if ((rc = lc_node_expect(hosts, LC_NODE_MAP, "'hosts'", err)))
		return rc;
	if (!hosts->n_pairs)
		return lc_node_error(err, LC_EPARSE, hosts, "'hosts' is empty");
	inv->hosts = lc_xcalloc(hosts->n_pairs, sizeof(*inv->hosts));
	for (i = 0; i < hosts->n_pairs; i++) {
		inv->n_hosts++;
		if ((rc = load_host(inv, &inv->hosts[i], hosts->pairs[i].key,
				    hosts->pairs[i].value, user, port, err)))
			return rc;
		for (j = 0; j < i; j++)
			if (!strcmp(inv->hosts[j].address, inv->hosts[i].address) &&
			    inv->hosts[j].port == inv->hosts[i].port)
				return lc_node_error(err, LC_EPARSE, hosts->pairs[i].key,
						     "host '%s' has the same address and port as '%s'",
						     inv->hosts[i].name, inv->hosts[j].name);
	}
	return 0;
}

int lc_inventory_load(struct lc_inventory *out, const char *path, struct lc_error *err)
{
	return lc_inventory_load_from(out, path, NULL, err);
}

int lc_inventory_load_from(struct lc_inventory *out, const char *path,
			   struct lc_source *source, struct lc_error *err)
{
	char *tmp, *real = NULL, *dir;
	int rc;

	memset(out, 0, sizeof(*out));
	out->source = source;
	out->path = lc_xstrdup(path);
	tmp = lc_xstrdup(path);
	/* the directory as an absolute path: a git source maps paths by it */
	dir = dirname(tmp);
	real = realpath(dir, NULL);
	out->dir = real ? real : lc_xstrdup(dir);
	free(tmp);
	if (!lc_source_is_fs(source)) {
		const char *base = strrchr(path, '/');

		free(out->path);
		out->path = lc_xasprintf("%s/%s", out->dir, base ? base + 1 : path);
	}
	if ((rc = lc_source_load_yaml(&out->doc, source, out->path, err)))
		goto fail;
	if ((rc = load(out, err)))
		goto fail;
	return 0;
fail:
	lc_inventory_release(out);
	return rc;
}

void lc_inventory_release(struct lc_inventory *inv)
{
	size_t i, j;

	for (i = 0; i < inv->n_hosts; i++) {
		struct lc_host *h = &inv->hosts[i];

		free(h->name);
		free(h->address);
		free(h->user);
		for (j = 0; j < h->n_roles; j++)
			free(h->roles[j]);
		free(h->roles);
		lc_node_free(h->vars);
		lc_node_free(h->tags);
		free(h->service_manager);
		become_release(&h->become);
		free(h->identity_file);
		free(h->ssh_alias);
	}
	free(inv->ssh_config);
	become_release(&inv->become);
	free(inv->hosts);
	lc_node_free(inv->vars);
	free(inv->path);
	free(inv->dir);
	free(inv->roles_dir);
	free(inv->project_dir);
	free(inv->state_dir);
	free(inv->provider);
	free(inv->identity_file);
	free(inv->known_hosts);
	lc_doc_release(&inv->doc);
	memset(inv, 0, sizeof(*inv));
}

const struct lc_host *lc_inventory_host(const struct lc_inventory *inv, const char *name)
{
	size_t i;

	for (i = 0; i < inv->n_hosts; i++)
		if (!strcmp(inv->hosts[i].name, name))
			return &inv->hosts[i];
	return NULL;
}

int lc_host_has_role(const struct lc_host *h, const char *role)
{
	size_t i;

	if (!strcmp(role, "base"))
		return 1;
	for (i = 0; i < h->n_roles; i++)
		if (!strcmp(h->roles[i], role))
			return 1;
	return 0;
}

int lc_inventory_select(unsigned char *mask, const struct lc_inventory *inv,
			char *const *targets, size_t n_targets, struct lc_error *err)
{
	size_t i, t;

	memset(mask, n_targets ? 0 : 1, inv->n_hosts);
	for (t = 0; t < n_targets; t++) {
		int found = 0;

		for (i = 0; i < inv->n_hosts; i++) {
			if (!strcmp(inv->hosts[i].name, targets[t]) ||
			    lc_host_has_role(&inv->hosts[i], targets[t])) {
				mask[i] = 1;
				found = 1;
			}
		}
		if (!found)
			return lc_error_set(err, LC_EUSAGE,
					    "'%s' is neither a host nor a role of any host in %s",
					    targets[t], inv->path);
	}
	return 0;
}

static struct lc_node *scalar(const char *s)
{
	return lc_node_new_scalar(s, strlen(s));
}

static struct lc_node *host_node(const struct lc_inventory *inv, const struct lc_host *h)
{
	struct lc_node *m = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	struct lc_node *roles = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
	char port[16];
	size_t i;

	for (i = 0; inv->vars && i < inv->vars->n_pairs; i++)
		lc_node_map_set(m, lc_node_dup(inv->vars->pairs[i].key),
				lc_node_dup(inv->vars->pairs[i].value));
	for (i = 0; h->vars && i < h->vars->n_pairs; i++)
		lc_node_map_set(m, lc_node_dup(h->vars->pairs[i].key),
				lc_node_dup(h->vars->pairs[i].value));
	snprintf(port, sizeof(port), "%d", h->port);
	lc_node_map_set(m, scalar("name"), scalar(h->name));
	lc_node_map_set(m, scalar("address"), scalar(h->address));
	lc_node_map_set(m, scalar("port"), scalar(port));
	lc_node_map_set(m, scalar("user"), scalar(h->user ? h->user : ""));
	for (i = 0; i < h->n_roles; i++)
		lc_node_seq_add(roles, scalar(h->roles[i]));
	lc_node_map_set(m, scalar("roles"), roles);
	lc_node_map_set(m, scalar("tags"), h->tags ? lc_node_dup(h->tags) :
			lc_node_new(LC_NODE_SEQ, NULL, 0, 0));
	return m;
}

struct lc_node *lc_inventory_hosts_node(const struct lc_inventory *inv)
{
	struct lc_node *hosts = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	size_t i;

	for (i = 0; inv && i < inv->n_hosts; i++)
		lc_node_map_set(hosts, scalar(inv->hosts[i].name), host_node(inv, &inv->hosts[i]));
	return hosts;
}
