/* plan.h - the desired state of one host: an ordered list of resources
 * computed locally from the inventory and the roles, before any host is
 * touched.  A file written by `file`/`template` and edited by `edit` ops is
 * one resource whose final content is computed here, so they never fight.
 * An edit of a file that no op writes is applied to the host's content once
 * the facts are read (lc_res_finish). */
#ifndef LC_PLAN_H
#define LC_PLAN_H

#include <stddef.h>

#include "buf.h"
#include "edit.h"
#include "error.h"
#include "health.h"
#include "inventory.h"
#include "role.h"
#include "sha.h"

struct lc_res_type;  /* ops/op.h: what the batches do with a resource */

/* Service managers.  A service's files exist for both; the facts batch
 * tells which one the host runs and the other's resources drop out. */
enum lc_backend { LC_BACKEND_ANY, LC_BACKEND_DAEMON, LC_BACKEND_SYSTEMD };

enum lc_svc_action { LC_SVC_NONE, LC_SVC_START, LC_SVC_RESTART, LC_SVC_STOP };

enum lc_res_status {
	LC_RES_PENDING,   /* not yet decided */
	LC_RES_OK,        /* already as desired */
	LC_RES_CHANGED,
	LC_RES_FAILED,
	LC_RES_SKIPPED,   /* not run: an earlier op failed on this host */
	LC_RES_NA,        /* belongs to the service manager the host does not run */
};

/* Why a file differs, from the host's state record. */
enum lc_change_why {
	LC_WHY_NEW,       /* not recorded: first converge of this path */
	LC_WHY_PENDING,   /* the repo says something new */
	LC_WHY_DRIFT,     /* changed on the host since the last converge */
	LC_WHY_BOTH,      /* both */
};

struct lc_fact {
	int known;          /* the facts batch reported this resource */
	int exists;
	int is_link;        /* a symbolic link (not followed): labctl writes nothing there */
	int no_parent;      /* missing, and so is its directory */
	int mode;
	char *owner, *group;
	char sha[LC_SHA256_HEX];
	struct lc_buf content;   /* remote content, when edits need it */
	int guard_run;      /* command: 1 when its guard says it must run */
	long size;          /* file size */
	int running;        /* service */
	long pid;
	int restart_pending;  /* a restart recorded by an earlier converge */
	char recorded[LC_SHA256_HEX];  /* digest in the host's state record, or "" */
	char *sig;          /* file: "dev:ino:size:mtime:ctime" when sha was taken */
	int sum_ok;         /* file: sig and sha may be remembered in LC_SUMS_FILE */
	int sum_cached;     /* ... and were: the facts batch took them from there */
	char *missing;      /* package: the names not installed, space-separated */
};

struct lc_res {
	const struct lc_res_type *type;
	const struct lc_op *op;     /* the op that declared it (its kind names it) */
	char *path;                 /* dir / file path; command: its run text */
	int mode;                   /* -1: unmanaged */
	char *owner, *group;        /* NULL: unmanaged */
	/* file */
	int has_content;            /* content known locally: data, len */
	int from_host;              /* the content was computed from the host's */
	const char *data;           /* own.buf, or a shared blob (file ops) */
	size_t len;
	const char *file;           /* data maps this local file: uploads read it */
	struct lc_buf own;
	char sha[LC_SHA256_HEX];
	struct lc_edit *edits;      /* to apply to the host's content */
	const struct lc_node **edit_where;  /* each edit in role.yaml */
	size_t n_edits;
	int create;
	int follow;                 /* a symbolic link at path: write the file it points to */
	char *validate;             /* file: a command, %s the staged file, run before
				     * the rename (NULL: none) */
	int secret;                 /* content holds a secret */
	struct lc_buf masked;       /* the content with secrets as ********, when known */
	int has_masked;
	/* command */
	const char *run, *unless, *chdir;
	char *creates;
	char **env;                 /* "K=V" strings */
	size_t n_env;
	/* service */
	int backend;                /* file: LC_BACKEND_* it belongs to */
	int stopped;                /* service: desired state stopped */
	const char *stop_signal;    /* service: TERM unless the role says */
	const char *user;
	char **restart_on;          /* service: paths that restart it */
	size_t n_restart_on;
	size_t *watch;              /* indices of the resources it watches */
	size_t n_watch;
	enum lc_svc_action action;
	/* filled in by the engine */
	struct lc_fact fact;
	int need_content, need_meta;   /* push content / fix mode or owner */
	char *tmp_path;             /* next to path: renamed onto it */
	char *up_path;              /* become: where the upload goes first */
	int inline_put;             /* content sent in the apply batch, not by SFTP */
	enum lc_res_status status;
	char *msg;                  /* failure message or command output tail */
	enum lc_change_why why;     /* for a changed file */
	char *diff;                 /* plan: unified diff or a description */
};

/* Local files read once and shared by every host's plan (mapped, not
 * copied: an 8 MiB binary costs 8 MiB once, whatever the host count). */
struct lc_source;
struct lc_blob {
	char *path;
	struct lc_source *source;  /* NULL: the work tree (mapped) */
	char *owned;               /* the data, when read into memory */
	const char *data;
	size_t len;
	int mode;
	char sha[LC_SHA256_HEX];
};

struct lc_blobs {
	struct lc_blob *items;
	size_t n, alloc;
};

#define LC_BLOBS_INIT { NULL, 0, 0 }
void lc_blobs_release(struct lc_blobs *b);

struct lc_host_plan {
	const struct lc_host *host;
	struct lc_res *res;
	size_t n_res;
	int backend;                /* forced by the inventory, or detected */
	struct lc_doc state;        /* the host's state record, when it has one */
	char **roles;               /* applied, in order */
	size_t n_roles;
	struct lc_health_check *health;  /* the roles' health checks, rendered */
	size_t n_health;
	int want_agent_status;      /* status: also read the agent's status file, and when
				     * the last converge read facts (last_facts) */
	long long last_facts;       /* ... in seconds since the epoch, or 0 */
	char **role_digest;         /* per role (same order as roles): SHA-256 of its
				     * desired state on this host */
	char version[64];           /* repo_version: short commit, "-dirty" */
	char commit[41];            /* the deployed commit, "" outside a repository */
	int dirty;                  /* the work tree differs for this host's roles */
	int skipped;                /* converge --changed: inputs unchanged */
	int converging;             /* facts of a converge holding the lock: remove temp
				     * files of an interrupted run, read the clock */
	struct lc_buf agent_status; /* its JSON, when read: lab-agent's status file, or
				     * `datadog-agent status --json` (agent_datadog) */
	int agent_datadog;
	long long host_now;         /* the host's clock (s) at the facts batch, or 0 */
	char *ustage;               /* become: the login user's staging directory,
				     * where uploads go (the facts batch says) */
	char *missing_tools;        /* the facts batch found these missing */
};

#define LC_DIFF_MAX_BYTES ((long)1 << 20)  /* larger files: sizes and digests */
/* Files up to LC_INLINE_MAX bytes, LC_INLINE_TOTAL in all per host, go to
 * the host inside the apply batch (base64): no SFTP round trips. */
#define LC_INLINE_MAX ((size_t)64 << 10)
#define LC_INLINE_TOTAL ((size_t)1 << 20)
#define LC_STATE_DIR "/var/lib/labctl"
#define LC_STATE_FILE LC_STATE_DIR "/state.json"
#define LC_RESTARTS_FILE LC_STATE_DIR "/restarts"
#define LC_LOCK_FILE LC_STATE_DIR "/lock"
#define LC_STAGE_DIR LC_STATE_DIR "/stage"
#define LC_TEMPS_FILE LC_STATE_DIR "/temps"   /* .NONCE: a converge's uploads, one a line */
/* The digest cache: "SIG SHA PATH" lines, SIG a file's dev:ino:size:mtime:ctime
 * when SHA was taken.  A file whose SIG still matches is not read again. */
#define LC_SUMS_FILE LC_STATE_DIR "/sums"
#define LC_STATE_NEW LC_STATE_DIR "/.new"   /* state.json and sums, before mv */
#define LC_CLOCK_FILE LC_STATE_DIR "/clock"   /* written to read the host's clock */
#define LC_LOCK_EXIT 75            /* the facts batch could not take the lock */
#define LC_TOOLS_EXIT 76           /* ... or lacks a tool it needs ("M TOOL...") */
#define LC_SERVICES_DIR "/etc/labctl/services"
#define LC_AGENT_STATUS "/var/lib/lab-agent/status.json"

/* What every host's plan of one run shares, made once: the `hosts`
 * variable, local files read once (blobs), and which roles' inputs differ
 * from HEAD in the work tree (one git status). */
struct lc_plan_run {
	const struct lc_inventory *inv;
	const struct lc_roles *roles;
	struct lc_blobs *blobs;
	struct lc_node *hosts;
	unsigned char *role_dirty;  /* per role of roles */
};

int lc_plan_run_init(struct lc_plan_run *run, const struct lc_inventory *inv,
		     const struct lc_roles *roles, struct lc_blobs *blobs, struct lc_error *err);
void lc_plan_run_release(struct lc_plan_run *run);

/* Compute a host's desired state.  Errors name role file:line:col. */
int lc_plan_host(struct lc_host_plan *out, struct lc_plan_run *run, const struct lc_host *host,
		 struct lc_error *err);
void lc_host_plan_release(struct lc_host_plan *p);

/* Once facts are known: apply remote edits, decide what must change.
 * Services are decided after every other resource (they watch them).
 * Returns 0, or an error for this resource (it is then marked failed).
 * A path that is a symbolic link on the host (fact.is_link: not followed)
 * is refused. */
int lc_res_decide(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err);

/* plan: set r->diff to what would change - a unified diff for text (with
 * secrets masked), sizes and digests for binaries, mode and owner changes,
 * the command to run, the service action. */
void lc_res_describe(struct lc_res *r);

/* Names of the roles whose inputs differ from what the host's state
 * record says was deployed (space-separated; "" when none, NULL when the
 * host has no record). */
char *lc_plan_roles_behind(const struct lc_host_plan *p);

/* Parse the state record text into p->state and fill fact.recorded. */
int lc_plan_read_state(struct lc_host_plan *p, const char *text, size_t len,
		       struct lc_error *err);

#endif
