/* script.h - the batches labctl sends to a host's long-lived `sh`, and
 * the parsers of what comes back.  The shell code itself is in
 * provisioner/run/sh/ (lib.sh: the functions every batch calls; start.sh and
 * priv.sh: how the connection's shell starts), embedded at build time.
 * The connection's shell reads lc_script_shell_init() once; a batch is
 * calls of its functions, with
 * every value from the inventory or a role single-quoted as an argument
 * (lc_buf_add_shquote): nothing is expanded on the host.
 *
 * Facts batch: one line per resource,
 *   "I -"                       missing
 *   "I X"                       exists but is of the wrong type
 *   "L|PATH"                    a symbolic link (not followed: refused)
 *   "I D MODE OWNER GROUP"      directory
 *   "I F MODE OWNER GROUP SHA"  regular file (then "I C BASE64" when its
 *                               content is needed for edits)
 *   "I G 0|1"                   command guard: 1 = must run
 * and "B BACKEND" (the service manager), "U DIR" (become: the login user's
 * staging directory), "M TOOL..." (tools the host lacks: the batch exits
 * LC_TOOLS_EXIT), "L HOLDER" / "L! WHY" (the lock: exit LC_LOCK_EXIT).
 * Apply batch: "I R RC BASE64-OUTPUT-TAIL" for each op that ran. */
#ifndef LC_SCRIPT_H
#define LC_SCRIPT_H

#include "buf.h"
#include "error.h"
#include "plan.h"

/* What every batch needs defined first: the paths of plan.h as shell
 * variables, and the functions of lib.sh. */
void lc_script_prelude(struct lc_buf *out);

/* What the connection's long-lived shell reads first, once (the
 * transport's shell_prelude): the prelude with priv.sh between the paths
 * and lib.sh. */
void lc_script_shell_init(struct lc_buf *out);

/* The command of the SSH exec channel: the long-lived shell itself, or
 * with become (e.g. "sudo") start.sh, which starts it through sudo as
 * user (NULL: root); password: a password line comes first on stdin. */
void lc_script_shell_command(struct lc_buf *out, const char *become, const char *user,
			     int password);

/* The transport's feed_command: feed.sh, which runs the channel's command
 * with the first input given in the command line. */
void lc_script_feed_command(struct lc_buf *out);

/* Whether the facts batch of p holds no secret (a guard's environment can
 * hold one), so that it may travel in the exec command. */
int lc_script_facts_public(const struct lc_host_plan *p);

/* Take the host's lock (fd 9, opened by the shell on LC_LOCK_FILE) before
 * anything else, waiting up to timeout seconds; on failure the batch exits
 * with LC_LOCK_EXIT and prints "L <holder>" (or "L! WHY": no lock can be
 * taken there).  Then start this connection's watchdog (also when lock is 0:
 * the inventory says lock: false). */
void lc_script_lock(struct lc_buf *out, int lock, int timeout, const char *holder,
		    const char *nonce);

/* This converge's list of uploads (LC_TEMPS_FILE.NONCE), which its watchdog
 * removes if the connection ends before the apply batch renames them. */
char *lc_script_temps_path(const struct lc_host_plan *p, const char *nonce);
void lc_script_facts(struct lc_buf *out, const struct lc_host_plan *p);
int lc_script_parse_facts(struct lc_host_plan *p, const char *out, size_t len,
			  struct lc_error *err);

/* plan: fetch the host's content of text files that would change ("I C
 * BASE64" lines, parsed by lc_script_parse_facts).  Returns 0 when there
 * is nothing to fetch (out untouched). */
int lc_script_contents(struct lc_buf *out, const struct lc_host_plan *p);

/* Temp path next to the target: DIR/.labctl.BASE.NONCE, or in
 * LC_STAGE_DIR when the target's directory does not exist yet. */
char *lc_script_tmp_path(const struct lc_res *r, size_t idx, const char *nonce);

/* become: where resource idx is uploaded first (the login user's staging
 * directory, p->ustage), else NULL (uploaded to its tmp path). */
char *lc_script_up_path(const struct lc_host_plan *p, size_t idx, const char *nonce);

/* The mode to push a file's temp with (the apply batch sets the rest). */
unsigned lc_script_upload_mode(const struct lc_res *r);

/* Whether a converge that changes nothing would write nothing either: every
 * resource is ok, no digest to remember is new, and the state record would
 * say what it says (but for its time).  Then no apply batch is sent: the
 * record keeps the time of the last converge that wrote it. */
int lc_script_nothing_to_write(const struct lc_host_plan *p);

/* The apply batch for every resource with status CHANGED, in order. */
void lc_script_apply(struct lc_buf *out, const struct lc_host_plan *p, const char *temps);
/* The state record of a converge in which an op failed (the apply batch
 * writes it only when all succeeded): a batch of its own, after
 * lc_script_parse_apply, so it records what did happen. */
void lc_script_state(struct lc_buf *out, const struct lc_host_plan *p);
/* Fill status/msg of each changed resource; resources after a failure are
 * marked skipped.  Returns the number of failed resources. */
int lc_script_parse_apply(struct lc_host_plan *p, const char *out, size_t len,
			  struct lc_error *err);

#define LC_SKIP_MARK "@@labctl-guard-skip@@"

#endif
