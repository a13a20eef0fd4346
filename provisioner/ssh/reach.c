/* reach.c - inventory + ssh_config -> transport options, hop by hop. */
#include "reach.h"

#include <stdlib.h>
#include <string.h>

#define JUMPS_MAX 8

int lc_reach_load_config(struct lc_ssh_config **out, const struct lc_inventory *inv,
			 struct lc_error *err)
{
	*out = NULL;
	if (!inv->ssh_config)
		return 0;
	return lc_ssh_config_load(out, inv->ssh_config, !inv->ssh_config_set, err);
}

void lc_reach_free(struct lc_reach *r)
{
	size_t i;

	if (!r)
		return;
	lc_reach_free(r->jump);
	free(r->name);
	free(r->address);
	free(r->user);
	free(r->known_hosts);
	free(r->hostkey_alias);
	for (i = 0; i < r->n_identity_files; i++)
		free(r->identity_files[i]);
	free(r->identity_files);
	free(r);
}

/* What every hop shares with the host: timeouts, cancellation. */
static void common_opts(struct lc_reach *r, const struct lc_inventory *inv,
			const struct lc_ssh_host_cfg *c, int accept_new)
{
	struct lc_ssh_opts *o = &r->opts;

	o->name = r->name;
	o->address = r->address;
	o->user = r->user;
	o->known_hosts = r->known_hosts;
	o->hostkey_alias = r->hostkey_alias;
	o->identity_files = (const char *const *)r->identity_files;
	o->n_identity_files = r->n_identity_files;
	o->accept_new_hostkeys = accept_new || c->strict == 0;
	o->connect_timeout_ms = !inv->connect_timeout_set && c->connect_timeout ?
				c->connect_timeout * 1000 : inv->connect_timeout_ms;
	o->command_timeout_ms = inv->command_timeout_ms;
}

static void add_identity(struct lc_reach *r, char *path)
{
	r->identity_files = lc_xrealloc(r->identity_files,
					(r->n_identity_files + 1) * sizeof(*r->identity_files));
	r->identity_files[r->n_identity_files++] = path;
}

/* Keys: the inventory's (the host's, then the lab's) alone; else
 * ssh_config's IdentityFiles, then ssh-agent unless IdentitiesOnly; else
 * ssh-agent. */
static void identities(struct lc_reach *r, const char *inv_key, const struct lc_ssh_host_cfg *c)
{
	size_t i;

	if (inv_key) {
		add_identity(r, lc_xstrdup(inv_key));
		return;
	}
	for (i = 0; i < c->n_identity_files; i++)
		add_identity(r, lc_ssh_config_expand(c->identity_files[i], r->address,
						     r->opts.port, r->user));
	r->opts.agent_fallback = c->identities_only != 1;
}

static char *known_hosts(const struct lc_inventory *inv, const struct lc_ssh_host_cfg *c,
			 const char *address, int port, const char *user)
{
	if (!inv->known_hosts_set && c->known_hosts)
		return lc_ssh_config_expand(c->known_hosts, address, port, user);
	return lc_xstrdup(inv->known_hosts);
}

/* One ProxyJump hop, "[user@]host[:port]", and the hops before it. */
static int resolve_hop(struct lc_reach **out, const struct lc_inventory *inv,
		       const struct lc_ssh_config *cfg, const char *spec, const char *where,
		       const char *def_user, int accept_new, int depth, int follow,
		       struct lc_error *err);

/* A ProxyJump value: the last hop is the one this host is reached through. */
static int resolve_jumps(struct lc_reach **out, const struct lc_inventory *inv,
			 const struct lc_ssh_config *cfg, const char *list, const char *where,
			 const char *def_user, int accept_new, int depth, struct lc_error *err)
{
	struct lc_reach *prev = NULL, *hop;
	char *copy = lc_xstrdup(list), *p = copy, *comma;
	int rc = 0, first = 1;

	*out = NULL;
	if (!strcasecmp(list, "none")) {
		free(copy);
		return 0;
	}
	if (depth >= JUMPS_MAX) {
		free(copy);
		return lc_error_set(err, LC_EPARSE, "%s: ProxyJump: more than %d hops (a loop?)",
				    where, JUMPS_MAX);
	}
	for (;;) {
		comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		/* the first hop is reached as its own config says (it may have a
		 * ProxyJump of its own); the later ones through the one before */
		rc = resolve_hop(&hop, inv, cfg, p, where, def_user, accept_new, depth + 1, first,
				 err);
		if (rc)
			break;
		if (!first) {
			lc_reach_free(hop->jump);
			hop->jump = prev;
			hop->opts.jump = &prev->opts;
		}
		prev = hop;
		first = 0;
		if (!comma)
			break;
		p = comma + 1;
	}
	free(copy);
	if (rc) {
		lc_reach_free(prev);
		return rc;
	}
	*out = prev;
	return 0;
}

/* def_user: the host's login user, for a hop that names none.  follow:
 * the hop's own ProxyJump applies (the first hop of a list). */
static int resolve_hop(struct lc_reach **out, const struct lc_inventory *inv,
		       const struct lc_ssh_config *cfg, const char *spec, const char *where,
		       const char *def_user, int accept_new, int depth, int follow,
		       struct lc_error *err)
{
	struct lc_reach *r = lc_xcalloc(1, sizeof(*r));
	struct lc_ssh_host_cfg c;
	const char *at = strchr(spec, '@'), *host = at ? at + 1 : spec;
	const char *colon = strrchr(host, ':');
	char *name = colon ? lc_xstrndup(host, (size_t)(colon - host)) : lc_xstrdup(host);
	long port = 0;
	int rc = 0;

	*out = NULL;
	if (colon) {
		char *e;

		port = strtol(colon + 1, &e, 10);
		if (*e || port < 1 || port > 65535) {
			free(name);
			free(r);
			return lc_error_set(err, LC_EPARSE, "%s: ProxyJump: bad port in '%s'",
					    where, spec);
		}
	}
	if (!*name || (at && at == spec)) {
		free(name);
		free(r);
		return lc_error_set(err, LC_EPARSE, "%s: ProxyJump: bad host '%s'", where, spec);
	}
	lc_ssh_config_lookup(&c, cfg, name);
	r->name = lc_xasprintf("jump host %s", name);
	r->address = c.hostname ? lc_ssh_config_expand(c.hostname, name, 22, "") : lc_xstrdup(name);
	r->user = at ? lc_xstrndup(spec, (size_t)(at - spec)) :
		  lc_xstrdup(c.user ? c.user : def_user);
	r->opts.port = port ? (int)port : c.port ? c.port : 22;
	r->known_hosts = known_hosts(inv, &c, r->address, r->opts.port, r->user);
	r->hostkey_alias = c.hostkey_alias ? lc_xstrdup(c.hostkey_alias) : NULL;
	identities(r, inv->identity_file, &c);
	common_opts(r, inv, &c, accept_new);
	if (c.proxy_jump && follow) {
		rc = resolve_jumps(&r->jump, inv, cfg, c.proxy_jump, c.proxy_jump_where, def_user,
				   accept_new, depth, err);
		if (!rc && r->jump)
			r->opts.jump = &r->jump->opts;
	}
	free(name);
	lc_ssh_host_cfg_release(&c);
	if (rc) {
		lc_reach_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int lc_reach_resolve(struct lc_reach **out, const struct lc_inventory *inv,
		     const struct lc_host *h, const struct lc_ssh_config *cfg, int accept_new,
		     struct lc_error *err)
{
	struct lc_reach *r = lc_xcalloc(1, sizeof(*r));
	struct lc_ssh_host_cfg c;
	const char *alias = h->ssh_alias ? h->ssh_alias : h->address;
	int rc = 0;

	*out = NULL;
	lc_ssh_config_lookup(&c, cfg, alias);
	r->name = lc_xstrdup(h->name);
	r->address = c.hostname ? lc_ssh_config_expand(c.hostname, alias, 22, "") :
		     lc_xstrdup(h->address);
	r->user = lc_xstrdup(!h->user_set && c.user ? c.user : h->user);
	r->opts.port = !h->port_set && c.port ? c.port : h->port;
	r->known_hosts = known_hosts(inv, &c, r->address, r->opts.port, r->user);
	r->hostkey_alias = c.hostkey_alias ? lc_xstrdup(c.hostkey_alias) : NULL;
	identities(r, h->identity_file ? h->identity_file : inv->identity_file, &c);
	common_opts(r, inv, &c, accept_new);
	if (c.proxy_jump) {
		rc = resolve_jumps(&r->jump, inv, cfg, c.proxy_jump, c.proxy_jump_where, r->user,
				   accept_new, 0, err);
		if (!rc && r->jump)
			r->opts.jump = &r->jump->opts;
	}
	lc_ssh_host_cfg_release(&c);
	if (rc) {
		lc_reach_free(r);
		return lc_error_prefix(err, "host %s", h->name);
	}
	*out = r;
	return 0;
}
