/* ssh_config.c - read OpenSSH client configuration files. */
#include "ssh_config.h"

#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "files.h"

#define CONFIG_MAX ((size_t)1 << 20)
#define INCLUDE_DEPTH 16

struct cfg_line {
	char *key;                 /* lower case */
	char **argv;
	size_t argc;
	char *where;               /* file:line */
	size_t block;              /* index in blocks */
};

struct cfg_block {
	char **pat;                /* a leading '!' negates */
	size_t n;
};

struct lc_ssh_config {
	struct cfg_line *lines;
	size_t n, alloc;
	struct cfg_block *blocks;  /* 0: before the first Host, matches all */
	size_t nb, ab;
	char **ignore;             /* IgnoreUnknown patterns */
	size_t ni;
};

/* What labctl follows, what it may ignore, and what it cannot follow. */
static const char *const supported[] = {
	"host", "match", "include", "hostname", "user", "port", "identityfile",
	"identitiesonly", "proxyjump", "userknownhostsfile", "hostkeyalias",
	"stricthostkeychecking", "connecttimeout", "proxycommand", "ignoreunknown", NULL
};
static const char *const ignored[] = {
	"addkeystoagent", "addressfamily", "batchmode", "canonicaldomains",
	"challengeresponseauthentication", "checkhostip", "ciphers", "clearallforwardings",
	"compression", "connectionattempts", "controlmaster", "controlpath", "controlpersist",
	"dynamicforward", "enablesshkeysign", "escapechar", "exitonforwardfailure",
	"fingerprinthash", "forwardagent", "forwardx11", "forwardx11timeout",
	"forwardx11trusted", "gatewayports", "globalknownhostsfile", "gssapiauthentication",
	"gssapidelegatecredentials", "hashknownhosts", "hostbasedacceptedalgorithms",
	"hostbasedauthentication", "hostbasedkeytypes", "hostkeyalgorithms",
	"kbdinteractiveauthentication", "kbdinteractivedevices", "kexalgorithms",
	"localcommand", "localforward", "loglevel", "logverbose", "macs",
	"nohostauthenticationforlocalhost", "numberofpasswordprompts",
	"passwordauthentication", "permitlocalcommand", "permitremoteopen",
	"preferredauthentications", "protocol", "pubkeyacceptedalgorithms",
	"pubkeyacceptedkeytypes", "pubkeyauthentication", "rekeylimit", "remotecommand",
	"remoteforward", "requesttty", "revokedhostkeys", "sendenv", "serveralivecountmax",
	"serveraliveinterval", "sessiontype", "setenv", "stdinnull", "streamlocalbindmask",
	"streamlocalbindunlink", "tcpkeepalive", "tunnel", "tunneldevice", "updatehostkeys",
	"usekeychain", "useprivilegedport", "verifyhostkeydns", "visualhostkey",
	"xauthlocation", NULL
};

static int in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (!strcmp(*list, key))
			return 1;
	return 0;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void lc_ssh_config_free(struct lc_ssh_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->lines[i].key);
		free_strv(c->lines[i].argv, c->lines[i].argc);
		free(c->lines[i].where);
	}
	free(c->lines);
	for (i = 0; i < c->nb; i++)
		free_strv(c->blocks[i].pat, c->blocks[i].n);
	free(c->blocks);
	free_strv(c->ignore, c->ni);
	free(c);
}

/* Split a line into words: "Key value...", "Key=value...", "double quotes". */
static int split(char ***out, size_t *n, const char *s)
{
	char **v = NULL;
	size_t nv = 0;

	while (*s) {
		struct lc_buf w = LC_BUF_INIT;

		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (nv == 1 && *s == '=')  /* Key = value */
			for (s++; *s == ' ' || *s == '\t'; s++)
				;
		if (!*s)
			break;
		if (*s == '"') {
			const char *e = strchr(s + 1, '"');

			if (!e) {
				free_strv(v, nv);
				return -1;
			}
			lc_buf_add(&w, s + 1, (size_t)(e - s - 1));
			s = e + 1;
		} else {
			while (*s && *s != ' ' && *s != '\t' && *s != '\r' && !(nv == 0 && *s == '='))
				lc_buf_addc(&w, *s++);
		}
		v = lc_xrealloc(v, (nv + 1) * sizeof(*v));
		v[nv++] = lc_buf_detach(&w, NULL);
	}
	*out = v;
	*n = nv;
	return 0;
}

static int ignored_unknown(const struct lc_ssh_config *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->ni; i++)
		if (!fnmatch(c->ignore[i], key, FNM_CASEFOLD))
			return 1;
	return 0;
}

static void new_block(struct lc_ssh_config *c, char **pat, size_t n)
{
	LC_ALLOC_GROW(c->blocks, c->nb + 1, c->ab);
	c->blocks[c->nb].pat = pat;
	c->blocks[c->nb].n = n;
	c->nb++;
}

static int parse_file(struct lc_ssh_config *c, const char *path, int missing_ok, int depth,
		      struct lc_error *err);

/* Include: relative paths are relative to ~/.ssh; globs allowed. */
static int include(struct lc_ssh_config *c, char **argv, size_t argc, const char *where,
		   int depth, struct lc_error *err)
{
	size_t i, j;
	int rc = 0;

	if (depth >= INCLUDE_DEPTH)
		return lc_error_set(err, LC_EPARSE, "%s: Include nested more than %d deep",
				    where, INCLUDE_DEPTH);
	for (i = 1; i < argc && !rc; i++) {
		char *p = lc_ssh_config_expand(argv[i], "", 22, "");
		glob_t g;

		if (p[0] != '/') {
			char *home = lc_ssh_config_expand("~/.ssh/", "", 22, "");
			char *abs = lc_xasprintf("%s%s", home, p);

			free(home);
			free(p);
			p = abs;
		}
		memset(&g, 0, sizeof(g));
		if (glob(p, 0, NULL, &g) == 0)
			for (j = 0; j < g.gl_pathc && !rc; j++)
				rc = parse_file(c, g.gl_pathv[j], 0, depth + 1, err);
		globfree(&g);
		free(p);
	}
	return rc;
}

static int valid_int(const char *s, long max)
{
	char *e;
	long v = strtol(s, &e, 10);

	return !*e && v >= 1 && v <= max;
}

static int parse_line(struct lc_ssh_config *c, char **argv, size_t argc, char *where,
		      int depth, struct lc_error *err)
{
	struct cfg_line *l;
	char *key = lc_xstrdup(argv[0]);
	size_t i;

	for (i = 0; key[i]; i++)
		if (key[i] >= 'A' && key[i] <= 'Z')
			key[i] = (char)(key[i] - 'A' + 'a');
	if (argc < 2) {
		lc_error_set(err, LC_EPARSE, "%s: %s needs a value", where, argv[0]);
		goto fail;
	}
	if (!in_list(supported, key)) {
		if (in_list(ignored, key) || ignored_unknown(c, key))
			goto drop;
		lc_error_set(err, LC_EPARSE, "%s: labctl does not follow the ssh_config "
			     "directive %s (it would change how the host is reached)", where, argv[0]);
		goto fail;
	}
	if (!strcmp(key, "proxycommand") && !(argc == 2 && !strcasecmp(argv[1], "none"))) {
		lc_error_set(err, LC_EPARSE, "%s: ProxyCommand is not supported (labctl speaks "
			     "SSH itself): use ProxyJump for a bastion", where);
		goto fail;
	}
	if (!strcmp(key, "match")) {
		if (argc == 2 && !strcasecmp(argv[1], "all")) {
			new_block(c, NULL, 0);
			goto drop;
		}
		lc_error_set(err, LC_EPARSE, "%s: Match %s is not supported (only Match all): "
			     "write Host blocks instead", where, argv[1]);
		goto fail;
	}
	if (!strcmp(key, "host")) {
		char **pat = lc_xcalloc(argc, sizeof(*pat));

		for (i = 1; i < argc; i++)
			pat[i - 1] = lc_xstrdup(argv[i]);
		new_block(c, pat, argc - 1);
		goto drop;
	}
	if (!strcmp(key, "include")) {
		int rc = include(c, argv, argc, where, depth, err);

		free(key);
		free_strv(argv, argc);
		free(where);
		return rc;
	}
	if (!strcmp(key, "ignoreunknown")) {  /* a comma-separated pattern list */
		for (i = 1; i < argc; i++) {
			char *p = argv[i];

			for (;;) {
				size_t len = strcspn(p, ",");

				c->ignore = lc_xrealloc(c->ignore, (c->ni + 1) * sizeof(*c->ignore));
				c->ignore[c->ni++] = lc_xstrndup(p, len);
				if (!p[len])
					break;
				p += len + 1;
			}
		}
		goto drop;
	}
	if ((!strcmp(key, "port") && !valid_int(argv[1], 65535)) ||
	    (!strcmp(key, "connecttimeout") && !valid_int(argv[1], 3600))) {
		lc_error_set(err, LC_EPARSE, "%s: %s: expected a number, found '%s'", where,
			     argv[0], argv[1]);
		goto fail;
	}
	LC_ALLOC_GROW(c->lines, c->n + 1, c->alloc);
	l = &c->lines[c->n++];
	l->key = key;
	l->argv = argv;
	l->argc = argc;
	l->where = where;
	l->block = c->nb - 1;
	return 0;
drop:
	free(key);
	free_strv(argv, argc);
	free(where);
	return 0;
fail:
	free(key);
	free_strv(argv, argc);
	free(where);
	return LC_EPARSE;
}

static int parse_file(struct lc_ssh_config *c, const char *path, int missing_ok, int depth,
		      struct lc_error *err)
{
	struct lc_buf data = LC_BUF_INIT;
	const char *s, *end;
	unsigned line = 0;
	int rc = lc_file_read(&data, path, CONFIG_MAX);

	if (rc == -ENOENT && missing_ok) {
		lc_buf_release(&data);
		return 0;
	}
	if (rc) {
		lc_buf_release(&data);
		return lc_error_set(err, LC_EPARSE, "%s: cannot read this ssh_config file: %s",
				    path, strerror(-rc));
	}
	for (s = data.buf, end = data.buf + data.len; s < end && !rc;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		char *text = lc_xstrndup(s, nl ? (size_t)(nl - s) : (size_t)(end - s));
		char **argv = NULL, *p = text;
		size_t argc = 0;

		s = nl ? nl + 1 : end;
		line++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '#' && *p != '\r') {
			char *where = lc_xasprintf("%s:%u", path, line);

			if (split(&argv, &argc, p)) {
				rc = lc_error_set(err, LC_EPARSE, "%s: unbalanced quotes", where);
				free(where);
			} else if (argc) {
				rc = parse_line(c, argv, argc, where, depth, err);
			} else {
				free(where);
				free(argv);
			}
		}
		free(text);
	}
	lc_buf_release(&data);
	return rc;
}

int lc_ssh_config_load(struct lc_ssh_config **out, const char *path, int missing_ok,
		       struct lc_error *err)
{
	struct lc_ssh_config *c = lc_xcalloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	new_block(c, NULL, 0);
	if ((rc = parse_file(c, path, missing_ok, 0, err))) {
		lc_ssh_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int block_matches(const struct cfg_block *b, const char *name)
{
	size_t i;
	int hit = 0;

	if (!b->pat)
		return 1;
	for (i = 0; i < b->n; i++) {
		const char *p = b->pat[i];
		int neg = p[0] == '!';

		if (fnmatch(neg ? p + 1 : p, name, FNM_CASEFOLD))
			continue;
		if (neg)
			return 0;
		hit = 1;
	}
	return hit;
}

static int yes(const char *v)
{
	return !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "ask");
}

void lc_ssh_config_lookup(struct lc_ssh_host_cfg *out, const struct lc_ssh_config *c,
			  const char *name)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->identities_only = -1;
	out->strict = -1;
	for (i = 0; c && i < c->n; i++) {
		const struct cfg_line *l = &c->lines[i];
		const char *a = l->argv[1];

		if (!block_matches(&c->blocks[l->block], name))
			continue;
		if (!strcmp(l->key, "hostname") && !out->hostname)
			out->hostname = lc_xstrdup(a);
		else if (!strcmp(l->key, "user") && !out->user)
			out->user = lc_xstrdup(a);
		else if (!strcmp(l->key, "port") && !out->port)
			out->port = (int)strtol(a, NULL, 10);  /* checked at load */
		else if (!strcmp(l->key, "identityfile") && strcasecmp(a, "none")) {
			out->identity_files = lc_xrealloc(out->identity_files,
							  (out->n_identity_files + 1) *
							  sizeof(*out->identity_files));
			out->identity_files[out->n_identity_files++] = lc_xstrdup(a);
		} else if (!strcmp(l->key, "identitiesonly") && out->identities_only < 0)
			out->identities_only = yes(a);
		else if (!strcmp(l->key, "proxyjump") && !out->proxy_jump) {
			out->proxy_jump = lc_xstrdup(a);
			out->proxy_jump_where = lc_xstrdup(l->where);
		} else if (!strcmp(l->key, "userknownhostsfile") && !out->known_hosts)
			out->known_hosts = lc_xstrdup(a);
		else if (!strcmp(l->key, "hostkeyalias") && !out->hostkey_alias)
			out->hostkey_alias = lc_xstrdup(a);
		else if (!strcmp(l->key, "stricthostkeychecking") && out->strict < 0)
			out->strict = yes(a);
		else if (!strcmp(l->key, "connecttimeout") && !out->connect_timeout)
			out->connect_timeout = (int)strtol(a, NULL, 10);
	}
}

void lc_ssh_host_cfg_release(struct lc_ssh_host_cfg *h)
{
	free(h->hostname);
	free(h->user);
	free_strv(h->identity_files, h->n_identity_files);
	free(h->proxy_jump);
	free(h->proxy_jump_where);
	free(h->known_hosts);
	free(h->hostkey_alias);
	memset(h, 0, sizeof(*h));
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h)
		return h;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

char *lc_ssh_config_expand(const char *path, const char *host, int port,
			   const char *remote_user)
{
	struct lc_buf b = LC_BUF_INIT;
	struct passwd *pw = getpwuid(getuid());
	const char *s = path;

	if (s[0] == '~' && (s[1] == '/' || !s[1])) {
		lc_buf_adds(&b, home_dir());
		s++;
	}
	for (; *s; s++) {
		if (*s != '%' || !s[1]) {
			lc_buf_addc(&b, *s);
			continue;
		}
		switch (*++s) {
		case 'h': lc_buf_adds(&b, host); break;
		case 'p': lc_buf_addf(&b, "%d", port); break;
		case 'r': lc_buf_adds(&b, remote_user); break;
		case 'u': lc_buf_adds(&b, pw && pw->pw_name ? pw->pw_name : ""); break;
		case 'd': lc_buf_adds(&b, home_dir()); break;
		case '%': lc_buf_addc(&b, '%'); break;
		default: lc_buf_addc(&b, '%'); lc_buf_addc(&b, *s);
		}
	}
	return lc_buf_detach(&b, NULL);
}
