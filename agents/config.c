/* config.c - datadog.yaml and the checks of conf.d/ and checks.d/. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* ---- small helpers ----------------------------------------------------- */

int lc_node_is_null(const struct lc_node *n)
{
	if (!n)
		return 1;
	if (n->kind != LC_NODE_SCALAR || !n->plain)
		return 0;
	return !n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

static int has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* A scalar that may be absent or null (then *out = NULL). */
static int get_str(const char **out, const struct lc_node *map, const char *key,
		   struct lc_error *err)
{
	const struct lc_node *n = lc_node_get(map, key);
	struct lc_buf what = LC_BUF_INIT;
	int rc;

	*out = NULL;
	if (lc_node_is_null(n))
		return 0;
	lc_buf_addf(&what, "the '%s' key", key);
	rc = lc_node_expect(n, LC_NODE_SCALAR, what.buf, err);
	lc_buf_release(&what);
	if (rc)
		return rc;
	if (has_control(n->str, n->len))
		return lc_node_error(err, LC_EPARSE, n,
				     "'%s' must not contain control characters", key);
	*out = n->str;
	return 0;
}

int lc_instance_str(const char **out, const struct lc_check_instance *inst,
		    const char *key, struct lc_error *err)
{
	*out = NULL;
	if (!inst->node)
		return 0;
	return get_str(out, inst->node, key, err);
}

/* A list of "k:v" tags (absent or null: none). */
static int get_tags(struct lc_tags *out, const struct lc_node *map, const char *key,
		    struct lc_error *err)
{
	const struct lc_node *n = lc_node_get(map, key);
	size_t i;
	int rc;

	if (lc_node_is_null(n))
		return 0;
	if ((rc = lc_node_expect(n, LC_NODE_SEQ, "'tags' (a list of \"key:value\" strings)", err)))
		return rc;
	for (i = 0; i < n->n_items; i++) {
		const struct lc_node *t = n->items[i];

		if (t->kind != LC_NODE_SCALAR)
			return lc_node_error(err, LC_EPARSE, t,
					     "a tag must be a string, found %s",
					     lc_node_kind_name(t->kind));
		if (!t->len || has_control(t->str, t->len))
			return lc_node_error(err, LC_EPARSE, t,
					     "a tag must be a non-empty string without control characters");
		lc_tags_add_unique(out, t->str);
	}
	return 0;
}

static char *system_hostname(void)
{
	struct utsname u;

	if (uname(&u) == 0 && u.nodename[0])
		return lc_xstrdup(u.nodename);
	return lc_xstrdup("localhost");
}

int lc_log_level_parse(enum lc_log_level *out, const char *s)
{
	static const struct { const char *name; enum lc_log_level level; } names[] = {
		{ "trace", LC_LOG_DEBUG }, { "debug", LC_LOG_DEBUG },
		{ "info", LC_LOG_INFO }, { "warn", LC_LOG_WARN },
		{ "warning", LC_LOG_WARN }, { "error", LC_LOG_ERROR },
		{ "critical", LC_LOG_ERROR }, { "off", LC_LOG_OFF },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name)) {
			*out = names[i].level;
			return 0;
		}
	return -1;
}

const char *lc_log_level_name(enum lc_log_level level)
{
	switch (level) {
	case LC_LOG_DEBUG: return "DEBUG";
	case LC_LOG_INFO: return "INFO";
	case LC_LOG_WARN: return "WARN";
	case LC_LOG_ERROR: return "ERROR";
	case LC_LOG_OFF: break;
	}
	return "OFF";
}

void lc_url_redact(struct lc_buf *out, const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at, *slash;

	if (!scheme) {
		lc_buf_adds(out, url);
		return;
	}
	host = scheme + 3;
	slash = strchr(host, '/');
	at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	if (!at) {
		lc_buf_adds(out, url);
		return;
	}
	lc_buf_add(out, url, (size_t)(host - url));
	lc_buf_adds(out, "***");
	lc_buf_adds(out, at);
}

/* ---- datadog.yaml ------------------------------------------------------- */

void lc_agent_conf_release(struct lc_agent_conf *c)
{
	if (c->api_key) {
		/* Do not leave the key behind in freed memory. */
		memset(c->api_key, 0, strlen(c->api_key));
		free(c->api_key);
	}
	free(c->site);
	free(c->dd_url);
	free(c->intake);
	free(c->hostname);
	lc_tags_release(&c->tags);
	free(c->env);
	free(c->bind_host);
	memset(c, 0, sizeof(*c));
	c->log_level = LC_LOG_INFO;
}

void lc_agent_conf_defaults(struct lc_agent_conf *out)
{
	lc_agent_conf_release(out);
	out->api_key = lc_xstrdup("");
	out->site = lc_xstrdup(LC_AGENT_DEFAULT_SITE);
	out->intake = lc_xasprintf("https://api.%s", out->site);
	out->hostname = system_hostname();
	out->env = lc_xstrdup("");
	out->log_level = LC_LOG_INFO;
	out->apm_enabled = 1;
	out->apm_port = 8126;
	out->bind_host = lc_xstrdup("127.0.0.1");
}

static int valid_site(const char *s)
{
	size_t i;

	if (!*s)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

/* apm_config: enabled (a boolean) and receiver_port (1-65535); the other
 * keys of the real agent's apm_config are left alone. */
static int parse_apm(struct lc_agent_conf *c, const struct lc_node *apm, struct lc_error *err)
{
	const struct lc_node *v;
	long port;

	if (lc_node_is_null(apm))
		return 0;
	if (apm->kind != LC_NODE_MAP)
		return lc_node_error(err, LC_EPARSE, apm, "apm_config must be a map");
	if ((v = lc_node_get(apm, "enabled")) && !lc_node_is_null(v)) {
		if (v->kind != LC_NODE_SCALAR ||
		    (strcmp(v->str, "true") && strcmp(v->str, "false")))
			return lc_node_error(err, LC_EPARSE, v,
					     "apm_config.enabled must be true or false");
		c->apm_enabled = !strcmp(v->str, "true");
	}
	if ((v = lc_node_get(apm, "receiver_port")) && !lc_node_is_null(v)) {
		if (lc_node_int(&port, v, 1, 65535, NULL) < 0)
			return lc_node_error(err, LC_EPARSE, v,
					     "apm_config.receiver_port must be a port (1-65535)");
		c->apm_port = (unsigned)port;
	}
	return 0;
}

static int parse_agent_conf(struct lc_agent_conf *c, const struct lc_node *root,
			    struct lc_error *err)
{
	const char *s;
	int rc;

	if (!root)
		return 0;      /* an empty file: all defaults */
	if ((rc = lc_node_expect(root, LC_NODE_MAP, "datadog.yaml", err)))
		return rc;

	if ((rc = get_str(&s, root, "api_key", err))) {
		/* The message names the position only: never the value. */
		return rc;
	}
	free(c->api_key);
	c->api_key = lc_xstrdup(s ? s : "");

	if ((rc = get_str(&s, root, "site", err)))
		return rc;
	if (s) {
		if (!valid_site(s))
			return lc_node_error(err, LC_EPARSE, lc_node_get(root, "site"),
					     "site must be a domain such as datadoghq.com or datadoghq.eu");
		free(c->site);
		c->site = lc_xstrdup(s);
	}

	if ((rc = get_str(&s, root, "dd_url", err)))
		return rc;
	if (s && *s) {
		size_t len = strlen(s);

		if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
			return lc_node_error(err, LC_EPARSE, lc_node_get(root, "dd_url"),
					     "dd_url must start with http:// or https://");
		while (len > 8 && s[len - 1] == '/')
			len--;
		c->dd_url = lc_xstrndup(s, len);
	}
	free(c->intake);
	c->intake = c->dd_url ? lc_xstrdup(c->dd_url) : lc_xasprintf("https://api.%s", c->site);

	if ((rc = get_str(&s, root, "hostname", err)))
		return rc;
	if (s && *s) {
		free(c->hostname);
		c->hostname = lc_xstrdup(s);
	}

	if ((rc = get_tags(&c->tags, root, "tags", err)))
		return rc;

	if ((rc = get_str(&s, root, "env", err)))
		return rc;
	free(c->env);
	c->env = lc_xstrdup(s ? s : "");

	if ((rc = get_str(&s, root, "log_level", err)))
		return rc;
	if (s && lc_log_level_parse(&c->log_level, s) < 0)
		return lc_node_error(err, LC_EPARSE, lc_node_get(root, "log_level"),
				     "unknown log_level '%s' (expected one of: debug, info, warn, error, off)",
				     s);
	if ((rc = get_str(&s, root, "bind_host", err)))
		return rc;
	if (s && *s) {
		struct in_addr a;

		if (strcmp(s, "localhost") && inet_pton(AF_INET, s, &a) != 1)
			return lc_node_error(err, LC_EPARSE, lc_node_get(root, "bind_host"),
					     "bind_host must be an IPv4 address or localhost, not '%s'", s);
		free(c->bind_host);
		c->bind_host = lc_xstrdup(strcmp(s, "localhost") ? s : "127.0.0.1");
	}
	return parse_apm(c, lc_node_get(root, "apm_config"), err);
}

int lc_agent_conf_load(struct lc_agent_conf *out, const char *dir,
		       struct lc_error *err)
{
	struct lc_doc doc = LC_DOC_INIT;
	char *path = lc_xasprintf("%s/datadog.yaml", dir);
	int rc;

	lc_agent_conf_defaults(out);
	rc = lc_yaml_load_file(&doc, path, NULL, err);
	if (!rc)
		rc = parse_agent_conf(out, doc.root, err);
	if (rc)
		lc_agent_conf_defaults(out);
	lc_doc_release(&doc);
	free(path);
	return rc;
}

/* ---- conf.d and checks.d ------------------------------------------------ */

static void check_conf_release(struct lc_check_conf *c)
{
	size_t i;

	free(c->name);
	free(c->file);
	free(c->exe);
	for (i = 0; i < c->n_instances; i++)
		lc_tags_release(&c->instances[i].tags);
	free(c->instances);
	lc_doc_release(&c->docs[0]);
	lc_doc_release(&c->docs[1]);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

void lc_check_confs_release(struct lc_check_confs *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		check_conf_release(&c->v[i]);
	free(c->v);
	lc_tags_release(&c->notes);
	lc_tags_release(&c->errors);
	memset(c, 0, sizeof(*c));
}

const struct lc_check_conf *lc_check_confs_find(const struct lc_check_confs *c,
						const char *name)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

static struct lc_check_conf *confs_get(struct lc_check_confs *c, const char *name)
{
	struct lc_check_conf *cc;
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	LC_ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	cc = &c->v[c->nr++];
	memset(cc, 0, sizeof(*cc));
	cc->name = lc_xstrdup(name);
	cc->kind = LC_CHECK_CUSTOM;
	return cc;
}

static void set_error(struct lc_check_conf *c, const char *msg)
{
	if (!c->error)
		c->error = lc_xstrdup(msg);
}

static int valid_check_name(const char *s)
{
	size_t i;

	if (!*s)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		      s[i] == '.'))
			return 0;
	return 1;
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void add_instance(struct lc_check_conf *c, const struct lc_node *node,
			 long interval, struct lc_tags *tags)
{
	struct lc_check_instance *inst;

	c->instances = lc_xrealloc(c->instances,
				   (c->n_instances + 1) * sizeof(*c->instances));
	inst = &c->instances[c->n_instances++];
	inst->node = node;
	inst->interval = interval;
	inst->tags = *tags;
	memset(tags, 0, sizeof(*tags));
}

/* The instances of one loaded config file. */
static int parse_instances(struct lc_check_conf *c, const struct lc_doc *doc,
			   struct lc_error *err)
{
	const struct lc_node *list, *root = doc->root;
	size_t i;
	int rc;

	if (!root)
		return lc_error_set(err, LC_EPARSE,
				    "%s: the file is empty (expected 'init_config:' and 'instances:')",
				    doc->file);
	if ((rc = lc_node_expect(root, LC_NODE_MAP, "a check configuration", err)))
		return rc;
	list = lc_node_get(root, "instances");
	if (!list)
		return lc_node_error(err, LC_EPARSE, root,
				     "no 'instances:' list (a check needs at least one instance)");
	if (lc_node_is_null(list) || (list->kind == LC_NODE_SEQ && !list->n_items))
		return lc_node_error(err, LC_EPARSE, list,
				     "'instances' is empty (a check needs at least one instance)");
	if ((rc = lc_node_expect(list, LC_NODE_SEQ, "'instances'", err)))
		return rc;
	for (i = 0; i < list->n_items; i++) {
		const struct lc_node *item = list->items[i], *iv;
		struct lc_tags tags = LC_TAGS_INIT;
		long interval = LC_CHECK_DEFAULT_INTERVAL;

		if (lc_node_is_null(item)) {
			add_instance(c, NULL, interval, &tags);
			continue;
		}
		if ((rc = lc_node_expect(item, LC_NODE_MAP, "an instance", err)))
			return rc;
		iv = lc_node_get(item, "min_collection_interval");
		if (!lc_node_is_null(iv) &&
		    lc_node_int(&interval, iv, 1, LC_CHECK_MAX_INTERVAL, NULL) < 0)
			return lc_node_error(err, LC_EPARSE, iv,
					     "bad min_collection_interval %s%s%s (expected whole seconds from 1 to %d)",
					     iv->kind == LC_NODE_SCALAR ? "'" : "",
					     iv->kind == LC_NODE_SCALAR ? iv->str : lc_node_kind_name(iv->kind),
					     iv->kind == LC_NODE_SCALAR ? "'" : "",
					     LC_CHECK_MAX_INTERVAL);
		if ((rc = get_tags(&tags, item, "tags", err))) {
			lc_tags_release(&tags);
			return rc;
		}
		add_instance(c, item, interval, &tags);
	}
	return 0;
}

static void load_check_file(struct lc_check_conf *c, const char *path)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_doc *doc = c->docs[0].file ? &c->docs[1] : &c->docs[0];

	if (!c->file)
		c->file = lc_xstrdup(path);
	if (c->error)
		return;
	if (lc_yaml_load_file(doc, path, NULL, &err) ||
	    parse_instances(c, doc, &err))
		set_error(c, err.msg);
}

/* The custom check name, if checks.d has one: checks.d/NAME.py, a Python
 * module as the real Agent loads it, or checks.d/NAME, an executable that
 * prints DogStatsD lines (lab-agent's own kind). */
static void find_exe(struct lc_check_conf *c, const char *dir)
{
	char *bare = lc_xasprintf("%s/checks.d/%s", dir, c->name);
	char *py = lc_xasprintf("%s/checks.d/%s.py", dir, c->name);
	const char *found = is_file(py) ? py : is_file(bare) ? bare : NULL;

	if (found) {
		c->exe = lc_xstrdup(found);
		c->python = found == py;
		if (!c->python && access(found, X_OK) < 0) {
			char *msg = lc_xasprintf("%s is not executable (chmod +x it)", found);

			set_error(c, msg);
			free(msg);
		}
	}
	free(bare);
	free(py);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int conf_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lc_check_conf *)a)->name,
		      ((const struct lc_check_conf *)b)->name);
}

/* "name.yaml" or "name.yml" -> name (malloc'd), else NULL. */
static char *strip_suffix(const char *entry, const char *const *suffixes)
{
	size_t len = strlen(entry), i, sl;

	for (i = 0; suffixes[i]; i++) {
		sl = strlen(suffixes[i]);
		if (len > sl && !strcmp(entry + len - sl, suffixes[i]))
			return lc_xstrndup(entry, len - sl);
	}
	return NULL;
}

static void scan_conf_d(struct lc_check_confs *out, const char *dir)
{
	static const char *const yaml[] = { ".yaml", ".yml", NULL };
	static const char *const dotd[] = { ".d", NULL };
	char *confd = lc_xasprintf("%s/conf.d", dir);
	struct lc_tags entries = LC_TAGS_INIT;
	struct dirent *de;
	size_t i, j;
	DIR *d;

	d = opendir(confd);
	if (!d) {
		if (errno != ENOENT) {
			char *msg = lc_xasprintf("cannot read %s: %s", confd, strerror(errno));

			lc_tags_adds(&out->errors, msg);
			free(msg);
		}
		free(confd);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			lc_tags_adds(&entries, de->d_name);
	closedir(d);
	/* Sorted, so name.d/conf.yaml and name.yaml load in a fixed order. */
	qsort(entries.v, entries.nr, sizeof(*entries.v), str_cmp);

	for (i = 0; i < entries.nr; i++) {
		char *path = lc_xasprintf("%s/%s", confd, entries.v[i]);
		char *name = NULL, *file = NULL;
		struct stat st;

		if (stat(path, &st) < 0) {
			free(path);
			continue;
		}
		if (S_ISDIR(st.st_mode) &&
		    (name = strip_suffix(entries.v[i], dotd))) {
			/* conf.d/name.d/conf.yaml; a directory of examples only
			 * (conf.yaml.example) configures nothing. */
			for (j = 0; yaml[j] && !file; j++) {
				char *f = lc_xasprintf("%s/conf%s", path, yaml[j]);

				if (is_file(f))
					file = f;
				else
					free(f);
			}
		} else if (S_ISREG(st.st_mode) && (name = strip_suffix(entries.v[i], yaml))) {
			file = lc_xstrdup(path);
		}
		if (name && file) {
			struct lc_check_conf *c = confs_get(out, name);

			if (!valid_check_name(name))
				set_error(c, "bad check name (use letters, digits, '_', '-' and '.')");
			load_check_file(c, file);
		}
		free(name);
		free(file);
		free(path);
	}
	lc_tags_release(&entries);
	free(confd);
}

/* Executables in checks.d that no config file schedules. */
static void scan_checks_d(struct lc_check_confs *out, const char *dir)
{
	static const char *const py[] = { ".py", NULL };
	char *checksd = lc_xasprintf("%s/checks.d", dir);
	struct dirent *de;
	DIR *d = opendir(checksd);

	if (!d) {
		free(checksd);
		return;
	}
	while ((de = readdir(d))) {
		char *name, *path, *msg;

		if (de->d_name[0] == '.')
			continue;
		name = strip_suffix(de->d_name, py);
		if (!name)
			name = lc_xstrdup(de->d_name);
		path = lc_xasprintf("%s/%s", checksd, de->d_name);
		if (is_file(path) && !lc_check_confs_find(out, name)) {
			msg = lc_xasprintf("%s has no config (conf.d/%s.yaml or conf.d/%s.d/conf.yaml): not scheduled",
					   path, name, name);
			lc_tags_adds(&out->notes, msg);
			free(msg);
		}
		free(path);
		free(name);
	}
	closedir(d);
	free(checksd);
}

void lc_check_confs_load(struct lc_check_confs *out, const char *dir)
{
	struct lc_check_conf *sys;
	size_t i;

	scan_conf_d(out, dir);
	if (!lc_check_confs_find(out, "system")) {
		struct lc_tags none = LC_TAGS_INIT;

		sys = confs_get(out, "system");
		add_instance(sys, NULL, LC_CHECK_DEFAULT_INTERVAL, &none);
	}
	for (i = 0; i < out->nr; i++) {
		struct lc_check_conf *c = &out->v[i];
		int builtin = !strcmp(c->name, "system") || !strcmp(c->name, "postgres");

		if (valid_check_name(c->name))
			find_exe(c, dir);
		if (c->exe) {
			c->kind = LC_CHECK_CUSTOM;
			if (builtin) {
				char *msg = lc_xasprintf("custom check %s replaces the built-in %s check",
							 c->exe, c->name);

				lc_tags_adds(&out->notes, msg);
				free(msg);
			}
		} else if (!strcmp(c->name, "system")) {
			c->kind = LC_CHECK_SYSTEM;
		} else if (!strcmp(c->name, "postgres")) {
			c->kind = LC_CHECK_POSTGRES;
		} else {
			char *msg = lc_xasprintf("%s: unknown check '%s': no built-in check of that name "
						 "(system, postgres), no module %s/checks.d/%s.py and no executable %s/checks.d/%s",
						 c->file ? c->file : dir, c->name, dir, c->name, dir, c->name);

			set_error(c, msg);
			free(msg);
		}
	}
	scan_checks_d(out, dir);
	qsort(out->v, out->nr, sizeof(*out->v), conf_cmp);
}
