/* inventory.h - the lab: hosts, their roles, tags and variables.
 *
 * Variable precedence, lowest first: lab `vars` < role `defaults` < host
 * `vars`.  `tags` are not variables you set: the template variable `tags` is
 * the lab's tags followed by the host's.  Reserved names (host, hosts,
 * inventory_hostname, roles, tags) cannot be set as variables.  A variable
 * written as { from_env: NAME } takes the value of the environment variable
 * NAME when labctl runs and is secret. */
#ifndef LC_INVENTORY_H
#define LC_INVENTORY_H

#include <stddef.h>

#include "error.h"
#include "yamlx.h"

/* How the login user gets root (or become_user) on a host. */
struct lc_become {
	char *method;            /* NULL: the login user does everything; "sudo" */
	char *user;              /* default root */
	char *password;          /* NULL: sudo must not ask (a secret: never printed) */
};

struct lc_host {
	char *name;
	char *address;
	int port;
	char *user;
	char **roles;            /* as listed; `base` is implicit and not here */
	size_t n_roles;
	struct lc_node *vars;    /* map, owned */
	struct lc_node *tags;    /* list: lab tags then host tags, owned */
	const struct lc_node *where;  /* the host's node, for messages */
	const struct lc_node *roles_node;  /* its 'roles' list, for messages */
	char *service_manager;   /* "daemon", "systemd" or NULL (detect) */
	struct lc_become become;
	int lock;                /* take the host lock (default 1) */
	char *identity_file;     /* its own key, or NULL */
	char *ssh_alias;         /* the name to look up in ssh_config (default: address) */
	int user_set, port_set;  /* given by the inventory (else ssh_config may) */
};

struct lc_source;
struct lc_repo_info;

struct lc_inventory {
	struct lc_doc doc;
	struct lc_source *source;  /* where it and the roles are read (not owned) */
	const struct lc_repo_info *repo;  /* the repository, when in one (not owned) */
	char *path;              /* as given */
	char *dir;               /* directory holding the inventory file */
	char *roles_dir;         /* absolute or relative to cwd */
	char *project_dir;       /* holds apps/ and build/ (default: the inventory's ..) */
	char *state_dir;
	char *provider;          /* "local" or "ssh" */
	char *identity_file;     /* NULL: ssh-agent (provider ssh) */
	char *known_hosts;
	int connect_timeout_ms;
	int command_timeout_ms;
	char *ssh_config;        /* ssh.config_file (provider ssh: default ~/.ssh/config) */
	int ssh_config_set;      /* given: it must exist */
	int known_hosts_set, connect_timeout_set, user_set, port_set;
	struct lc_become become; /* ssh.become*: every host's default */
	int lock;
	struct lc_node *vars;    /* lab vars (map, owned) */
	struct lc_host *hosts;
	size_t n_hosts;
};

#define LC_INVENTORY_DEFAULT_PATH "inventory/lab.yaml"

int lc_inventory_load(struct lc_inventory *out, const char *path, struct lc_error *err);
/* The same, reading the inventory (and later the roles) from source. */
int lc_inventory_load_from(struct lc_inventory *out, const char *path,
			   struct lc_source *source, struct lc_error *err);
void lc_inventory_release(struct lc_inventory *inv);

/* The `hosts` variable templates see: for each host, the lab vars, its own
 * vars, and name, address, port, user, roles and tags.  A new tree. */
struct lc_node *lc_inventory_hosts_node(const struct lc_inventory *inv);

const struct lc_host *lc_inventory_host(const struct lc_inventory *inv, const char *name);
int lc_host_has_role(const struct lc_host *h, const char *role);

/* Resolve TARGETs (host names or role names) to a selection mask of
 * inv->n_hosts entries.  No targets selects every host.  An unknown target
 * is an error naming it. */
int lc_inventory_select(unsigned char *mask, const struct lc_inventory *inv,
			char *const *targets, size_t n_targets, struct lc_error *err);

/* Turn a { from_env: NAME, secret: bool, default: x } value into a scalar,
 * recursively for maps and lists; other values are copied. */
int lc_vars_resolve(struct lc_node **out, const struct lc_node *v, struct lc_error *err);

#endif
