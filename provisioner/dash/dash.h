/* dash.h - dashboards, monitors and downtimes as code: definitions in the
 * repo become desired API objects, which are compared with what the API
 * holds to decide what to create, update, delete or leave alone.  Pure: no
 * network here (dd_api.h is the client), nothing prints.
 *
 * Definitions: DIR/NAME.KIND.yaml (or .yml, .json), KIND one of dashboard,
 * monitor, downtime; one object per file, in the Datadog API v1 schema.
 * Other files (a README) are ignored.  NAME is lowercase letters, digits,
 * '_', '-', '.' and is the object's identity: labctl finds its objects by a
 * marker, never by id or title:
 *
 *   monitor    the tag "labctl:NAME" in `tags`
 *   dashboard  the line "[labctl:NAME]" at the end of `description`
 *   downtime   the line "[labctl:NAME]" at the end of `message`
 *              (v1 dashboards and downtimes have no tags of their own)
 *
 * Every string value is a labctl template (template.h) rendered over the
 * inventory's lab vars plus `hosts` (hosts.NAME.address, .name, .port, .tags
 * and the host's vars), `tags` (the lab's tags) and `lab` (the inventory's
 * name).  The API's own {{ }} variables and {{#is_alert}} blocks are written
 * as template literals: {{ "{{#is_alert}}" }}.  A definition that would use a
 * secret variable is refused: it would be sent to the API and shown by plan.
 *
 * Scalars are typed as in json.h: a plain YAML scalar that reads as a JSON
 * number, true, false or null is one; quote it to send a string. */
#ifndef LC_DASH_H
#define LC_DASH_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "inventory.h"
#include "yamlx.h"

enum lc_dash_kind {
	LC_DASH_DASHBOARD,
	LC_DASH_MONITOR,
	LC_DASH_DOWNTIME,
	LC_DASH_N_KINDS,
};

/* "dashboard", "monitor", "downtime". */
const char *lc_dash_kind_name(enum lc_dash_kind kind);
/* The API collection: "/api/v1/dashboard", ... */
const char *lc_dash_kind_path(enum lc_dash_kind kind);

#define LC_DASH_MARKER_PREFIX "labctl:"

/* One object the repo asks for. */
struct lc_dash_def {
	enum lc_dash_kind kind;
	char *name;
	char *file;                  /* the definition's path, for messages */
	struct lc_node *body;        /* rendered, marker included: what is sent */
};

struct lc_dash_defs {
	struct lc_dash_def *items;   /* sorted by kind, then name */
	size_t n, alloc;
};

/* One object the API holds. */
struct lc_dash_remote {
	enum lc_dash_kind kind;
	char *id;                    /* as text: dashboards have string ids */
	char *name;                  /* from its labctl marker; NULL: not labctl's */
	char *title;                 /* title or name, for messages (may be NULL) */
	struct lc_node *body;        /* as the API answered, owned */
};

struct lc_dash_remotes {
	struct lc_dash_remote *items;
	size_t n, alloc;
};

/* Load every definition in dir and render it over inv.  Nothing is loaded
 * unless every file is valid: errors name FILE:LINE:COL. */
int lc_dash_load(struct lc_dash_defs *out, const char *dir, const struct lc_inventory *inv,
		 struct lc_error *err);
/* The same for one definition held in memory (name: "NAME.KIND.yaml"). */
int lc_dash_load_buf(struct lc_dash_defs *defs, const char *file, const char *data,
		     size_t len, const struct lc_inventory *inv, struct lc_error *err);
/* Cross-checks once every definition is loaded: a downtime's monitor_tags
 * that name labctl:X need a monitor definition X. */
int lc_dash_check(const struct lc_dash_defs *defs, struct lc_error *err);
void lc_dash_defs_release(struct lc_dash_defs *defs);

/* The labctl name an API object carries, or NULL (malloc'd). */
char *lc_dash_identity(enum lc_dash_kind kind, const struct lc_node *obj);
/* Add the marker of name to body (a mapping). */
void lc_dash_mark(struct lc_node *body, enum lc_dash_kind kind, const char *name);

/* Add the objects of one list answer: an array of objects, or for
 * dashboards {"dashboards": [...]}.  Canceled or disabled downtimes (the
 * past occurrences of recurring ones) are left out.  Takes list. */
int lc_dash_remotes_add_list(struct lc_dash_remotes *r, enum lc_dash_kind kind,
			     struct lc_node *list, struct lc_error *err);
/* Replace the body of r->items[i] (a dashboard's summary by the whole
 * dashboard).  Takes body. */
void lc_dash_remote_set_body(struct lc_dash_remote *r, struct lc_node *body);
void lc_dash_remotes_release(struct lc_dash_remotes *r);

/* What existing looks like seen through desired: only the fields desired
 * sets (recursively), and every value that is equivalent to desired's
 * replaced by desired's own, so that view and desired print the same exactly
 * when nothing needs to change.  Equivalent: numbers by value (800 = 800.0),
 * strings up to trailing white space, null = absent, `tags`,
 * `monitor_tags`, `scope` and `week_days` as sets (and a scope string = a
 * one-item list), a monitor's "metric alert" = "query alert" (the API
 * answers the latter), and for a recurring downtime `start`/`end` by the
 * window's length and time of day (the API moves them to the current
 * occurrence).  Returns NULL when existing is NULL. */
struct lc_node *lc_dash_view(enum lc_dash_kind kind, const struct lc_node *desired,
			     const struct lc_node *existing);
/* 1 when existing needs no change to be desired. */
int lc_dash_same(enum lc_dash_kind kind, const struct lc_node *desired,
		 const struct lc_node *existing);
/* The differences of view -> desired as a JSON array (a new tree) of
 * {"path": "options.thresholds.warning", "old": 500, "new": 600}
 * ("old" or "new" left out when absent). */
struct lc_node *lc_dash_changes(const struct lc_node *view, const struct lc_node *desired);

enum lc_dash_action {
	LC_DASH_NOOP,
	LC_DASH_CREATE,
	LC_DASH_UPDATE,
	LC_DASH_DELETE,       /* labctl's, gone from the repo, --prune */
	LC_DASH_KEEP,         /* labctl's, gone from the repo, no --prune */
	LC_DASH_CONFLICT,     /* several API objects carry the same marker */
};

const char *lc_dash_action_name(enum lc_dash_action a);

struct lc_dash_step {
	enum lc_dash_kind kind;
	enum lc_dash_action action;
	const char *name;
	const struct lc_dash_def *def;        /* NULL for delete, keep */
	const struct lc_dash_remote *remote;  /* NULL for create */
	struct lc_node *view;                 /* update, noop: lc_dash_view */
	char *why;                            /* conflict: which ids */
};

struct lc_dash_plan {
	struct lc_dash_step *steps;   /* run in this order: creates and updates by
				       * kind (dashboards, monitors, downtimes),
				       * then deletes in the reverse kind order */
	size_t n, alloc;
};

/* Match definitions with API objects by kind and name.  Objects without a
 * labctl marker are never touched.  Borrows defs and remotes. */
void lc_dash_decide(struct lc_dash_plan *out, const struct lc_dash_defs *defs,
		    const struct lc_dash_remotes *remotes, int prune);
void lc_dash_plan_release(struct lc_dash_plan *plan);

#endif
