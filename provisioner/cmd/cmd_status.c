/* cmd_status.c - `labctl status [TARGET...]`: per host, what runs there as
 * the host and its agent see it (APM included: per service, requests/s,
 * error rate and p95 of the last minute, from the agent's status).  Read-only: one facts batch per host (no
 * lock), the agent's status file, the health checks. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"
#include "op.h"
#include "session.h"

static const char *scalar(const struct lc_node *map, const char *key)
{
	const struct lc_node *v = lc_node_get(map, key);

	return v && v->kind == LC_NODE_SCALAR ? v->str : NULL;
}

static void join_list(struct lc_buf *b, const struct lc_node *list)
{
	size_t i;

	for (i = 0; list && list->kind == LC_NODE_SEQ && i < list->n_items; i++)
		if (list->items[i]->kind == LC_NODE_SCALAR)
			lc_buf_addf(b, "%s%s", i ? "," : "", list->items[i]->str);
}

/* "name=value" of the first few values a check last reported. */
static void check_values(struct lc_buf *b, const struct lc_node *vals, size_t max)
{
	size_t i;

	for (i = 0; vals && vals->kind == LC_NODE_MAP && i < vals->n_pairs && i < max; i++)
		if (vals->pairs[i].value->kind == LC_NODE_SCALAR)
			lc_buf_addf(b, "%s%s=%s", i ? " " : "", vals->pairs[i].key->str,
				    vals->pairs[i].value->str);
	if (vals && vals->kind == LC_NODE_MAP && vals->n_pairs > max)
		lc_buf_addf(b, " (+%zu more)", vals->n_pairs - max);
}

/* The APM lines: the receiver, then per service what its agent derived
 * from the last minute of traces. */
static void apm_lines(struct lc_buf *b, const struct lc_node *apm)
{
	const struct lc_node *svcs = lc_node_get(apm, "services"), *refused;
	size_t i;

	if (!apm || apm->kind != LC_NODE_MAP)
		return;
	refused = lc_node_get(apm, "refused");
	lc_buf_addf(b, "    apm: receiver %s; %s traces, %s refused\n",
		    scalar(apm, "receiver") ? scalar(apm, "receiver") : "?",
		    scalar(apm, "traces") ? scalar(apm, "traces") : "0",
		    scalar(refused, "total") ? scalar(refused, "total") : "0");
	for (i = 0; svcs && svcs->kind == LC_NODE_MAP && i < svcs->n_pairs; i++) {
		const struct lc_node *v = svcs->pairs[i].value;
		const char *rps = scalar(v, "requests_per_s"), *er = scalar(v, "error_rate"),
			   *p95 = scalar(v, "p95_ms");

		lc_buf_addf(b, "    apm %s: %.2f req/s, %.1f%% errors, p95 %.1f ms (last minute)\n",
			    svcs->pairs[i].key->str, rps ? atof(rps) : 0, er ? 100 * atof(er) : 0,
			    p95 ? atof(p95) : 0);
	}
}

/* {"SERVICE": {"requests_per_s", "error_rate", "p95_ms"}} from the agent's
 * apm part (NULL: the agent receives no traces). */
static struct lc_node *apm_json(const struct lc_node *apm)
{
	const struct lc_node *svcs = lc_node_get(apm, "services");
	struct lc_node *o;
	size_t i;

	if (!svcs || svcs->kind != LC_NODE_MAP)
		return lc_json_null();
	o = lc_json_object();
	for (i = 0; i < svcs->n_pairs; i++) {
		const struct lc_node *v = svcs->pairs[i].value;
		struct lc_node *s = lc_json_set(o, svcs->pairs[i].key->str, lc_json_object());
		static const char *const keys[] = { "requests_per_s", "error_rate", "p95_ms", NULL };
		size_t k;

		for (k = 0; keys[k]; k++) {
			const char *x = scalar(v, keys[k]);

			lc_json_set(s, keys[k], x ? lc_json_real(atof(x)) : lc_json_null());
		}
	}
	return o;
}

/* The last converge: the state record's time, or later, that of a
 * converge that found nothing to change (it leaves the record alone but
 * writes the clock file); NULL: never. */
static const char *last_converge(char buf[LC_CLOCK_ISO], const struct lc_host_plan *p)
{
	const char *t = scalar(p->state.root, "converged_at");

	if (p->last_facts > 0) {
		lc_clock_utc_iso(buf, (time_t)p->last_facts);
		if (!t || strcmp(buf, t) > 0)
			return buf;
	}
	return t;
}

/* "deployed 1a2b3c4-dirty (repo HEAD 5d6e7f8); behind: demo_api" */
static void deployed(struct lc_buf *b, const struct lc_host_plan *p, const char *head)
{
	const char *v = scalar(p->state.root, "version");
	char *behind = lc_plan_roles_behind(p);

	lc_buf_addf(b, "    deployed: %s (repo HEAD %.7s); ", v ? v : "unknown",
		    head && *head ? head : "none");
	if (!behind)
		lc_buf_adds(b, "never converged\n");
	else if (!*behind)
		lc_buf_adds(b, "every role as deployed\n");
	else
		lc_buf_addf(b, "roles whose inputs differ from what is deployed: %s\n", behind);
	free(behind);
}

/* The Datadog Agent's `status --json`: its version and pid, and per check
 * (runnerStats.Checks.NAME.INSTANCE) its runs and last error. */
static void datadog_lines(struct lc_buf *b, const struct lc_node *st)
{
	const struct lc_node *checks = lc_node_get(lc_node_get(st, "runnerStats"), "Checks");
	size_t i, j;

	lc_buf_addf(b, "    agent: Datadog Agent %s, pid %s (datadog-agent status)\n",
		    scalar(st, "version") ? scalar(st, "version") : "?",
		    scalar(st, "pid") ? scalar(st, "pid") : "?");
	for (i = 0; checks && checks->kind == LC_NODE_MAP && i < checks->n_pairs; i++) {
		const struct lc_node *insts = checks->pairs[i].value;

		for (j = 0; insts && insts->kind == LC_NODE_MAP && j < insts->n_pairs; j++) {
			const struct lc_node *c = insts->pairs[j].value;
			const char *e = scalar(c, "LastError");

			lc_buf_addf(b, "    check %s: %s runs, ", checks->pairs[i].key->str,
				    scalar(c, "TotalRuns") ? scalar(c, "TotalRuns") : "?");
			if (e && *e)
				lc_buf_addf(b, "error: %.200s\n", e);
			else
				lc_buf_addf(b, "%s metric samples last run\n",
					    scalar(c, "MetricSamples") ? scalar(c, "MetricSamples") : "?");
		}
	}
}

static void human(struct lc_buf *b, const struct lc_host_run *run, const char *head)
{
	const struct lc_host_plan *p = &run->plan;
	struct lc_doc agent = LC_DOC_INIT;
	const struct lc_node *cfg, *checks;
	char when[LC_CLOCK_ISO];
	const char *last;
	size_t i;

	if (run->status == LC_HOST_UNREACHABLE || run->status == LC_HOST_FAILED) {
		lc_buf_addf(b, "%-18s %s: %s\n", p->host->name,
			    run->status == LC_HOST_UNREACHABLE ? "unreachable" : "failed", run->err.msg);
		return;
	}
	last = last_converge(when, p);
	lc_buf_addf(b, "%-18s reachable, last converge %s\n", p->host->name,
		    last ? last : "never");
	deployed(b, p, head);
	if (!p->agent_status.len ||
	    lc_json_parse(&agent, LC_AGENT_STATUS, p->agent_status.buf, p->agent_status.len,
			  NULL, NULL) || !agent.root) {
		lc_buf_adds(b, p->agent_datadog ? "    agent: datadog-agent status gave no JSON\n" :
			    "    agent: no status file (" LC_AGENT_STATUS ")\n");
	} else if (p->agent_datadog) {
		datadog_lines(b, agent.root);
	} else {
		cfg = lc_node_get(agent.root, "config");
		lc_buf_addf(b, "    agent: pid %s, running since %s\n",
			    scalar(agent.root, "pid") ? scalar(agent.root, "pid") : "?",
			    scalar(agent.root, "running_since") ? scalar(agent.root, "running_since") : "?");
		lc_buf_addf(b, "    agent sees: hostname=%s env=%s tags=",
			    scalar(cfg, "hostname") ? scalar(cfg, "hostname") : "?",
			    scalar(cfg, "env") ? scalar(cfg, "env") : "?");
		join_list(b, lc_node_get(cfg, "tags"));
		lc_buf_addc(b, '\n');
		checks = lc_node_get(agent.root, "checks");
		for (i = 0; checks && checks->kind == LC_NODE_MAP && i < checks->n_pairs; i++) {
			const struct lc_node *c = checks->pairs[i].value;
			const char *e = scalar(c, "error");

			lc_buf_addf(b, "    check %s: ", checks->pairs[i].key->str);
			if (e && strcmp(e, "null") && *e)
				lc_buf_addf(b, "error: %s", e);
			else
				check_values(b, lc_node_get(c, "last_value"), 3);
			lc_buf_addf(b, " (last run %s)\n",
				    scalar(c, "last_run") ? scalar(c, "last_run") : "never");
		}
		apm_lines(b, lc_node_get(agent.root, "apm"));
	}
	for (i = 0; i < p->n_res; i++) {
		const struct lc_res *r = &p->res[i];

		if (!(r->type->flags & LC_RES_F_PROCESS))
			continue;
		if (r->fact.running)
			lc_buf_addf(b, "    service %s: running (pid %ld)\n", r->path, r->fact.pid);
		else
			lc_buf_addf(b, "    service %s: %s\n", r->path,
				    r->stopped ? "stopped (as wanted)" : "NOT running");
	}
	for (i = 0; i < p->n_health; i++)
		lc_buf_addf(b, "    health %s: %s\n", p->health[i].url,
			    p->health[i].ok ? "ok" : p->health[i].error ? p->health[i].error : "failed");
	lc_doc_release(&agent);
}

static struct lc_node *state_str(const struct lc_host_plan *p, const char *key)
{
	return lc_json_str(scalar(p->state.root, key));
}

static void json(struct lc_buf *b, const struct lc_host_run *run, const char *head)
{
	const struct lc_host_plan *p = &run->plan;
	struct lc_doc agent = LC_DOC_INIT;
	struct lc_node *o = lc_json_object(), *d, *list, *svcs, *health;
	const char *dirty = scalar(p->state.root, "dirty");
	char *behind, when[LC_CLOCK_ISO];
	size_t i;

	lc_json_set(o, "event", lc_json_str("status"));
	lc_json_set(o, "host", lc_json_str(p->host->name));
	lc_json_set(o, "reachable", lc_json_bool(run->status == LC_HOST_DONE));
	if (run->status != LC_HOST_DONE) {
		lc_json_set(o, "error", lc_json_str(run->err.msg));
		lc_json_line(b, o);
		return;
	}
	d = lc_json_set(o, "deployed", lc_json_object());
	lc_json_set(d, "commit", state_str(p, "commit"));
	lc_json_set(d, "version", state_str(p, "version"));
	lc_json_set(d, "dirty", lc_json_bool(dirty && !strcmp(dirty, "true")));
	lc_json_set(d, "repo_head", lc_json_str(head ? head : ""));
	list = lc_json_set(d, "roles_behind", lc_json_array());
	behind = lc_plan_roles_behind(p);
	for (i = 0; behind && behind[i];) {
		size_t l = strcspn(behind + i, " ");

		lc_json_push(list, lc_json_strn(behind + i, l));
		i += l + (behind[i + l] == ' ');
	}
	free(behind);
	lc_json_set(o, "last_converge", lc_json_str(last_converge(when, p)));
	/* the agent's own status, when it parses */
	if (p->agent_status.len &&
	    !lc_json_parse(&agent, LC_AGENT_STATUS, p->agent_status.buf, p->agent_status.len,
			   NULL, NULL) && agent.root) {
		lc_json_set(o, "agent_flavor", lc_json_str(p->agent_datadog ? "datadog" : "lab"));
		lc_json_set(o, "agent", lc_node_dup(agent.root));
		/* per service, the last minute of traces */
		lc_json_set(o, "apm", apm_json(lc_node_get(agent.root, "apm")));
	} else {
		lc_json_set(o, "agent", lc_json_null());
		lc_json_set(o, "apm", lc_json_null());
	}
	lc_doc_release(&agent);
	svcs = lc_json_set(o, "services", lc_json_object());
	for (i = 0; i < p->n_res; i++) {
		const struct lc_res *r = &p->res[i];
		struct lc_node *v;

		if (!(r->type->flags & LC_RES_F_PROCESS))
			continue;
		v = lc_json_set(svcs, r->path, lc_json_object());
		lc_json_set(v, "running", lc_json_bool(r->fact.running));
		lc_json_set(v, "pid", lc_json_int(r->fact.pid));
		lc_json_set(v, "wanted", lc_json_str(r->stopped ? "stopped" : "running"));
	}
	health = lc_json_set(o, "health", lc_json_array());
	for (i = 0; i < p->n_health; i++) {
		struct lc_node *h = lc_json_push(health, lc_json_object());

		lc_json_set(h, "url", lc_json_str(p->health[i].url));
		lc_json_set(h, "ok", lc_json_bool(p->health[i].ok));
		lc_json_set(h, "status", lc_json_int(p->health[i].got_status));
	}
	lc_json_line(b, o);
}

static int exec_status(struct lc_cmd_ctx *ctx)
{
	struct lc_session s;
	struct lc_buf b = LC_BUF_INIT;
	size_t i;
	int status;

	if ((status = lc_session_open(&s, ctx, "status")))
		return status;
	for (i = 0; i < s.inv.n_hosts; i++)
		s.runs[i].plan.want_agent_status = 1;
	status = lc_session_run(&s, ctx, 0, 0, NULL) ? LC_EXIT_FAILED : LC_EXIT_OK;
	if (lc_session_health(&s, 0))
		status = LC_EXIT_FAILED;
	for (i = 0; i < s.inv.n_hosts; i++) {
		char *m;

		if (!s.runs[i].plan.host)
			continue;
		lc_buf_reset(&b);
		if (ctx->json)
			json(&b, &s.runs[i], s.repo.head);
		else
			human(&b, &s.runs[i], s.repo.head);
		m = lc_report_mask(&s.rep, b.buf);
		fputs(m, ctx->out);
		free(m);
		for (size_t j = 0; j < s.runs[i].plan.n_res; j++)
			if ((s.runs[i].plan.res[j].type->flags & LC_RES_F_PROCESS) &&
			    !s.runs[i].plan.res[j].stopped && !s.runs[i].plan.res[j].fact.running)
				status = LC_EXIT_FAILED;
	}
	lc_buf_release(&b);
	lc_session_close(&s);
	return status;
}

const struct lc_cmd lc_cmd_status = {
	.name = "status",
	.usage = "status [TARGET...]",
	.summary = "show what runs on each host: agent, checks, services, health",
	.help =
		"For each selected host: whether it is reachable and when it was last\n"
		"converged; the monitoring agent's pid and start time, the hostname, tags\n"
		"and env it sees, each check's last values or error; every service and\n"
		"whether it runs; the health checks. Reads only: takes no lock, changes\n"
		"nothing. Exit status 0 when every host is reachable, every service that\n"
		"should run runs and every health check passes; 1 otherwise.\n",
	.flags = LC_FLAG_JOBS | LC_FLAG_VERBOSE | LC_FLAG_JSON | LC_FLAG_ACCEPT_NEW_HOSTKEYS,
	.exec = exec_status,
};
