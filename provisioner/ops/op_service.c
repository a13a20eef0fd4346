/* op_service.c - `service: { name, run, chdir, user, env, state,
 * restart_on, stop_signal }`: a long-running process.  It is its
 * definition files for both service managers (the one the host does not
 * run drops out after the facts) and a service resource that starts,
 * restarts or stops it, once, at the end of the host's converge.
 *
 *   daemon   /etc/labctl/services/NAME.env and NAME.run, started by
 *            start-stop-daemon (pidfile /run/lab/NAME.pid, output to
 *            /var/log/lab/NAME.log)
 *   systemd  /etc/systemd/system/NAME.service with Environment= lines,
 *            running run: as /etc/labctl/services/NAME.sh
 *
 * It restarts when a definition file or a restart_on path changed, or a
 * restart an earlier converge owed is pending. */
#include "op.h"

#include <stdlib.h>
#include <string.h>

struct svc_op {
	const char *name, *run, *chdir, *user;
	const char *stop_signal;           /* TERM (default), INT, QUIT, HUP */
	int stopped;                       /* state: stopped */
	const struct lc_node *env;         /* map or NULL */
	const struct lc_node *restart_on;  /* list of path templates or NULL */
};

static const char *const keys[] = { "name", "run", "chdir", "user", "env", "state",
	"restart_on", "stop_signal", NULL };

static int parse(struct lc_op *op, const struct lc_node *body, const struct lc_role *role,
		 struct lc_error *err)
{
	struct svc_op *v = lc_xcalloc(1, sizeof(*v));
	const char *state = NULL;
	size_t i;
	int rc;

	(void)role;
	op->data = v;
	if ((rc = lc_role_str(&v->name, body, "name", 1, "a service op", err)) ||
	    (rc = lc_role_str(&v->run, body, "run", 1, "a service op", err)) ||
	    (rc = lc_role_str(&v->chdir, body, "chdir", 0, "a service op", err)) ||
	    (rc = lc_role_str(&v->user, body, "user", 0, "a service op", err)) ||
	    (rc = lc_role_str(&state, body, "state", 0, "a service op", err)) ||
	    (rc = lc_role_str(&v->stop_signal, body, "stop_signal", 0, "a service op", err)))
		return rc;
	if (v->stop_signal && strcmp(v->stop_signal, "TERM") && strcmp(v->stop_signal, "INT") &&
	    strcmp(v->stop_signal, "QUIT") && strcmp(v->stop_signal, "HUP"))
		return lc_node_error(err, LC_EPARSE, lc_node_get(body, "stop_signal"),
				     "expected TERM, INT, QUIT or HUP for 'stop_signal'");
	for (i = 0; v->name[i]; i++)
		if (!((v->name[i] >= 'a' && v->name[i] <= 'z') ||
		      (v->name[i] >= '0' && v->name[i] <= '9') ||
		      v->name[i] == '-' || v->name[i] == '_'))
			return lc_node_error(err, LC_EPARSE, lc_node_get(body, "name"),
					     "a service name is lowercase letters, digits, "
					     "'-' and '_'");
	if (state && strcmp(state, "running") && strcmp(state, "stopped"))
		return lc_node_error(err, LC_EPARSE, lc_node_get(body, "state"),
				     "expected running or stopped for 'state'");
	v->stopped = state && !strcmp(state, "stopped");
	if ((v->restart_on = lc_node_get(body, "restart_on"))) {
		if ((rc = lc_node_expect(v->restart_on, LC_NODE_SEQ, "'restart_on'", err)))
			return rc;
		for (i = 0; i < v->restart_on->n_items; i++)
			if ((rc = lc_node_expect(v->restart_on->items[i], LC_NODE_SCALAR,
						 "a path in restart_on", err)))
				return rc;
	}
	return lc_role_env(&v->env, body, err);
}

/* Environment="K=V" for a systemd unit: quote, escape \ " and specifiers. */
static void systemd_env(struct lc_buf *b, const char *kv)
{
	lc_buf_adds(b, "Environment=\"");
	for (; *kv; kv++) {
		switch (*kv) {
		case '\\': lc_buf_adds(b, "\\\\"); break;
		case '"': lc_buf_adds(b, "\\\""); break;
		case '%': lc_buf_adds(b, "%%"); break;   /* '$' is not special here */
		case '\n': lc_buf_adds(b, "\\n"); break;
		default: lc_buf_addc(b, *kv);
		}
	}
	lc_buf_adds(b, "\"\n");
}

static void service_file(struct lc_host_plan *p, const struct lc_op *op, char *path,
			 struct lc_buf *content, int mode, int backend, int secret)
{
	struct lc_res *r = lc_op_file_computed(p, op, path, content, mode);

	r->backend = backend;
	r->secret = secret;
}

static int plan(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		struct lc_error *err)
{
	const struct svc_op *v = op->data;
	struct lc_buf env = LC_BUF_INIT, run = LC_BUF_INIT, unit = LC_BUF_INIT;
	struct lc_buf sh = LC_BUF_INIT;
	char **kv = NULL, *chdir = NULL, *user = NULL;
	struct lc_res *r;
	size_t i, n = 0;
	int rc, secret = 0;

	if ((rc = lc_plan_env(&kv, &n, &secret, s, op, v->env, err)) ||
	    (v->chdir && (rc = lc_plan_render_field(&chdir, s, op, "chdir", v->chdir, NULL, err))) ||
	    (v->user && (rc = lc_plan_render_field(&user, s, op, "user", v->user, NULL, err))))
		goto out;

	/* daemon: an environment file and a launcher for start-stop-daemon */
	lc_buf_addf(&env, "# written by labctl: the environment of service %s\n", v->name);
	for (i = 0; i < n; i++) {
		char *eq = strchr(kv[i], '=');

		lc_buf_addf(&env, "%.*s=", (int)(eq - kv[i]), kv[i]);
		lc_buf_add_shquote(&env, eq + 1);
		lc_buf_addc(&env, '\n');
	}
	lc_buf_addf(&run, "#!/bin/sh\n# written by labctl: how service %s starts\nset -a\n"
		    ". " LC_SERVICES_DIR "/%s.env\nset +a\n", v->name, v->name);
	if (chdir) {
		lc_buf_adds(&run, "cd ");
		lc_buf_add_shquote(&run, chdir);
		lc_buf_adds(&run, " || exit 1\n");
	}
	/* run is shell text - maybe several commands - so it is the body of
	 * the launcher, not exec'd; the launcher leads its own process group
	 * (start-stop-daemon --background), and a stop signals the group */
	lc_buf_addf(&run, "%s\n", v->run);
	/* systemd: a unit with Environment= lines that runs the role's text
	 * as a script, so any shell text works (several lines, quotes, $) */
	lc_buf_addf(&sh, "#!/bin/sh\n# written by labctl: how service %s starts (systemd runs "
		    "it: /etc/systemd/system/%s.service)\n%s\n", v->name, v->name, v->run);
	lc_buf_addf(&unit, "# written by labctl\n[Unit]\nDescription=%s (labctl)\n"
		    "After=network.target\n\n[Service]\nType=simple\n", v->name);
	for (i = 0; i < n; i++)
		systemd_env(&unit, kv[i]);
	if (chdir)
		lc_buf_addf(&unit, "WorkingDirectory=%s\n", chdir);
	if (user)
		lc_buf_addf(&unit, "User=%s\n", user);
	lc_buf_addf(&unit, "ExecStart=/bin/sh " LC_SERVICES_DIR "/%s.sh\n", v->name);
	if (v->stop_signal)
		lc_buf_addf(&unit, "KillSignal=SIG%s\n", v->stop_signal);
	lc_buf_adds(&unit, "Restart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n");

	service_file(p, op, lc_xasprintf(LC_SERVICES_DIR "/%s.env", v->name), &env,
		     secret ? 0600 : 0644, LC_BACKEND_DAEMON, secret);
	service_file(p, op, lc_xasprintf(LC_SERVICES_DIR "/%s.run", v->name), &run,
		     0755, LC_BACKEND_DAEMON, 0);
	service_file(p, op, lc_xasprintf(LC_SERVICES_DIR "/%s.sh", v->name), &sh,
		     0755, LC_BACKEND_SYSTEMD, 0);
	service_file(p, op, lc_xasprintf("/etc/systemd/system/%s.service", v->name), &unit,
		     secret ? 0640 : 0644, LC_BACKEND_SYSTEMD, secret);

	r = lc_plan_res_add(p, &lc_res_service, op, lc_xstrdup(v->name));
	r->run = v->run;
	r->stopped = v->stopped;
	r->stop_signal = v->stop_signal ? v->stop_signal : "TERM";
	r->user = v->user;
	r->watch = lc_xcalloc(4, sizeof(*r->watch));
	for (i = 0; i < 4; i++)
		r->watch[r->n_watch++] = p->n_res - 5 + i;
	if (v->restart_on) {
		r->restart_on = lc_xcalloc(v->restart_on->n_items + 1, sizeof(*r->restart_on));
		for (i = 0; i < v->restart_on->n_items; i++) {
			if ((rc = lc_plan_render_field(&r->restart_on[r->n_restart_on], s, op,
						       "restart_on", v->restart_on->items[i]->str,
						       NULL, err)))
				goto out;
			r->n_restart_on++;
		}
	}
out:
	for (i = 0; i < n; i++)
		free(kv[i]);
	free(kv);
	free(chdir);
	free(user);
	lc_buf_release(&env);
	lc_buf_release(&run);
	lc_buf_release(&unit);
	lc_buf_release(&sh);
	return rc;
}

const struct lc_op_type lc_op_service = {
	.name = "service",
	.keys = keys,
	.parse = parse,
	.plan = plan,
	.release = lc_op_free_data,
};

/* ---- the service resource --------------------------------------------- */

/* Whether the package resource o installs the package name. */
static int installs(const struct lc_res *o, const char *name)
{
	const char *s = o->path;
	size_t n = strlen(name), l;

	if (o->type != &lc_res_package)
		return 0;
	for (; *s; s += l + (s[l] == ' ')) {
		l = strcspn(s, " ");
		if (l >= n && !strncmp(s, name, n) && (l == n || s[n] == '='))
			return 1;
	}
	return 0;
}

/* restart_on names managed files or directories (a directory watches
 * everything below it), or packages a package op installs (a new version
 * restarts the service). */
static int resolve(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err)
{
	size_t j, k;

	for (j = 0; j < r->n_restart_on; j++) {
		const char *w = r->restart_on[j];
		size_t wl = strlen(w);
		int found = 0;

		for (k = 0; k < p->n_res; k++) {
			const struct lc_res *o = &p->res[k];

			if (w[0] != '/' ? !installs(o, w) :
			    !(o->type->flags & LC_RES_F_PATH) ||
			    strncmp(o->path, w, wl) || (o->path[wl] && o->path[wl] != '/'))
				continue;
			r->watch = lc_xrealloc(r->watch, (r->n_watch + 1) * sizeof(*r->watch));
			r->watch[r->n_watch++] = k;
			found = 1;
		}
		if (!found)
			return lc_node_error(err, LC_EPARSE, r->op->where,
					     "restart_on: %s is not managed on %s", w, p->host->name);
	}
	return 0;
}

static void facts(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r,
		  size_t idx)
{
	(void)p;
	lc_op_call(out, "lc_v", idx, r->path);
}

static int fact(struct lc_res *r, char what, const char *rest, struct lc_error *err)
{
	switch (what) {
	case 'V':
		r->fact.running = rest[0] == '1';
		r->fact.pid = r->fact.running ? strtol(rest + 1, NULL, 10) : 0;
		return 0;
	case 'P':
		r->fact.restart_pending = 1;
		return 0;
	}
	return lc_error_set(err, LC_EREMOTE, "unexpected output from the host for service %s",
			    r->path);
}

static int decide(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err)
{
	const struct lc_fact *f = &r->fact;
	size_t i;
	int watched = 0;

	(void)err;
	for (i = 0; i < r->n_watch; i++)
		if (p->res[r->watch[i]].status == LC_RES_CHANGED)
			watched = 1;
	if (r->stopped)
		r->action = f->running ? LC_SVC_STOP : LC_SVC_NONE;
	else if (!f->running)
		r->action = LC_SVC_START;
	else if (watched || f->restart_pending)
		r->action = LC_SVC_RESTART;
	r->need_meta = r->action != LC_SVC_NONE;
	return 0;
}

/* Whether the systemd unit of service r changes in this converge. */
static int unit_changed(const struct lc_host_plan *p, const struct lc_res *r)
{
	size_t i;

	for (i = 0; i < r->n_watch; i++) {
		const struct lc_res *w = &p->res[r->watch[i]];
		size_t n = strlen(w->path);

		if (w->backend == LC_BACKEND_SYSTEMD && w->status == LC_RES_CHANGED &&
		    n > 8 && !strcmp(w->path + n - 8, ".service"))
			return 1;
	}
	return 0;
}

static void apply(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r)
{
	/* names are [a-z0-9_-], signals [A-Z0-9]: safe as they are */
	switch (r->action) {
	case LC_SVC_STOP:
		lc_buf_addf(out, "lc_svc_stop %s %s || return 1\n  ", r->path, r->stop_signal);
		break;
	case LC_SVC_START:
		lc_buf_addf(out, "lc_svc_start %s", r->path);
		lc_op_arg(out, r->user);
		lc_buf_addf(out, " %d || return 1\n  ", unit_changed(p, r));
		break;
	case LC_SVC_RESTART:
		lc_buf_addf(out, "lc_svc_restart %s", r->path);
		lc_op_arg(out, r->user);
		lc_buf_addf(out, " %s %d || return 1\n  ", r->stop_signal, unit_changed(p, r));
		break;
	default:
		break;
	}
	lc_buf_addf(out, "lc_unpend %s", r->path);
}

/* the action itself is in the op's line */
static void describe(struct lc_buf *out, const struct lc_res *r)
{
	if (r->action == LC_SVC_RESTART && r->fact.restart_pending)
		lc_buf_adds(out, "a restart left pending by an earlier converge\n");
}

const struct lc_res_type lc_res_service = {
	.name = "service",
	.flags = LC_RES_F_LAST | LC_RES_F_PROCESS,
	/* set by lc_backend: systemctl journalctl, or start-stop-daemon tail kill */
	.tools = "$lc_svc_tools",
	.facts = facts,
	.fact = fact,
	.resolve = resolve,
	.decide = decide,
	.apply = apply,
	.describe = describe,
};
