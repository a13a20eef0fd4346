/* plan_service.c - a service op as resources: its definition files for
 * both service managers and the service resource that watches them. */
#include "plan_int.h"

#include <stdlib.h>
#include <string.h>

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

static void add_service_file(struct lc_host_plan *p, const struct lc_op *op, char *path,
			     struct lc_buf *content, int mode, int backend, int secret)
{
	struct lc_res *r = lc_plan_res_add(p, LC_RES_FILE, op, path);

	r->has_content = 1;
	r->own = *content;
	lc_buf_init(content);
	r->data = r->own.buf;
	r->len = r->own.len;
	lc_sha256_hex(r->sha, r->data, r->len);
	r->mode = mode;
	r->backend = backend;
	r->secret = secret;
}

/* A service is its definition files (for both managers; the one the host
 * does not run drops out after the facts) and a service resource that
 * starts, restarts or stops it at the end of the host's converge. */
int lc_plan_add_service(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		       struct lc_error *err)
{
	struct lc_buf env = LC_BUF_INIT, run = LC_BUF_INIT, unit = LC_BUF_INIT;
	struct lc_buf sh = LC_BUF_INIT;
	char **kv = NULL, *chdir = NULL, *user = NULL;
	struct lc_res *r;
	size_t i, n = 0;
	int rc = 0, secret = 0;

	if (op->env)
		kv = lc_xcalloc(op->env->n_pairs + 1, sizeof(*kv));
	for (i = 0; op->env && i < op->env->n_pairs; i++) {
		char *v;
		int sv = 0;

		if ((rc = lc_plan_render_field(&v, s, op, "env", op->env->pairs[i].value->str, &sv, err)))
			goto out;
		secret |= sv;
		kv[n++] = lc_xasprintf("%s=%s", op->env->pairs[i].key->str, v);
		free(v);
	}
	if ((op->chdir && (rc = lc_plan_render_field(&chdir, s, op, "chdir", op->chdir, NULL, err))) ||
	    (op->user && (rc = lc_plan_render_field(&user, s, op, "user", op->user, NULL, err))))
		goto out;

	/* daemon: an environment file and a launcher for start-stop-daemon */
	lc_buf_addf(&env, "# written by labctl: the environment of service %s\n", op->name);
	for (i = 0; i < n; i++) {
		char *eq = strchr(kv[i], '=');

		lc_buf_addf(&env, "%.*s=", (int)(eq - kv[i]), kv[i]);
		lc_buf_add_shquote(&env, eq + 1);
		lc_buf_addc(&env, '\n');
	}
	lc_buf_addf(&run, "#!/bin/sh\n# written by labctl: how service %s starts\nset -a\n"
		    ". " LC_SERVICES_DIR "/%s.env\nset +a\n", op->name, op->name);
	if (chdir) {
		lc_buf_adds(&run, "cd ");
		lc_buf_add_shquote(&run, chdir);
		lc_buf_adds(&run, " || exit 1\n");
	}
	/* run is shell text - maybe several commands - so it is the body of
	 * the launcher, not exec'd; the launcher leads its own process group
	 * (start-stop-daemon --background), and a stop signals the group */
	lc_buf_addf(&run, "%s\n", op->run);
	/* systemd: a unit with Environment= lines that runs the role's text
	 * as a script, so any shell text works (several lines, quotes, $) */
	lc_buf_addf(&sh, "#!/bin/sh\n# written by labctl: how service %s starts (systemd runs "
		    "it: /etc/systemd/system/%s.service)\n%s\n", op->name, op->name, op->run);
	lc_buf_addf(&unit, "# written by labctl\n[Unit]\nDescription=%s (labctl)\n"
		    "After=network.target\n\n[Service]\nType=simple\n", op->name);
	for (i = 0; i < n; i++)
		systemd_env(&unit, kv[i]);
	if (chdir)
		lc_buf_addf(&unit, "WorkingDirectory=%s\n", chdir);
	if (user)
		lc_buf_addf(&unit, "User=%s\n", user);
	lc_buf_addf(&unit, "ExecStart=/bin/sh " LC_SERVICES_DIR "/%s.sh\n", op->name);
	if (op->stop_signal)
		lc_buf_addf(&unit, "KillSignal=SIG%s\n", op->stop_signal);
	lc_buf_adds(&unit, "Restart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n");

	add_service_file(p, op, lc_xasprintf(LC_SERVICES_DIR "/%s.env", op->name), &env,
			 secret ? 0600 : 0644, LC_BACKEND_DAEMON, secret);
	add_service_file(p, op, lc_xasprintf(LC_SERVICES_DIR "/%s.run", op->name), &run,
			 0755, LC_BACKEND_DAEMON, 0);
	add_service_file(p, op, lc_xasprintf(LC_SERVICES_DIR "/%s.sh", op->name), &sh,
			 0755, LC_BACKEND_SYSTEMD, 0);
	add_service_file(p, op, lc_xasprintf("/etc/systemd/system/%s.service", op->name), &unit,
			 secret ? 0640 : 0644, LC_BACKEND_SYSTEMD, secret);

	r = lc_plan_res_add(p, LC_RES_SERVICE, op, lc_xstrdup(op->name));
	r->run = op->run;
	r->stopped = op->stopped;
	r->stop_signal = op->stop_signal ? op->stop_signal : "TERM";
	r->user = op->user;
	r->watch = lc_xcalloc(4, sizeof(*r->watch));
	for (i = 0; i < 4; i++)
		r->watch[r->n_watch++] = p->n_res - 5 + i;
	if (op->restart_on) {
		r->restart_on = lc_xcalloc(op->restart_on->n_items + 1, sizeof(*r->restart_on));
		for (i = 0; i < op->restart_on->n_items; i++) {
			if ((rc = lc_plan_render_field(&r->restart_on[r->n_restart_on], s, op, "restart_on",
					       op->restart_on->items[i]->str, NULL, err)))
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

/* restart_on paths name managed files or directories (a directory watches
 * everything below it). */
int lc_plan_resolve_watches(struct lc_host_plan *p, struct lc_error *err)
{
	size_t i, j, k;

	for (i = 0; i < p->n_res; i++) {
		struct lc_res *r = &p->res[i];

		if (r->kind != LC_RES_SERVICE)
			continue;
		for (j = 0; j < r->n_restart_on; j++) {
			const char *w = r->restart_on[j];
			size_t wl = strlen(w);
			int found = 0;

			for (k = 0; k < p->n_res; k++) {
				const struct lc_res *o = &p->res[k];

				if (o->kind == LC_RES_COMMAND || o->kind == LC_RES_SERVICE)
					continue;
				if (strncmp(o->path, w, wl) || (o->path[wl] && o->path[wl] != '/'))
					continue;
				r->watch = lc_xrealloc(r->watch, (r->n_watch + 1) * sizeof(*r->watch));
				r->watch[r->n_watch++] = k;
				found = 1;
			}
			if (!found)
				return lc_node_error(err, LC_EPARSE, r->op->where,
						     "restart_on: %s is not managed on %s", w,
						     p->host->name);
		}
	}
	return 0;
}

