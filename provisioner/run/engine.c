/* engine.c - converge hosts in parallel. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "op.h"
#include "rand.h"
#include "reach.h"
#include "script.h"

struct pool {
	struct lc_host_run *runs;
	size_t n, next;
	const struct lc_inventory *inv;
	const struct lc_engine_opts *opts;
	struct lc_upload_budget *uploads;  /* shared by every host's SFTP */
	struct lc_buf prelude, feed;       /* the same for every host's shell */
	pthread_mutex_t lock;
};

/* Decide every resource from the facts: files, dirs and commands in order,
 * then services (they watch the others).  Small files are sent inside the
 * apply batch (LC_INLINE_MAX), larger ones by SFTP.  A resource that cannot be decided
 * fails like an op and the ones after it are skipped, but for a symbolic
 * link labctl refuses to write through: that one fails alone. */
static int decide_all(struct lc_host_plan *p, const char *nonce, struct lc_error *err)
{
	size_t i, inline_bytes = 0;
	int pass, stop = 0, any = 0;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < p->n_res; i++) {
			struct lc_res *r = &p->res[i];
			struct lc_error rerr = LC_ERROR_INIT;

			if (((r->type->flags & LC_RES_F_LAST) != 0) != pass)
				continue;
			if (stop) {
				r->status = LC_RES_SKIPPED;
				continue;
			}
			if (!r->fact.known)
				return lc_error_set(err, LC_EREMOTE,
						    "the host did not report facts for %s", r->path);
			if (lc_res_decide(p, r, &rerr)) {
				r->status = LC_RES_FAILED;
				r->msg = lc_xstrdup(rerr.msg);
				/* a link refused is left as it is, and nothing
				 * after it depends on a change: the rest runs */
				stop = !r->fact.is_link;
				continue;
			}
			if (r->status == LC_RES_CHANGED)
				any = 1;
			if (r->status == LC_RES_CHANGED && r->need_content) {
				r->tmp_path = lc_script_tmp_path(r, i, nonce);
				if (r->len <= LC_INLINE_MAX &&
				    inline_bytes + r->len <= LC_INLINE_TOTAL) {
					inline_bytes += r->len;
					r->inline_put = 1;
				} else {
					r->up_path = lc_script_up_path(p, i, nonce);
				}
			}
		}
	}
	return any;
}

/* plan: fetch the host's content of the text files that would change, and
 * describe every change (a diff, or sizes and digests). */
static int describe(struct lc_transport *t, struct lc_host_plan *p, struct lc_error *err)
{
	struct lc_buf script = LC_BUF_INIT, out = LC_BUF_INIT;
	size_t i;
	int rc = 0, status;

	if (lc_script_contents(&script, p)) {
		if ((rc = t->ops->run(t, script.buf, script.len, &out, &status, err)))
			goto out;
		if ((rc = lc_script_parse_facts(p, out.buf, out.len, err)))
			goto out;
	}
	for (i = 0; i < p->n_res; i++)
		if (p->res[i].status == LC_RES_CHANGED)
			lc_res_describe(&p->res[i]);
out:
	lc_buf_release(&script);
	lc_buf_release(&out);
	return rc;
}

/* SFTP says only "failure" when a disk is full: ask the host how much
 * room the target's file system has, and say so when it is too little. */
static void explain_put_failure(struct lc_transport *t, const struct lc_res *r,
				struct lc_error *err)
{
	struct lc_buf script = LC_BUF_INIT, out = LC_BUF_INIT;
	struct lc_error ignored = LC_ERROR_INIT;
	const char *slash = strrchr(r->tmp_path, '/');
	char *dir = lc_xstrndup(r->tmp_path, (size_t)(slash - r->tmp_path));
	long avail;
	int status;

	lc_buf_adds(&script, "df -Pk -- ");
	lc_buf_add_shquote(&script, *dir ? dir : "/");
	lc_buf_adds(&script, " 2>/dev/null | awk 'NR == 2 { print $4 }'");
	if (!t->ops->run(t, script.buf, script.len, &out, &status, &ignored) && !status &&
	    (avail = strtol(out.buf, NULL, 10)) >= 0 && out.len && (size_t)avail * 1024 < r->len)
		lc_error_prefix(err, "no space left on the host for %s (%ld KiB free there, "
				"%zu KiB needed)", *dir ? dir : "/", avail, (r->len + 1023) / 1024);
	free(dir);
	lc_buf_release(&script);
	lc_buf_release(&out);
}

/* Facts, decisions, uploads, apply: everything after connecting.  The
 * host's part of uploads is given back as soon as it uploads no more. */
static int converge(struct lc_host_run *run, struct lc_transport *t,
		    const struct lc_engine_opts *opts, struct lc_upload_budget *uploads,
		    struct lc_error *err)
{
	struct lc_host_plan *p = &run->plan;
	struct lc_buf script = LC_BUF_INIT, out = LC_BUF_INIT;
	char nonce[17], *temps = NULL;
	size_t i;
	int rc, status;

	if (lc_rand_hex(nonce, 8))  /* uniqueness only; not a secret */
		snprintf(nonce, sizeof(nonce), "%08lx%08lx", (unsigned long)getpid(),
			 (unsigned long)lc_clock_ms() & 0xffffffffUL);
	if (opts->lock_holder) {  /* read-only runs (status) take no lock */
		lc_script_lock(&script, p->host->lock, opts->lock_timeout, opts->lock_holder,
			       nonce);
		p->converging = opts->apply;
	}
	lc_script_facts(&script, p);
	if ((rc = t->ops->run(t, script.buf, script.len, &out, &status, err)))
		goto out;
	if (status == LC_LOCK_EXIT) {
		const char *who = "another labctl", *l = strstr(out.buf, "L");
		size_t wl = strlen(who);

		if (l && !strncmp(l, "L! ", 3)) {
			rc = lc_error_set(err, LC_EREMOTE, "cannot take the host lock: %.*s",
					  (int)strcspn(l + 3, "\n"), l + 3);
			goto out;
		}
		if (l && !strncmp(l, "L ", 2) && l[2] && l[2] != '\n') {
			who = l + 2;
			wl = strcspn(who, "\n");
		}
		rc = lc_error_set(err, LC_ETIMEOUT, "locked by %.*s; gave up after %d s "
				  "(--lock-timeout)", (int)(wl > 300 ? 300 : wl), who, opts->lock_timeout);
		goto out;
	}
	if (status == LC_TOOLS_EXIT) {
		const char *m = strstr(out.buf, "\nM ");

		m = !strncmp(out.buf, "M ", 2) ? out.buf + 2 : m ? m + 3 : "?";
		rc = lc_error_set(err, LC_EREMOTE, "the host lacks commands labctl needs:%s%.*s "
				  "(install them; busybox alone is not enough)", *m == ' ' ? "" : " ",
				  (int)strcspn(m, "\n"), m);
		goto out;
	}
	if (status) {
		rc = lc_error_set(err, LC_EREMOTE, "reading facts failed (exit %d): %.200s",
				  status, out.buf);
		goto out;
	}
	if ((rc = lc_script_parse_facts(p, out.buf, out.len, err)))
		goto out;
	if (opts->changed_only) {
		char *behind = lc_plan_roles_behind(p);
		int same = behind && !*behind;

		free(behind);
		if (same) {
			p->skipped = 1;  /* inputs as deployed: not touched */
			goto out;
		}
	}
	if ((rc = decide_all(p, nonce, err)) < 0)
		goto out;
	rc = 0;
	if (!opts->apply) {
		if (opts->describe)
			rc = describe(t, p, err);
		goto out;
	}
	if (lc_script_nothing_to_write(p))
		goto out;  /* a no-op: the facts batch was the only round trip */
	/* The uploads' paths first, so the host's watchdog can remove them if
	 * labctl goes away before the apply batch renames them. */
	lc_buf_reset(&script);
	for (i = 0; i < p->n_res; i++)
		if (p->res[i].status == LC_RES_CHANGED && p->res[i].need_content &&
		    !p->res[i].inline_put)
			lc_buf_addf(&script, "%s\n", p->res[i].up_path ? p->res[i].up_path :
				    p->res[i].tmp_path);
	temps = lc_script_temps_path(p, nonce);
	if (script.len && (rc = t->ops->put(t, temps, script.buf, script.len, 0600, -1, err))) {
		/* nothing was changed: the apply batch does not run */
		for (i = 0; i < p->n_res; i++)
			if (p->res[i].status == LC_RES_CHANGED)
				p->res[i].status = LC_RES_SKIPPED;
		goto out;
	}
	for (i = 0; i < p->n_res; i++) {
		struct lc_res *r = &p->res[i];

		if (r->status != LC_RES_CHANGED || !r->need_content || r->inline_put)
			continue;
		int fd = r->file ? open(r->file, O_RDONLY | O_CLOEXEC) : -1;

		if (r->file && fd < 0)
			rc = lc_error_set(err, LC_EIO, "%s: %s", r->file, strerror(errno));
		else
			rc = t->ops->put(t, r->up_path ? r->up_path : r->tmp_path, r->data,
					 r->len, lc_script_upload_mode(r), fd, err);
		if (fd >= 0)
			close(fd);
		if (rc) {
			explain_put_failure(t, r, err);
			lc_error_prefix(err, "pushing %s", r->path);
			r->status = LC_RES_FAILED;
			r->msg = lc_xstrdup(err->msg);
			/* later ops must not run; earlier ones still apply below */
			for (i++; i < p->n_res; i++)
				if (p->res[i].status == LC_RES_CHANGED)
					p->res[i].status = LC_RES_SKIPPED;
			rc = 0;
			break;
		}
	}
	lc_upload_budget_done(uploads);
	uploads = NULL;
	/* Always one apply batch: it records the host's state even when
	 * nothing changed, so drift is measured from this converge. */
	lc_buf_reset(&script);
	lc_script_apply(&script, p, temps);
	if ((rc = t->ops->run(t, script.buf, script.len, &out, &status, err))) {
		/* no result came back: what the batch did is unknown, so nothing
		 * is claimed as changed; the next converge sees the truth */
		for (i = 0; i < p->n_res; i++)
			if (p->res[i].status == LC_RES_CHANGED)
				p->res[i].status = LC_RES_SKIPPED;
		goto out;
	}
	if (lc_script_parse_apply(p, out.buf, out.len, err) > 0) {
		/* an op failed: the batch left the state record to us, who know
		 * what did happen (one more round trip, on failure only) */
		struct lc_error serr = LC_ERROR_INIT;

		lc_buf_reset(&script);
		lc_script_state(&script, p);
		t->ops->run(t, script.buf, script.len, &out, &status, &serr);
	}
out:
	lc_upload_budget_done(uploads);
	free(temps);
	lc_buf_release(&script);
	lc_buf_release(&out);
	return rc;
}

/* A shell that died at once under become: say what sudo wants. */
static void become_hint(struct lc_error *err, const struct lc_host *h)
{
	if (!h->become.method || err->code != LC_EREMOTE)
		return;
	if (strstr(err->msg, "a password is required"))
		lc_error_prefix(err, "sudo on the host asks %s for a password: give it with "
				"become_password: { from_env: NAME } (unless %s may not use sudo "
				"there at all)", h->user, h->user);
	else if (strstr(err->msg, "incorrect password attempt"))
		lc_error_prefix(err, "sudo on the host refused %s's become_password", h->user);
	else if (strstr(err->msg, "not in the sudoers file") ||
		 strstr(err->msg, "is not allowed to execute"))
		lc_error_prefix(err, "%s may not use sudo on the host (sudoers)", h->user);
}

static void run_host(struct pool *pool, struct lc_host_run *run)
{
	const struct lc_host *h = run->plan.host;
	struct lc_ssh_opts o;
	struct lc_transport *t = NULL;
	struct lc_reach *r;
	struct lc_buf cmd = LC_BUF_INIT, pw = LC_BUF_INIT;
	double t0 = lc_clock_now();
	size_t i;
	int rc;

	for (r = run->reach; r; r = r->jump)
		r->opts.cancel = pool->opts->cancel;
	o = run->reach->opts;
	o.uploads = pool->uploads;
	lc_script_shell_command(&cmd, h->become.method, h->become.user,
				h->become.password != NULL);
	o.shell_command = cmd.buf;
	o.shell_prelude = pool->prelude.buf;
	o.feed_command = pool->feed.buf;
	o.first_batch_public = lc_script_facts_public(&run->plan);
	if (h->become.method && h->become.password) {
		lc_buf_addf(&pw, "%s\n__LC_SYNC__\n", h->become.password);
		o.stdin_first = pw.buf;
	}
	rc = lc_transport_ssh_open(&t, &o, &run->err);
	if (pw.buf)
		explicit_bzero(pw.buf, pw.len);
	lc_buf_release(&pw);
	lc_buf_release(&cmd);
	if (rc) {
		run->status = LC_HOST_UNREACHABLE;
		lc_upload_budget_done(pool->uploads);
	} else {
		rc = converge(run, t, pool->opts, pool->uploads, &run->err);
		if (rc)
			become_hint(&run->err, h);
		run->stats = t->stats;
		t->ops->close(t);
		run->status = rc ? LC_HOST_FAILED : LC_HOST_DONE;
	}
	for (i = 0; i < run->plan.n_res; i++) {
		switch (run->plan.res[i].status) {
		case LC_RES_OK: run->ok++; break;
		case LC_RES_CHANGED: run->changed++; break;
		case LC_RES_FAILED: run->failed++; break;
		default: break;
		}
		if (run->plan.res[i].status == LC_RES_CHANGED &&
		    run->plan.res[i].action == LC_SVC_RESTART)
			run->restarts++;
	}
	run->seconds = lc_clock_now() - t0;
}

static void *worker(void *arg)
{
	struct pool *pool = arg;

	for (;;) {
		struct lc_host_run *run;

		pthread_mutex_lock(&pool->lock);
		while (pool->next < pool->n && !pool->runs[pool->next].plan.host)
			pool->next++;
		if (pool->next >= pool->n) {
			pthread_mutex_unlock(&pool->lock);
			return NULL;
		}
		run = &pool->runs[pool->next++];
		pthread_mutex_unlock(&pool->lock);
		if (pool->opts->cancel && *pool->opts->cancel) {
			run->status = LC_HOST_FAILED;
			lc_error_set(&run->err, LC_ECANCELED, "interrupted before it started");
			lc_upload_budget_done(pool->uploads);
		} else {
			run_host(pool, run);
		}
		pthread_mutex_lock(&pool->lock);
		if (pool->opts->on_host_done)
			pool->opts->on_host_done(pool->opts->data, run);
		pthread_mutex_unlock(&pool->lock);
	}
}

int lc_engine_resolve(struct lc_host_run *runs, size_t n, const struct lc_inventory *inv,
		      int accept_new, struct lc_error *err)
{
	struct lc_ssh_config *cfg = NULL;
	size_t i;
	int rc;

	if ((rc = lc_reach_load_config(&cfg, inv, err)))
		return rc;
	for (i = 0; i < n && !rc; i++)
		if (runs[i].plan.host && !runs[i].reach)
			rc = lc_reach_resolve(&runs[i].reach, inv, runs[i].plan.host, cfg,
					      accept_new, err);
	lc_ssh_config_free(cfg);
	return rc;
}

void lc_engine_runs_release(struct lc_host_run *runs, size_t n)
{
	size_t i;

	for (i = 0; runs && i < n; i++) {
		lc_host_plan_release(&runs[i].plan);
		lc_reach_free(runs[i].reach);
		runs[i].reach = NULL;
	}
}

int lc_engine_run(struct lc_host_run *runs, size_t n, const struct lc_inventory *inv,
		  const struct lc_engine_opts *opts)
{
	struct pool pool;
	pthread_t *threads;
	size_t i, nt = opts->jobs > 0 ? (size_t)opts->jobs : n, started = 0, hosts = 0;
	int rc = 0;

	if (nt > n)
		nt = n ? n : 1;
	memset(&pool, 0, sizeof(pool));
	pool.runs = runs;
	pool.n = n;
	pool.inv = inv;
	pool.opts = opts;
	for (i = 0; i < n; i++)
		hosts += runs[i].plan.host != NULL;
	pool.uploads = lc_upload_budget_new(LC_UPLOAD_BUDGET, hosts, nt);
	lc_buf_init(&pool.prelude);
	lc_buf_init(&pool.feed);
	lc_script_shell_init(&pool.prelude);
	lc_script_feed_command(&pool.feed);
	pthread_mutex_init(&pool.lock, NULL);
	threads = lc_xcalloc(nt, sizeof(*threads));
	for (i = 0; i < nt; i++)
		if (pthread_create(&threads[i], NULL, worker, &pool) == 0)
			started++;
		else
			break;
	if (!started)
		worker(&pool);  /* no threads available: run here */
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_mutex_destroy(&pool.lock);
	lc_upload_budget_free(pool.uploads);
	lc_buf_release(&pool.prelude);
	lc_buf_release(&pool.feed);
	for (i = 0; i < n; i++)
		if (runs[i].plan.host && (runs[i].status != LC_HOST_DONE || runs[i].failed))
			rc = LC_ERR;
	return rc;
}
