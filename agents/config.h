/* config.h - the agent's configuration: datadog.yaml and the checks found
 * in conf.d/ (and checks.d/).  Loading never prints; errors carry
 * file:line:col. */
#ifndef LC_AGENT_CONFIG_H
#define LC_AGENT_CONFIG_H

#include <stddef.h>

#include "error.h"
#include "metric.h"
#include "yamlx.h"

#define LC_AGENT_DEFAULT_DIR "/etc/datadog-agent"
#define LC_AGENT_DEFAULT_SITE "datadoghq.com"
#define LC_CHECK_DEFAULT_INTERVAL 15
#define LC_CHECK_MAX_INTERVAL 86400

enum lc_log_level {
	LC_LOG_DEBUG,
	LC_LOG_INFO,
	LC_LOG_WARN,
	LC_LOG_ERROR,
	LC_LOG_OFF,
};

/* datadog.yaml.  Keys other than these are ignored (the stock file has
 * many). */
struct lc_agent_conf {
	char *api_key;         /* "" when unset: nothing is sent.  Never print. */
	char *site;            /* default datadoghq.com */
	char *dd_url;          /* as written, or NULL */
	char *intake;          /* dd_url, else https://api.<site>; no trailing '/' */
	char *hostname;        /* the configured one, else the system's */
	struct lc_tags tags;   /* as written */
	char *env;             /* "" when unset */
	enum lc_log_level log_level;
	/* apm_config: the trace receiver on 127.0.0.1 (enabled: default true;
	 * receiver_port: default 8126) */
	int apm_enabled;
	unsigned apm_port;
	char *bind_host;       /* the address its servers listen on (IPv4; default 127.0.0.1) */
};

#define LC_AGENT_CONF_INIT { NULL, NULL, NULL, NULL, NULL, LC_TAGS_INIT, NULL, LC_LOG_INFO, 1, \
			     8126, NULL }

/* Load dir/datadog.yaml.  A missing file is an error (LC_EIO); so is any
 * known key with a bad value (LC_EPARSE, positioned).  On failure out holds
 * the defaults (lc_agent_conf_defaults), so it is always usable. */
int lc_agent_conf_load(struct lc_agent_conf *out, const char *dir,
		       struct lc_error *err);
/* No api_key (submission off), the default site, the system host name. */
void lc_agent_conf_defaults(struct lc_agent_conf *out);
void lc_agent_conf_release(struct lc_agent_conf *c);
/* Parse "debug", "info", "warn"/"warning", "error"/"critical", "off". */
int lc_log_level_parse(enum lc_log_level *out, const char *s);
const char *lc_log_level_name(enum lc_log_level level);
/* Append url with any user:password@ replaced by "***@". */
void lc_url_redact(struct lc_buf *out, const char *url);

enum lc_check_kind {
	LC_CHECK_SYSTEM,
	LC_CHECK_POSTGRES,
	LC_CHECK_CUSTOM,
};

struct lc_check_instance {
	const struct lc_node *node;  /* the instance mapping, or NULL (empty) */
	long interval;               /* min_collection_interval, seconds */
	struct lc_tags tags;
};

/* One check: its config file(s) and instances.  When error is set the check
 * cannot run (bad YAML, bad interval, unknown check, not executable) and
 * the error says why, with a position where there is one. */
struct lc_check_conf {
	char *name;
	enum lc_check_kind kind;
	char *file;            /* the (first) config file; NULL: built-in default */
	char *exe;             /* LC_CHECK_CUSTOM: the executable, or the module */
	int python;            /* exe is checks.d/NAME.py, a Python module defining an
				  AgentCheck, run by lab_check_runner.py */
	/* conf.d/<name>.yaml and conf.d/<name>.d/conf.yaml may both exist:
	 * the instances of both are used.  The docs keep the nodes alive. */
	struct lc_doc docs[2];
	struct lc_check_instance *instances;
	size_t n_instances;
	char *error;
};

/* Everything found in conf.d/ and checks.d/, sorted by check name.  notes
 * are worth an info line in the log (an executable without config, a
 * custom check replacing a built-in one); errors are problems that belong
 * to no single check (conf.d cannot be read). */
struct lc_check_confs {
	struct lc_check_conf *v;
	size_t nr, alloc;
	struct lc_tags notes;
	struct lc_tags errors;
};

#define LC_CHECK_CONFS_INIT { NULL, 0, 0, LC_TAGS_INIT, LC_TAGS_INIT }

/* Scan dir/conf.d and dir/checks.d.  Never fails as a whole: every problem
 * belongs to one check (its error) so the others still run.  The system
 * check is always there (default instance when it has no config). */
void lc_check_confs_load(struct lc_check_confs *out, const char *dir);
void lc_check_confs_release(struct lc_check_confs *c);
const struct lc_check_conf *lc_check_confs_find(const struct lc_check_confs *c,
						const char *name);

/* Helpers for the checks' own instance keys. */
int lc_node_is_null(const struct lc_node *n);
/* A scalar value of instance key (NULL when absent or null); fails when
 * it is not a scalar. */
int lc_instance_str(const char **out, const struct lc_check_instance *inst,
		    const char *key, struct lc_error *err);

#endif
