/* script.c - facts and apply batches for the host shell. */
#include "script.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "codec.h"
#include "json.h"
#include "op.h"

/* provisioner/run/sh/, embedded at build time (cmake/embed.cmake) */
extern const char lc_sh_lib[];
extern const char lc_sh_start[];
extern const char lc_sh_priv[];
extern const char lc_sh_feed[];

static void q(struct lc_buf *b, const char *s)
{
	lc_buf_add_shquote(b, s);
}

/* " 'ARG'" ("" for NULL) */
static void arg(struct lc_buf *b, const char *s)
{
	lc_buf_addc(b, ' ');
	q(b, s ? s : "");
}

/* The paths of plan.h as shell variables. */
static void paths(struct lc_buf *out)
{
	lc_buf_adds(out,
		"LC_STATE_DIR=" LC_STATE_DIR " LC_STATE_FILE=" LC_STATE_FILE
		" LC_LOCK_FILE=" LC_LOCK_FILE "\n"
		"LC_RESTARTS_FILE=" LC_RESTARTS_FILE " LC_SUMS_FILE=" LC_SUMS_FILE
		" LC_CLOCK_FILE=" LC_CLOCK_FILE "\n"
		"LC_STAGE_DIR=" LC_STAGE_DIR " LC_TEMPS_FILE=" LC_TEMPS_FILE
		" LC_SERVICES_DIR=" LC_SERVICES_DIR "\n"
		"LC_AGENT_STATUS=" LC_AGENT_STATUS " LC_SKIP_MARK=" LC_SKIP_MARK
		" LC_STATE_NEW=" LC_STATE_NEW "\n");
	lc_buf_addf(out, "LC_LOCK_EXIT=%d LC_TOOLS_EXIT=%d\n", LC_LOCK_EXIT, LC_TOOLS_EXIT);
}

void lc_script_prelude(struct lc_buf *out)
{
	paths(out);
	lc_buf_adds(out, lc_sh_lib);
}

void lc_script_shell_init(struct lc_buf *out)
{
	paths(out);
	lc_buf_adds(out, lc_sh_priv);
	lc_buf_adds(out, lc_sh_lib);
}

void lc_script_shell_command(struct lc_buf *out, const char *become, const char *user,
			     int password)
{
	if (!become) {
		lc_buf_adds(out, "exec /bin/sh -s");
		return;
	}
	lc_buf_adds(out, "exec /bin/sh -c ");
	lc_buf_add_shquote(out, lc_sh_start);
	lc_buf_adds(out, " labctl ");
	lc_buf_add_shquote(out, user ? user : "root");
	lc_buf_adds(out, password ? " pw" : " ''");
}

void lc_script_feed_command(struct lc_buf *out)
{
	lc_buf_adds(out, "exec /bin/sh -c ");
	lc_buf_add_shquote(out, lc_sh_feed);
	lc_buf_adds(out, " labctl");
}

int lc_script_facts_public(const struct lc_host_plan *p)
{
	size_t i;

	for (i = 0; i < p->n_res; i++)
		if (p->res[i].type->facts_secret && p->res[i].type->facts_secret(&p->res[i]))
			return 0;
	return 1;
}

char *lc_script_temps_path(const struct lc_host_plan *p, const char *nonce)
{
	if (p->ustage)
		return lc_xasprintf("%s/temps.%s", p->ustage, nonce);
	return lc_xasprintf(LC_TEMPS_FILE ".%s", nonce);
}

void lc_script_lock(struct lc_buf *out, int lock, int timeout, const char *holder,
		    const char *nonce)
{
	lc_buf_addf(out, "if [ -n \"$LC_USTAGE\" ]; then lc_tf=\"$LC_USTAGE/temps.%s\"; "
		    "else lc_tf=\"$LC_TEMPS_FILE.%s\"; fi\n", nonce, nonce);
	if (!lock) {
		lc_buf_adds(out, "lc_watchdog \"$lc_tf\"\n");
		return;
	}
	lc_buf_addf(out, "lc_lock %d", timeout > 0 ? timeout : 0);
	arg(out, holder ? holder : "labctl");
	lc_buf_adds(out, " \"$lc_tf\"\n");
}

/* The digest cache's key of a path: 16 hex digits. */
static void sums_key(char out[17], const char *path)
{
	char sha[LC_SHA256_HEX];

	lc_sha256_hex(sha, path, strlen(path));
	memcpy(out, sha, 16);
	out[16] = '\0';
}

static int has(const struct lc_res *r, unsigned flag)
{
	return (r->type->flags & flag) != 0;
}

/* The commands the facts and apply batches call, by the resource types
 * the plan holds (lc_need names the missing ones); the service manager's
 * are known once lc_backend ran. */
static void need_tools(struct lc_buf *out, const struct lc_host_plan *p)
{
	struct lc_buf words = LC_BUF_INIT, w = LC_BUF_INIT;
	size_t i;

	lc_buf_adds(&words, " cat grep head base64 sha256sum ");
	for (i = 0; i < p->n_res; i++) {
		const char *t = p->res[i].type->tools;

		while (t && *t) {
			size_t n = strcspn(t, " ");

			lc_buf_reset(&w);
			lc_buf_addf(&w, " %.*s ", (int)n, t);
			if (n && !strstr(words.buf, w.buf))
				lc_buf_add(&words, w.buf + 1, w.len - 1);
			t += n + strspn(t + n, " ");
		}
	}
	lc_buf_setlen(&words, words.len - 1);
	lc_buf_addf(out, "lc_need%s\n", words.buf);
	lc_buf_release(&words);
	lc_buf_release(&w);
}

/* One stat over the paths that are not followed (links are reported as
 * such; the clock file first, in a converge), or over those followed
 * (stat -L: what the link points to), piped to lc_t. */
static void stat_paths(struct lc_buf *out, const struct lc_host_plan *p, int follow)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_res; i++)
		n += has(&p->res[i], LC_RES_F_PATH) && !p->res[i].follow == !follow;
	if (!n && (follow || !p->converging))
		return;
	lc_buf_addf(out, "stat%s -c '%%F|%%a|%%U|%%G|%%s|%%Z|%%d:%%i:%%s:%%.9Y:%%.9Z|%%n' --%s",
		    follow ? " -L" : "", p->converging && !follow ? " \"$LC_CLOCK_FILE\"" : "");
	for (i = 0; i < p->n_res; i++)
		if (has(&p->res[i], LC_RES_F_PATH) && !p->res[i].follow == !follow)
			arg(out, p->res[i].path);
	lc_buf_adds(out, " 2>/dev/null | lc_t");
	for (i = 0; i < p->n_res; i++) {
		char key[17];

		if (!has(&p->res[i], LC_RES_F_PATH) || !p->res[i].follow != !follow)
			continue;
		sums_key(key, p->res[i].path);
		lc_buf_addf(out, " %s", key);
		arg(out, p->res[i].path);
	}
	lc_buf_addc(out, '\n');
}

void lc_script_facts(struct lc_buf *out, const struct lc_host_plan *p)
{
	size_t i;
	int paths = 0;

	lc_buf_adds(out, "umask 022\n[ -z \"$LC_USTAGE\" ] || echo \"U $LC_USTAGE\"\n");
	/* which service manager the host runs */
	lc_buf_addf(out, "lc_backend %s\n", p->backend == LC_BACKEND_SYSTEMD ? "systemd" :
		    p->backend == LC_BACKEND_DAEMON ? "daemon" : "''");
	need_tools(out, p);
	if (p->want_agent_status)
		lc_buf_adds(out, "lc_agent\nlc_last\n");
	if (p->converging) {
		/* Temp files an interrupted converge left */
		lc_buf_adds(out, "set -- \"$LC_STAGE_DIR\"/* \"$LC_TEMPS_FILE\".*");
		for (i = 0; i < p->n_res; i++) {
			const struct lc_res *r = &p->res[i];
			const char *slash;
			char *dir;

			if (!has(r, LC_RES_F_CONTENT))
				continue;
			slash = strrchr(r->path, '/');
			dir = lc_xstrndup(r->path, (size_t)(slash - r->path));
			lc_buf_addc(out, ' ');
			if (*dir)
				q(out, dir);
			lc_buf_adds(out, "/.labctl.");
			q(out, slash + 1);
			lc_buf_adds(out, ".*");
			free(dir);
		}
		lc_buf_adds(out, "\n[ -z \"$LC_USTAGE\" ] || set -- \"$@\" \"$LC_USTAGE\"/*\n"
			    "lc_clean \"$@\"\n");
	}
	lc_buf_adds(out, "lc_state\n");
	for (i = 0; i < p->n_res; i++)
		paths += has(&p->res[i], LC_RES_F_PATH);
	if (paths) {
		lc_buf_adds(out, "lc_sums\n");
		/* only a converge writes the clock file: plan and status write nothing */
		if (p->converging)
			lc_buf_adds(out, "echo 2>/dev/null > \"$LC_CLOCK_FILE\"\n");
		for (i = 0; i < p->n_res; i++) {
			const char *path = p->res[i].path, *slash = strrchr(path, '/');
			char *dir;

			if (!has(&p->res[i], LC_RES_F_PATH))
				continue;
			dir = lc_xasprintf("%.*s/", (int)(slash - path), path);
			lc_buf_addf(out, "lc_missing %zu", i);
			arg(out, path);
			arg(out, dir);
			if (p->res[i].follow)
				lc_buf_adds(out, " 1");
			lc_buf_addc(out, '\n');
			free(dir);
		}
		stat_paths(out, p, 0);
		stat_paths(out, p, 1);
	}
	for (i = 0; i < p->n_res; i++)
		if (p->res[i].type->facts)
			p->res[i].type->facts(out, p, &p->res[i], i);
}

/* Split "a b c" into at most max words (in place). */
static size_t words(char *s, char **w, size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		w[n++] = s;
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

static int parse_mode(const char *s)
{
	char *end;
	long m = strtol(s, &end, 8);

	return (*end || m < 0 || m > 07777) ? -1 : (int)m;
}

/* The next '|'-separated field of *s (the rest when it is the last). */
static char *field(char **s, int last)
{
	char *f = *s, *bar;

	if (!f)
		return NULL;
	if (last) {
		*s = NULL;
		return f;
	}
	bar = strchr(f, '|');
	if (!bar) {
		*s = NULL;
		return NULL;
	}
	*bar = '\0';
	*s = bar + 1;
	return f;
}

static int set_owner_fact(struct lc_fact *f, const char *mode, const char *owner,
			  const char *group)
{
	if (!mode || !owner || !group || (f->mode = parse_mode(mode)) < 0)
		return -1;
	f->exists = 1;
	free(f->owner);
	free(f->group);
	f->owner = lc_xstrdup(owner);
	f->group = lc_xstrdup(group);
	return 0;
}

/* "T|...|PATH" lines of the stat pass: PATH is the rest of the line. */
static int parse_stat_line(struct lc_host_plan *p, char *line, struct lc_error *err)
{
	char *s = line + 2, *v[8], *path, *e, *whole;
	size_t i, k, n = line[0] == 'D' ? 3 : line[0] == 'F' ? 7 : 0;
	int found = 0, rc = 0;

	if (line[0] == 'N') {
		p->host_now = strtoll(s, &e, 10);
		return *e || p->host_now <= 0 ?
		       lc_error_set(err, LC_EREMOTE, "unexpected output from the host: '%.80s'",
				    line) : 0;
	}
	whole = lc_xstrdup(line);
	for (k = 0; k < n; k++)
		if (!(v[k] = field(&s, 0)))
			break;
	if (k < n) {
		lc_error_set(err, LC_EREMOTE, "unexpected output from the host: '%.80s'", whole);
		free(whole);
		return LC_EREMOTE;
	}
	path = field(&s, 1);
	for (i = 0; i < p->n_res; i++) {
		struct lc_res *r = &p->res[i];
		struct lc_fact *f = &r->fact;

		if (!has(r, LC_RES_F_PATH) || strcmp(r->path, path))
			continue;
		found = 1;
		f->known = 1;
		if (line[0] == 'L') {  /* refused when decided: this resource only */
			f->exists = f->is_link = 1;
			continue;
		}
		if (line[0] == 'E')
			rc = lc_error_set(err, LC_EREMOTE, "%s cannot be read on the host", path);
		else if (line[0] == 'X' || line[0] != r->type->stat)
			rc = lc_error_set(err, LC_EREMOTE, "%s exists on the host but is not a %s",
					  path, r->type->stat == 'D' ? "directory" :
					  "regular file");
		else if (set_owner_fact(f, v[0], v[1], v[2]))
			rc = lc_error_set(err, LC_EREMOTE, "unexpected facts for %s", path);
		else if (line[0] == 'F' &&
			 (strlen(v[4]) != 64 || strspn(v[4], "0123456789abcdef") != 64))
			rc = lc_error_set(err, LC_EREMOTE, "bad digest for %s", path);
		if (rc)
			break;
		if (line[0] != 'F')
			continue;
		f->size = strtol(v[3], NULL, 10);
		memcpy(f->sha, v[4], LC_SHA256_HEX);
		free(f->sig);
		f->sig = lc_xstrdup(v[5]);
		f->sum_cached = v[6][0] == 'c';
		f->sum_ok = (v[6][0] == 'c' || v[6][0] == '1') && !v[6][1] &&
			    strspn(v[5], "0123456789:.") == strlen(v[5]);
	}
	if (!found)
		rc = lc_error_set(err, LC_EREMOTE, "unexpected output from the host: '%.80s'",
				  whole);
	free(whole);
	return rc;
}

int lc_script_parse_facts(struct lc_host_plan *p, const char *out, size_t len,
			  struct lc_error *err)
{
	const char *s = out, *end = out + len;
	struct lc_buf st = LC_BUF_INIT;
	int rc = 0, has_state = 0;

	while (s < end && !rc) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		char *line, *w[6], *e, *rest;
		size_t n, idx, linelen;
		struct lc_res *r;

		if (!nl)
			nl = end;
		linelen = (size_t)(nl - s);
		line = lc_xstrndup(s, linelen);
		s = nl + 1;
		if (!*line) {
			free(line);
			continue;
		}
		if (!strncmp(line, "B ", 2)) {
			p->backend = !strcmp(line + 2, "systemd") ? LC_BACKEND_SYSTEMD :
				     LC_BACKEND_DAEMON;
			free(line);
			continue;
		}
		if (!strncmp(line, "U ", 2) && line[2] == '/') {
			free(p->ustage);
			p->ustage = lc_xstrdup(line + 2);
			free(line);
			continue;
		}
		if (line[0] == 'M' && (!line[1] || line[1] == ' ')) {
			free(p->missing_tools);
			p->missing_tools = lc_xstrdup(line[1] ? line + 2 : "");
			free(line);
			continue;
		}
		if (!strncmp(line, "A ", 2) || !strncmp(line, "D ", 2)) {
			p->agent_datadog = line[0] == 'D';
			lc_buf_reset(&p->agent_status);
			if (lc_base64_decode(&p->agent_status, line + 2, linelen - 2))
				lc_buf_reset(&p->agent_status);
			free(line);
			continue;
		}
		if (!strncmp(line, "K ", 2)) {
			p->last_facts = strtoll(line + 2, NULL, 10);
			free(line);
			continue;
		}
		if (!strncmp(line, "S ", 2)) {
			lc_buf_add(&st, line + 2, linelen - 2);
			lc_buf_addc(&st, '\n');
			has_state = 1;
			free(line);
			continue;
		}
		if (strchr("NDFXEL", line[0]) && line[1] == '|') {
			rc = parse_stat_line(p, line, err);
			free(line);
			continue;
		}
		n = words(line, w, 2);
		if (n < 2) {
			rc = lc_error_set(err, LC_EREMOTE, "unexpected output from the host: '%.80s'",
					  line);
			free(line);
			break;
		}
		rest = (n == 2 && w[1] + strlen(w[1]) < line + linelen) ? w[1] + strlen(w[1]) + 1 : "";
		idx = strtoul(w[0], &e, 10);
		if (n < 2 || *e || idx >= p->n_res) {
			rc = lc_error_set(err, LC_EREMOTE, "unexpected output from the host: '%.80s'",
					  w[0]);
			free(line);
			break;
		}
		r = &p->res[idx];
		r->fact.known = 1;
		if (w[1][0] == '-' && !w[1][1]) {
			r->fact.exists = 0;
			r->fact.no_parent = !strcmp(rest, "noparent");
		} else if (!w[1][1] && r->type->fact) {
			rc = r->type->fact(r, w[1][0], rest, err);
		} else {
			rc = lc_error_set(err, LC_EREMOTE, "unexpected output from the host: '%.80s'",
					  w[1]);
		}
		free(line);
	}
	if (!rc && has_state && lc_plan_read_state(p, st.buf, st.len, err))
		rc = lc_error_prefix(err, "the host's state record " LC_STATE_FILE
				     " is unreadable (remove it to start afresh)");
	lc_buf_release(&st);
	return rc;
}

int lc_script_contents(struct lc_buf *out, const struct lc_host_plan *p)
{
	size_t i;
	int n = 0;

	for (i = 0; i < p->n_res; i++) {
		const struct lc_res *r = &p->res[i];

		if (r->status == LC_RES_CHANGED && r->type->diff_facts)
			n += r->type->diff_facts(out, r, i);
	}
	return n;
}

char *lc_script_tmp_path(const struct lc_res *r, size_t idx, const char *nonce)
{
	const char *slash = strrchr(r->path, '/');

	/* A new file in a directory that does not exist yet is staged in
	 * labctl's own directory: creating its directory early would get in
	 * the way of ops that run before it (e.g. initdb wants it empty). */
	if (r->fact.no_parent)
		return lc_xasprintf(LC_STAGE_DIR "/%s.%zu", nonce, idx);
	return lc_xasprintf("%.*s/.labctl.%s.%s", (int)(slash - r->path), r->path, slash + 1, nonce);
}

char *lc_script_up_path(const struct lc_host_plan *p, size_t idx, const char *nonce)
{
	return p->ustage ? lc_xasprintf("%s/%s.%zu", p->ustage, nonce, idx) : NULL;
}

/* A new file with no owner to set, uploaded to its temp path, is pushed
 * with its mode.  Anything else is pushed 0600 and given its mode and owner
 * before the rename, so that its content is never readable by more than its
 * final owner. */
unsigned lc_script_upload_mode(const struct lc_res *r)
{
	return !r->up_path && !r->fact.exists && !r->owner && !r->group && r->mode >= 0 ?
	       (unsigned)r->mode : 0600;
}

/* The host's clock as the facts batch read it, else ours: ISO 8601 UTC. */
static void converged_at(char out[LC_CLOCK_ISO], const struct lc_host_plan *p)
{
	lc_clock_utc_iso(out, p->host_now > 0 ? (time_t)p->host_now : time(NULL));
}

/* The digest cache: the files whose digest the facts batch took (or found
 * in the cache) long enough after their last change.  A file this converge
 * writes is left out: its signature changes, and the next facts batch
 * reads it again. */
static void sums_write(struct lc_buf *out, const struct lc_host_plan *p)
{
	struct lc_buf line = LC_BUF_INIT;
	char key[17];
	size_t i;

	lc_buf_adds(out, "printf '%s\\n' 'labctl-sums 1'");
	for (i = 0; i < p->n_res; i++) {
		const struct lc_res *r = &p->res[i];

		if (!has(r, LC_RES_F_CONTENT) || !r->fact.sum_ok || !r->fact.sig ||
		    r->status == LC_RES_CHANGED || r->status == LC_RES_NA)
			continue;
		sums_key(key, r->path);
		lc_buf_reset(&line);
		lc_buf_addf(&line, "%s %s %s %s", key, r->fact.sig, r->fact.sha, r->path);
		lc_buf_adds(out, " \\\n  ");
		q(out, line.buf);
	}
	lc_buf_adds(out, " > \"$LC_STATE_NEW/sums\"\n");
	lc_buf_release(&line);
}

/* Whether every resource of role i that was to change did. */
static int role_done(const struct lc_host_plan *p, size_t i)
{
	size_t j;

	for (j = 0; j < p->n_res; j++)
		if (!strcmp(p->res[j].op->role, p->roles[i]) &&
		    (p->res[j].status == LC_RES_FAILED || p->res[j].status == LC_RES_SKIPPED))
			return 0;
	return 1;
}

/* The state record as JSON (jansson): the roles, the deployed commit and
 * version, each role's input digest (kept from the last record for a role
 * whose changes did not all happen), and the digest of every managed file
 * as it is on the host after this converge, supposing each resource still
 * CHANGED did change. */
static struct lc_node *state_tree(const struct lc_host_plan *p, const char *when)
{
	const struct lc_node *old = lc_node_get(p->state.root, "inputs");
	struct lc_node *o = lc_json_object(), *roles, *inputs, *files;
	size_t i;

	lc_json_set(o, "labctl", lc_json_str(LABCTL_VERSION));
	lc_json_set(o, "converged_at", lc_json_str(when));
	roles = lc_json_set(o, "roles", lc_json_array());
	for (i = 0; i < p->n_roles; i++)
		lc_json_push(roles, lc_json_str(p->roles[i]));
	lc_json_set(o, "commit", lc_json_str(p->commit));
	lc_json_set(o, "version", lc_json_str(p->version));
	lc_json_set(o, "dirty", lc_json_bool(p->dirty));
	inputs = lc_json_set(o, "inputs", lc_json_object());
	for (i = 0; i < p->n_roles && p->role_digest; i++) {
		const struct lc_node *was = lc_node_get(old, p->roles[i]);

		if (role_done(p, i))
			lc_json_set(inputs, p->roles[i], lc_json_str(p->role_digest[i]));
		else if (was && was->kind == LC_NODE_SCALAR)
			lc_json_set(inputs, p->roles[i], lc_json_str(was->str));
	}
	files = lc_json_set(o, "files", lc_json_object());
	for (i = 0; i < p->n_res; i++) {
		const struct lc_res *r = &p->res[i];

		if (!has(r, LC_RES_F_CONTENT) || r->status == LC_RES_NA)
			continue;
		if (r->status == LC_RES_CHANGED)
			lc_json_set(files, r->path, lc_json_str(r->sha));
		else if (r->fact.exists && !r->fact.is_link)
			lc_json_set(files, r->path, lc_json_str(r->fact.sha));
	}
	return o;
}

static void state_json(struct lc_buf *out, const struct lc_host_plan *p)
{
	char when[LC_CLOCK_ISO];
	struct lc_node *o;

	converged_at(when, p);
	o = state_tree(p, when);
	lc_json_write(out, o, 1);
	lc_node_free(o);
}

int lc_script_nothing_to_write(const struct lc_host_plan *p)
{
	const struct lc_node *when = lc_node_get(p->state.root, "converged_at");
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT;
	struct lc_node *o;
	size_t i;
	int same;

	if (!when || when->kind != LC_NODE_SCALAR)
		return 0;
	for (i = 0; i < p->n_res; i++) {
		const struct lc_res *r = &p->res[i];

		if (r->status != LC_RES_OK && r->status != LC_RES_NA)
			return 0;
		/* a digest taken now, to remember: the cache changes */
		if (has(r, LC_RES_F_CONTENT) && r->fact.sum_ok && !r->fact.sum_cached)
			return 0;
	}
	o = state_tree(p, when->str);
	lc_json_write(&a, o, -1);
	lc_json_write(&b, p->state.root, -1);
	same = a.len == b.len && !memcmp(a.buf, b.buf, a.len);
	lc_node_free(o);
	lc_buf_release(&a);
	lc_buf_release(&b);
	return same;
}

/* Write the state record (in LC_STATE_NEW, renamed into place), then mv
 * `also` (a file of LC_STATE_NEW renamed with it, or "") too. */
static void state_write(struct lc_buf *out, const struct lc_host_plan *p, const char *also)
{
	struct lc_buf js = LC_BUF_INIT;

	state_json(&js, p);
	lc_buf_adds(out, "printf '%s\n' ");
	q(out, js.buf);
	lc_buf_addf(out, " > \"$LC_STATE_NEW/state.json\" && mv -f %s\"$LC_STATE_NEW/state.json\" "
		    "\"$LC_STATE_DIR/\"", also);
	lc_buf_release(&js);
}

void lc_script_state(struct lc_buf *out, const struct lc_host_plan *p)
{
	lc_buf_adds(out, "[ -d \"$LC_STATE_NEW\" ] || mkdir -p \"$LC_STATE_NEW\"\n");
	state_write(out, p, "");
	lc_buf_addc(out, '\n');
}

void lc_script_apply(struct lc_buf *out, const struct lc_host_plan *p, const char *temps)
{
	size_t i;
	int pass;

	lc_buf_addf(out, "umask 022\nlc_failed=0\nlc_backend %s >/dev/null\n"
		    "[ -d \"$LC_STATE_DIR\" ] || mkdir -p \"$LC_STATE_DIR\"\n",
		    p->backend == LC_BACKEND_SYSTEMD ? "systemd" : "daemon");
	/* This converge's temp files, for its watchdog: the ones this batch
	 * writes are added before it writes them. */
	if (temps) {
		lc_buf_adds(out, "lc_tf=");
		q(out, temps);
		lc_buf_addc(out, '\n');
		for (i = 0, pass = 0; i < p->n_res; i++) {
			const struct lc_res *r = &p->res[i];

			if (r->status == LC_RES_CHANGED && r->need_content && r->inline_put) {
				lc_buf_adds(out, pass++ ? " \\\n  " : "printf '%s\\n'");
				arg(out, r->tmp_path);
			}
		}
		if (pass)
			lc_buf_adds(out, " >> \"$lc_tf\"\n");
	}
	/* Restarts this converge owes are recorded before anything changes, so
	 * a run that dies half-way leaves them for the next converge. */
	for (i = 0; i < p->n_res; i++)
		if (p->res[i].status == LC_RES_CHANGED && p->res[i].action == LC_SVC_RESTART)
			lc_buf_addf(out, "lc_pend %s\n", p->res[i].path);
	/* Ops in order; services last, once, at the end of the host's converge. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < p->n_res; i++) {
			const struct lc_res *r = &p->res[i];

			if (r->status != LC_RES_CHANGED || has(r, LC_RES_F_LAST) != pass)
				continue;
			lc_buf_addf(out, "lc_op_%zu() {\n  ", i);
			r->type->apply(out, p, r);
			lc_buf_addf(out, "\n}\nlc_run %zu\n", i);
		}
	}
	/* uploads of ops that did not run (an earlier op failed) */
	for (i = 0, pass = 0; i < p->n_res; i++) {
		const struct lc_res *r = &p->res[i];

		if (r->status == LC_RES_CHANGED && r->need_content && r->tmp_path) {
			lc_buf_adds(out, pass++ ? " \\\n  " : "[ $lc_failed = 0 ] || rm -f --");
			arg(out, r->tmp_path);
			if (r->up_path)
				arg(out, r->up_path);
		}
	}
	if (pass)
		lc_buf_addc(out, '\n');
	/* The digest cache, and the state record when every op succeeded (it
	 * says so: otherwise labctl writes it with what happened,
	 * lc_script_state); renamed into place by one mv. */
	lc_buf_adds(out, "[ -d \"$LC_STATE_NEW\" ] || mkdir -p \"$LC_STATE_NEW\"\n");
	sums_write(out, p);
	lc_buf_adds(out, "if [ $lc_failed = 0 ]; then ");
	state_write(out, p, "\"$LC_STATE_NEW/sums\" ");
	lc_buf_adds(out, "\nelse mv -f \"$LC_STATE_NEW/sums\" \"$LC_STATE_DIR/\"\nfi\n");
	if (temps) {  /* a test is cheaper than a process */
		lc_buf_adds(out, "[ ! -e ");
		q(out, temps);
		lc_buf_adds(out, " ] || rm -f --");
		arg(out, temps);
		lc_buf_addc(out, '\n');
	}
	lc_buf_adds(out, "[ $lc_failed = 0 ]\n");
}

int lc_script_parse_apply(struct lc_host_plan *p, const char *out, size_t len,
			  struct lc_error *err)
{
	const char *s = out, *end = out + len;
	unsigned char *seen = lc_xcalloc(p->n_res + 1, 1);
	size_t i;
	int failed = 0;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		char *line, *w[4], *e;
		size_t n, idx;
		struct lc_res *r;
		long rc;

		if (!nl)
			nl = end;
		line = lc_xstrndup(s, (size_t)(nl - s));
		s = nl + 1;
		n = words(line, w, 4);
		idx = n >= 3 ? strtoul(w[0], &e, 10) : p->n_res;
		if (n < 3 || *e || idx >= p->n_res || strcmp(w[1], "R")) {
			free(line);
			continue;
		}
		r = &p->res[idx];
		seen[idx] = 1;
		rc = strtol(w[2], &e, 10);
		free(r->msg);
		r->msg = NULL;
		if (n == 4) {
			struct lc_buf o = LC_BUF_INIT;

			if (!lc_base64_decode(&o, w[3], strlen(w[3]))) {
				while (o.len && o.buf[o.len - 1] == '\n')
					lc_buf_setlen(&o, o.len - 1);
				r->msg = lc_buf_detach(&o, NULL);
			}
			lc_buf_release(&o);
		}
		if (rc) {
			r->status = LC_RES_FAILED;
			failed++;
		} else if (r->msg && !strcmp(r->msg, LC_SKIP_MARK)) {
			r->status = LC_RES_OK;
		}
		free(line);
	}
	for (i = 0; i < p->n_res; i++) {
		if (p->res[i].status == LC_RES_CHANGED && !seen[i])
			p->res[i].status = LC_RES_SKIPPED;
		if (p->res[i].status == LC_RES_OK && p->res[i].msg) {
			free(p->res[i].msg);
			p->res[i].msg = NULL;
		}
	}
	free(seen);
	(void)err;
	return failed;
}
