/* script.c - facts and apply batches for the host shell. */
#include "script.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"

static void q(struct lc_buf *b, const char *s)
{
	lc_buf_add_shquote(b, s);
}

char *lc_script_temps_path(const char *nonce)
{
	return lc_xasprintf(LC_TEMPS_FILE ".%s", nonce);
}

void lc_script_lock(struct lc_buf *out, int timeout, const char *holder, const char *nonce)
{
	char *temps = lc_script_temps_path(nonce);

	lc_buf_addf(out,
		"if command -v flock >/dev/null 2>&1 && { true >&9; } 2>/dev/null; then\n"
		"  if ! flock -n 9 && ! flock -w %d 9; then\n"
		"    printf 'L %%s\\n' \"$(head -c 300 " LC_LOCK_FILE ".holder 2>/dev/null)\"; exit %d\n"
		"  fi\n"
		"  printf '%%s\\n' ", timeout > 0 ? timeout : 0, LC_LOCK_EXIT);
	q(out, holder ? holder : "labctl");
	lc_buf_adds(out, " > " LC_LOCK_FILE ".holder\nfi\n");
	/* A watchdog for this connection: when sshd's session process is gone
	 * (labctl was interrupted or killed, the network dropped), remove this
	 * converge's uploads and end everything the batch still runs, which
	 * also releases the lock.  Its own list of uploads only: a watchdog
	 * wakes up to 0.2 s after its labctl left, when the next converge
	 * may have pushed files already. $$ is the long-lived shell, the leader of
	 * its process group; $PPID is sshd.  GNU tail waits for it in one
	 * process; elsewhere a loop of sleeps does. */
	lc_buf_adds(out,
		"( trap '' TERM HUP INT\n"
		"  tail -s 0.2 --pid=\"$PPID\" -f /dev/null 2>/dev/null ||\n"
		"    while kill -0 \"$PPID\" 2>/dev/null; do sleep 0.2; done\n"
		"  kill -s TERM -- \"-$$\" 2>/dev/null\n");
	lc_buf_addf(out,
		"  if [ -f %s ]; then\n"
		"    while IFS= read -r lc_t; do rm -f -- \"$lc_t\"; done < %s\n"
		"    rm -f %s\n"
		"  fi\n"
		") </dev/null >/dev/null 2>&1 9>&- &\n", temps, temps, temps);
	free(temps);
}

/* The facts of every file and directory come from one `stat` and, for a
 * file whose signature (dev:ino:size:mtime:ctime) is not in the host's
 * digest cache, one `sha256sum`: a converge that changes nothing reads no
 * file and starts one process for all of them.  The cache, LC_SUMS_FILE,
 * has a line "KEY SIG SHA PATH" a file, KEY the first 16 hex digits of the
 * SHA-256 of PATH (a shell variable name part: lc_s_KEY="SIG SHA").
 * stat prints "TYPE|MODE|OWNER|GROUP|SIZE|CTIME|SIG|NAME" in argument
 * order, leaving out what does not exist; lc_t's arguments are "KEY PATH"
 * pairs in the same order.  In a converge the first line is LC_CLOCK_FILE,
 * just written: its CTIME is the host's clock.  A file changed at least 2 s before that
 * may be remembered: any later change gives it a later ctime, whatever the
 * timestamp granularity.  Output:
 *   "D|MODE|OWNER|GROUP|PATH", "X|PATH" (wrong type), "E|PATH" (unreadable),
 *   "F|MODE|OWNER|GROUP|SIZE|SHA|SIG|c|PATH" (c: from the cache, 1: may be
 *   remembered, 0: changed too recently), "N|SECONDS" (the host's clock). */
static const char facts_stat[] =
	"if [ -f " LC_SUMS_FILE " ]; then\n"
	"  while read -r lc_k lc_g lc_h lc_l; do\n"
	"    case ${#lc_k}$lc_k in 16*[!0-9a-f]*) continue;; 16*) ;; *) continue;; esac\n"
	"    eval \"lc_s_$lc_k=\\\"\\$lc_g \\$lc_h\\\"\"\n"
	"  done < " LC_SUMS_FILE "\n"
	"fi\n"
	"lc_t() {\n"
	"  lc_w=\n"
	"  while IFS= read -r lc_l; do\n"
	"    lc_ty=${lc_l%%|*}; lc_l=${lc_l#*|}; lc_mo=${lc_l%%|*}; lc_l=${lc_l#*|}\n"
	"    lc_us=${lc_l%%|*}; lc_l=${lc_l#*|}; lc_gr=${lc_l%%|*}; lc_l=${lc_l#*|}\n"
	"    lc_sz=${lc_l%%|*}; lc_l=${lc_l#*|}; lc_cs=${lc_l%%|*}; lc_l=${lc_l#*|}\n"
	"    lc_sig=${lc_l%%|*}; lc_n=${lc_l#*|}\n"
	"    if [ \"$lc_n\" = " LC_CLOCK_FILE " ] && [ -z \"$lc_w\" ]; then\n"
	"      lc_w=$lc_cs; echo \"N|$lc_w\"; continue\n"
	"    fi\n"
	"    while [ $# -ge 2 ] && [ \"$2\" != \"$lc_n\" ]; do shift 2; done\n"
	"    case $lc_ty in\n"
	"    directory) echo \"D|$lc_mo|$lc_us|$lc_gr|$lc_n\";;\n"
	"    'regular file'|'regular empty file')\n"
	"      lc_h=\n"
	"      [ $# -ge 2 ] && eval \"lc_h=\\${lc_s_$1-}\"\n"
	"      if [ -n \"$lc_h\" ] && [ \"${lc_h% *}\" = \"$lc_sig\" ]; then lc_h=${lc_h#* }; lc_e=c\n"
	"      else\n"
	"        lc_e=0\n"
	"        [ -n \"$lc_w\" ] && [ \"$lc_cs\" -le $((lc_w - 2)) ] && lc_e=1\n"
	"        lc_h=$(sha256sum < \"$lc_n\") || { echo \"E|$lc_n\"; continue; }\n"
	"        lc_h=${lc_h%% *}\n"
	"      fi\n"
	"      echo \"F|$lc_mo|$lc_us|$lc_gr|$lc_sz|$lc_h|$lc_sig|$lc_e|$lc_n\";;\n"
	"    *) echo \"X|$lc_n\";;\n"
	"    esac\n"
	"  done\n"
	"}\n";

/* The digest cache's key of a path: 16 hex digits. */
static void sums_key(char out[17], const char *path)
{
	char sha[LC_SHA256_HEX];

	lc_sha256_hex(sha, path, strlen(path));
	memcpy(out, sha, 16);
	out[16] = '\0';
}

/* "I -" (or "I - noparent") for a file or directory that does not exist. */
static void facts_missing(struct lc_buf *out, size_t i, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = lc_xasprintf("%.*s/", (int)(slash - path), path);

	lc_buf_adds(out, "[ -e ");
	q(out, path);
	lc_buf_adds(out, " ] || [ -L ");
	q(out, path);
	lc_buf_adds(out, " ] || ");
	lc_buf_addf(out, "if [ -d ");
	q(out, dir);
	lc_buf_addf(out, " ]; then echo '%zu -'; else echo '%zu - noparent'; fi\n", i, i);
	free(dir);
}

void lc_script_facts(struct lc_buf *out, const struct lc_host_plan *p)
{
	size_t i, j;
	int paths = 0;

	lc_buf_adds(out,
		"umask 022\n"
		"lc_v() {\n"
		"  if [ \"$lc_backend\" = systemd ]; then\n"
		"    if systemctl is-active --quiet \"$2\"; then echo \"$1 V 1 $(systemctl show -p MainPID --value \"$2\")\"; else echo \"$1 V 0\"; fi\n"
		"  elif [ -f \"/run/lab/$2.pid\" ] && read -r lc_p < \"/run/lab/$2.pid\" && kill -0 \"$lc_p\" 2>/dev/null; then echo \"$1 V 1 $lc_p\"\n"
		"  else echo \"$1 V 0\"; fi\n"
		"  if [ -s " LC_RESTARTS_FILE " ] && grep -qxF -- \"$2\" " LC_RESTARTS_FILE "; then echo \"$1 P\"; fi\n"
		"}\n");
	/* which service manager the host runs, and its state record */
	if (p->backend == LC_BACKEND_SYSTEMD)
		lc_buf_adds(out, "lc_backend=systemd\n");
	else if (p->backend == LC_BACKEND_DAEMON)
		lc_buf_adds(out, "lc_backend=daemon\n");
	else
		lc_buf_adds(out, "if [ -d /run/systemd/system ]; then lc_backend=systemd; "
			    "else lc_backend=daemon; fi\n");
	if (p->want_agent_status)
		lc_buf_adds(out, "if [ -f " LC_AGENT_STATUS " ]; then printf 'A '; base64 -w0 < "
			    LC_AGENT_STATUS "; echo; fi\n");
	if (p->converging) {
		/* Temp files an interrupted converge left (we hold the lock: no
		 * other labctl is pushing): one rm for all of them, and only
		 * when there are any. */
		lc_buf_adds(out, "set -- " LC_STAGE_DIR "/* " LC_TEMPS_FILE ".*");
		for (i = 0; i < p->n_res; i++) {
			const struct lc_res *r = &p->res[i];
			const char *slash;
			char *dir;

			if (r->kind != LC_RES_FILE)
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
		lc_buf_adds(out, "\nfor lc_l; do if [ -e \"$lc_l\" ] || [ -L \"$lc_l\" ]; then "
			    "rm -f -- \"$@\" 2>/dev/null; break; fi; done\n");
	}
	/* The state record is our own JSON: read line by line by the shell. */
	lc_buf_adds(out, "echo \"B $lc_backend\"\n"
		    "if [ -f " LC_STATE_FILE " ]; then\n"
		    "  while IFS= read -r lc_l || [ -n \"$lc_l\" ]; do printf 'S %s\\n' \"$lc_l\"; "
		    "done < " LC_STATE_FILE "\n"
		    "fi\n");
	for (i = 0; i < p->n_res; i++)
		if (p->res[i].kind == LC_RES_FILE || p->res[i].kind == LC_RES_DIR)
			paths++;
	if (paths) {
		lc_buf_adds(out, facts_stat);
		/* only a converge writes the cache: plan and status write nothing */
		if (p->converging)
			lc_buf_adds(out, "echo 2>/dev/null > " LC_CLOCK_FILE "\n");
		for (i = 0; i < p->n_res; i++)
			if (p->res[i].kind == LC_RES_FILE || p->res[i].kind == LC_RES_DIR)
				facts_missing(out, i, p->res[i].path);
		lc_buf_addf(out, "stat -c '%%F|%%a|%%U|%%G|%%s|%%Z|%%d:%%i:%%s:%%.9Y:%%.9Z|%%n' --%s",
			    p->converging ? " " LC_CLOCK_FILE : "");
		for (i = 0; i < p->n_res; i++) {
			if (p->res[i].kind != LC_RES_FILE && p->res[i].kind != LC_RES_DIR)
				continue;
			lc_buf_addc(out, ' ');
			q(out, p->res[i].path);
		}
		lc_buf_adds(out, " 2>/dev/null | lc_t");
		for (i = 0; i < p->n_res; i++) {
			char key[17];

			if (p->res[i].kind != LC_RES_FILE && p->res[i].kind != LC_RES_DIR)
				continue;
			sums_key(key, p->res[i].path);
			lc_buf_addf(out, " %s ", key);
			q(out, p->res[i].path);
		}
		lc_buf_addc(out, '\n');
	}
	for (i = 0; i < p->n_res; i++) {
		const struct lc_res *r = &p->res[i];

		switch (r->kind) {
		case LC_RES_PACKAGE:
			/* names were checked at load: [a-z0-9+.-] only */
			lc_buf_addf(out, "lc_i=\"\n$(dpkg-query -W -f='${Package} ${Status}\\n' %s "
				    "2>/dev/null)\n\"; lc_m=; for lc_n in %s; do case $lc_i in "
				    "*\"\n$lc_n install ok installed\n\"*) ;; *) lc_m=\"$lc_m $lc_n\";; "
				    "esac; done; echo \"%zu K$lc_m\"\n", r->path, r->path, i);
			break;
		case LC_RES_SERVICE:
			lc_buf_addf(out, "lc_v %zu ", i);
			q(out, r->path);
			lc_buf_addc(out, '\n');
			break;
		case LC_RES_DIR:
			break;
		case LC_RES_FILE:
			if (r->has_content)
				break;
			/* edits only: the host's content is their input */
			lc_buf_adds(out, "if [ -f ");
			q(out, r->path);
			lc_buf_adds(out, " ] && [ ! -L ");
			q(out, r->path);
			lc_buf_addf(out, " ]; then printf '%%s C ' %zu; base64 -w0 < ", i);
			q(out, r->path);
			lc_buf_adds(out, "; echo; fi\n");
			break;
		case LC_RES_COMMAND:
			lc_buf_adds(out, "if ");
			if (r->creates) {
				lc_buf_adds(out, "[ ! -e ");
				q(out, r->creates);
				lc_buf_adds(out, " ]");
			}
			if (r->creates && r->unless)
				lc_buf_adds(out, " && ");
			if (r->unless) {
				lc_buf_adds(out, "! ( ");
				if (r->chdir) {
					lc_buf_adds(out, "cd ");
					q(out, r->chdir);
					lc_buf_adds(out, " && ");
				}
				lc_buf_adds(out, "exec env");
				for (j = 0; j < r->n_env; j++) {
					lc_buf_addc(out, ' ');
					q(out, r->env[j]);
				}
				lc_buf_adds(out, " sh -c ");
				q(out, r->unless);
				lc_buf_adds(out, " ) </dev/null >/dev/null 2>&1");
			}
			lc_buf_addf(out, "; then echo '%zu G 1'; else echo '%zu G 0'; fi\n", i, i);
			break;
		}
	}
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

		if ((r->kind != LC_RES_FILE && r->kind != LC_RES_DIR) || strcmp(r->path, path))
			continue;
		found = 1;
		f->known = 1;
		if (line[0] == 'E')
			rc = lc_error_set(err, LC_EREMOTE, "%s cannot be read on the host", path);
		else if (line[0] == 'X' || (line[0] == 'D') != (r->kind == LC_RES_DIR))
			rc = lc_error_set(err, LC_EREMOTE, "%s exists on the host but is not a %s",
					  path, r->kind == LC_RES_DIR ? "directory" :
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
		if (!strncmp(line, "A ", 2)) {
			lc_buf_reset(&p->agent_status);
			if (lc_base64_decode(&p->agent_status, line + 2, linelen - 2))
				lc_buf_reset(&p->agent_status);
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
		if (strchr("NDFXE", line[0]) && line[1] == '|') {
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
		switch (w[1][0]) {
		case '-':
			r->fact.exists = 0;
			r->fact.no_parent = !strcmp(rest, "noparent");
			break;
		case 'C':
			lc_buf_reset(&r->fact.content);
			if (lc_base64_decode(&r->fact.content, rest, strlen(rest)))
				rc = lc_error_set(err, LC_EREMOTE, "bad content for %s", r->path);
			break;
		case 'G':
			r->fact.guard_run = rest[0] == '1';
			break;
		case 'K':
			free(r->fact.missing);
			r->fact.missing = lc_xstrdup(rest);
			break;
		case 'V':
			r->fact.running = rest[0] == '1';
			r->fact.pid = r->fact.running ? strtol(rest + 1, NULL, 10) : 0;
			break;
		case 'P':
			r->fact.restart_pending = 1;
			break;
		default:
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

		if (r->kind != LC_RES_FILE || r->status != LC_RES_CHANGED || !r->need_content ||
		    !r->fact.exists || !r->has_content || r->fact.content.len ||
		    r->fact.size > LC_DIFF_MAX_BYTES)
			continue;
		lc_buf_addf(out, "printf '%%s C ' %zu; base64 -w0 < ", i);
		q(out, r->path);
		lc_buf_adds(out, "; echo\n");
		n++;
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

static void add_owner(struct lc_buf *b, const struct lc_res *r, const char *target)
{
	if (!r->owner && !r->group)
		return;
	lc_buf_adds(b, r->owner ? " && chown " : " && chgrp ");
	if (r->owner)
		q(b, r->owner);
	if (r->owner && r->group)
		lc_buf_addc(b, ':');  /* 'u':'g' is one shell word */
	if (r->group)
		q(b, r->group);
	lc_buf_adds(b, " -- ");
	q(b, target);
}

static void svc_start(struct lc_buf *b, const struct lc_host_plan *p, const struct lc_res *r)
{
	const char *n = r->path;  /* names are [a-z0-9_-]: safe as they are */

	if (p->backend == LC_BACKEND_SYSTEMD) {
		lc_buf_addf(b, "systemctl daemon-reload && systemctl enable --now %s || return 1\n  ", n);
		return;
	}
	lc_buf_addf(b, "mkdir -p /run/lab /var/log/lab && start-stop-daemon --start --quiet "
		    "--background --make-pidfile --pidfile /run/lab/%s.pid ", n);
	if (r->user) {
		lc_buf_adds(b, "--chuid ");
		q(b, r->user);
		lc_buf_addc(b, ' ');
	}
	lc_buf_addf(b, "--output /var/log/lab/%s.log --startas /bin/sh -- " LC_SERVICES_DIR
		    "/%s.run || return 1\n  "
		    "sleep 0.3\n  "
		    "kill -0 \"$(cat /run/lab/%s.pid)\" 2>/dev/null || { echo 'service %s exited at "
		    "once; the end of /var/log/lab/%s.log:'; tail -n 20 /var/log/lab/%s.log; "
		    "return 1; }\n  ", n, n, n, n, n, n);
}

static void svc_stop(struct lc_buf *b, const struct lc_host_plan *p, const struct lc_res *r)
{
	if (p->backend == LC_BACKEND_SYSTEMD)
		lc_buf_addf(b, "systemctl stop %s || return 1\n  ", r->path);
	else
		/* start-stop-daemon --background put the service in a session of
		 * its own: signal its whole process group (never our own) */
		lc_buf_addf(b, "if lc_p=$(cat /run/lab/%s.pid 2>/dev/null) && kill -0 \"$lc_p\" 2>/dev/null; then\n  "
			    "  lc_g=$(ps -o pgid= -p \"$lc_p\" | tr -d ' ')\n  "
			    "  [ -n \"$lc_g\" ] && [ \"$lc_g\" != \"$(ps -o pgid= -p $$ | tr -d ' ')\" ] || lc_g=\n  "
			    "  if [ -n \"$lc_g\" ]; then kill -s %s -- \"-$lc_g\"; else kill -s %s \"$lc_p\"; fi 2>/dev/null\n  "
			    "  lc_i=0; while kill -0 \"$lc_p\" 2>/dev/null && [ $lc_i -lt 100 ]; do sleep 0.1; lc_i=$((lc_i+1)); done\n  "
			    "  if [ -n \"$lc_g\" ]; then kill -s KILL -- \"-$lc_g\"; else kill -KILL \"$lc_p\"; fi 2>/dev/null\n  "
			    "fi\n  rm -f /run/lab/%s.pid\n  ", r->path, r->stop_signal, r->stop_signal,
			    r->path);
}

/* A new file with no owner to set is pushed with its mode: the apply batch
 * only renames it.  Anything else is pushed 0600 and given its mode and
 * owner before the rename, so that its content is never readable by more
 * than its final owner. */
static int pushed_final(const struct lc_res *r)
{
	return !r->fact.exists && !r->owner && !r->group && r->mode >= 0;
}

unsigned lc_script_upload_mode(const struct lc_res *r)
{
	return pushed_final(r) ? (unsigned)r->mode : 0600;
}

static void file_op(struct lc_buf *out, const struct lc_res *r)
{
	if (!r->need_content) {
		lc_buf_addf(out, "chmod %04o -- ", r->mode);
		q(out, r->path);
		add_owner(out, r, r->path);
		return;
	}
	/* Content computed from the host's: never overwrite the file if it
	 * changed since it was read. */
	if (r->from_host) {
		if (r->fact.exists) {
			lc_buf_adds(out, "lc_h=$(sha256sum < ");
			q(out, r->path);
			lc_buf_addf(out, ") && [ \"${lc_h%%%% *}\" = %s ] || ", r->fact.sha);
		} else {
			lc_buf_adds(out, "[ ! -e ");
			q(out, r->path);
			lc_buf_adds(out, " ] || ");
		}
		lc_buf_adds(out, "{ echo 'changed on the host since it was read; not overwritten'; "
			    "rm -f -- ");
		q(out, r->tmp_path);
		lc_buf_adds(out, "; return 1; }\n  ");
	}
	if (r->fact.no_parent) {
		const char *slash = strrchr(r->path, '/');
		char *dir = lc_xstrndup(r->path, (size_t)(slash - r->path));

		lc_buf_adds(out, "[ -d ");
		q(out, *dir ? dir : "/");
		lc_buf_adds(out, " ] || mkdir -p -- ");
		q(out, *dir ? dir : "/");
		lc_buf_adds(out, " || return 1\n  ");
		free(dir);
	}
	if (!pushed_final(r)) {
		lc_buf_addf(out, "chmod %04o -- ", r->mode);
		q(out, r->tmp_path);
		if (r->fact.exists && !r->owner && !r->group) {
			lc_buf_adds(out, " && chown --reference=");
			q(out, r->path);
			lc_buf_adds(out, " -- ");
			q(out, r->tmp_path);
		}
		add_owner(out, r, r->tmp_path);
		lc_buf_adds(out, " && ");
	}
	lc_buf_adds(out, "mv -f -- ");
	q(out, r->tmp_path);
	lc_buf_addc(out, ' ');
	q(out, r->path);
}

static void command_op(struct lc_buf *out, const struct lc_res *r)
{
	size_t j;

	/* re-check the guard: an earlier op of this batch may satisfy it */
	if (r->creates) {
		lc_buf_adds(out, "if [ -e ");
		q(out, r->creates);
		lc_buf_adds(out, " ]; then echo '" LC_SKIP_MARK "'; return 0; fi\n  ");
	}
	if (r->chdir) {
		lc_buf_adds(out, "cd ");
		q(out, r->chdir);
		lc_buf_adds(out, " || return 1\n  ");
	}
	if (r->unless) {
		lc_buf_adds(out, "if ( exec env");
		for (j = 0; j < r->n_env; j++) {
			lc_buf_addc(out, ' ');
			q(out, r->env[j]);
		}
		lc_buf_adds(out, " sh -c ");
		q(out, r->unless);
		lc_buf_adds(out, " ) </dev/null >/dev/null 2>&1; then echo '" LC_SKIP_MARK
			    "'; return 0; fi\n  ");
	}
	lc_buf_adds(out, "env");
	for (j = 0; j < r->n_env; j++) {
		lc_buf_addc(out, ' ');
		q(out, r->env[j]);
	}
	lc_buf_adds(out, " sh -c ");
	q(out, r->run);
}

/* The host's clock as the facts batch read it, else ours: ISO 8601 UTC. */
static void converged_at(char out[32], const struct lc_host_plan *p)
{
	time_t t = p->host_now > 0 ? (time_t)p->host_now : time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
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

		if (r->kind != LC_RES_FILE || !r->fact.sum_ok || !r->fact.sig ||
		    r->status == LC_RES_CHANGED || r->status == LC_RES_NA)
			continue;
		sums_key(key, r->path);
		lc_buf_reset(&line);
		lc_buf_addf(&line, "%s %s %s %s", key, r->fact.sig, r->fact.sha, r->path);
		lc_buf_adds(out, " \\\n  ");
		q(out, line.buf);
	}
	lc_buf_adds(out, " > " LC_STATE_NEW "/sums\n");
	lc_buf_release(&line);
}

/* The state record, written last whatever happened: the digest of every
 * managed file as it now is on the host.  It and the digest cache are
 * written in LC_STATE_NEW and renamed into place by one mv. */
static void state_write(struct lc_buf *out, const struct lc_host_plan *p)
{
	struct lc_buf js = LC_BUF_INIT;
	char when[32];
	size_t i;

	converged_at(when, p);
	lc_buf_adds(out, "[ -d " LC_STATE_NEW " ] || mkdir -p " LC_STATE_NEW "\n");
	sums_write(out, p);
	lc_buf_adds(out, "lc_sf() { case \"$lc_done\" in *\" $2 \"*) lc_h=$3;; *) lc_h=$4;; esac; "
		    "[ -z \"$lc_h\" ] || { printf '%s%s: \"%s\"' \"$lc_sep\" \"$1\" \"$lc_h\"; "
		    "lc_sep=',\n  '; }; }\n"
		    "{ lc_sep=\n");
	lc_buf_addf(out, "printf '{\"labctl\": \"%%s\", \"converged_at\": \"%%s\",\\n \"roles\": [' "
		    "'" LABCTL_VERSION "' '%s'\n", when);
	for (i = 0; i < p->n_roles; i++) {
		lc_buf_reset(&js);
		if (i)
			lc_buf_adds(&js, ", ");
		lc_buf_add_json(&js, p->roles[i], strlen(p->roles[i]));
		lc_buf_adds(out, "printf '%s' ");
		q(out, js.buf);
		lc_buf_addc(out, '\n');
	}
	lc_buf_addf(out, "printf '],\\n \"commit\": \"%s\", \"version\": \"%s\", \"dirty\": %s,"
		    "\\n \"inputs\": {'\n", p->commit, p->version, p->dirty ? "true" : "false");
	for (i = 0; i < p->n_roles && p->role_digest; i++) {
		lc_buf_reset(&js);
		lc_buf_add_json(&js, p->roles[i], strlen(p->roles[i]));
		lc_buf_addf(out, "printf '%%s%%s: \"%%s\"' '%s' ", i ? ", " : "");
		q(out, js.buf);
		lc_buf_addf(out, " '%s'\n", p->role_digest[i]);
	}
	lc_buf_adds(out, "printf '},\\n \"files\": {\\n  '\n");
	for (i = 0; i < p->n_res; i++) {
		const struct lc_res *r = &p->res[i];

		if (r->kind != LC_RES_FILE || r->status == LC_RES_NA)
			continue;
		lc_buf_reset(&js);
		lc_buf_add_json(&js, r->path, strlen(r->path));
		lc_buf_adds(out, "lc_sf ");
		q(out, js.buf);
		lc_buf_addf(out, " %zu '%s' '%s'\n", i,
			    r->status == LC_RES_CHANGED ? r->sha : "",
			    r->fact.exists ? r->fact.sha : "");
	}
	lc_buf_adds(out, "printf '}}\\n'; } > " LC_STATE_NEW "/state.json && "
		    "mv -f " LC_STATE_NEW "/sums " LC_STATE_NEW "/state.json " LC_STATE_DIR "/\n");
	lc_buf_release(&js);
}

void lc_script_apply(struct lc_buf *out, const struct lc_host_plan *p, const char *temps)
{
	size_t i;
	int pass;

	lc_buf_adds(out,
		"umask 022\n"
		"lc_failed=0\n"
		"lc_done=' '\n"
		"lc_run() {\n"
		"  if [ $lc_failed = 0 ]; then\n"
		"    lc_out=$(\"lc_op_$1\" 2>&1 </dev/null 9>&-); lc_rc=$?\n"
		"    if [ $lc_rc = 0 ]; then lc_done=\"$lc_done$1 \"; else lc_failed=1; fi\n"
		"    printf '%s R %s ' \"$1\" \"$lc_rc\"\n"
		"    [ -z \"$lc_out\" ] || printf '%s' \"$lc_out\" | tail -c 4000 | base64 -w0; echo\n"
		"  fi\n"
		"}\n"
		"[ -d " LC_STATE_DIR " ] || mkdir -p " LC_STATE_DIR "\n"
		"lc_pend() { grep -qxF -- \"$1\" " LC_RESTARTS_FILE " 2>/dev/null || "
		"printf '%s\\n' \"$1\" >> " LC_RESTARTS_FILE "; }\n"
		"lc_unpend() { if [ -f " LC_RESTARTS_FILE " ]; then grep -vxF -- \"$1\" "
		LC_RESTARTS_FILE " > " LC_RESTARTS_FILE ".tmp; mv -f " LC_RESTARTS_FILE ".tmp "
		LC_RESTARTS_FILE "; fi; }\n");
	/* Restarts this converge owes are recorded before anything changes, so
	 * a run that dies half-way leaves them for the next converge. */
	for (i = 0; i < p->n_res; i++)
		if (p->res[i].status == LC_RES_CHANGED && p->res[i].action == LC_SVC_RESTART)
			lc_buf_addf(out, "lc_pend %s\n", p->res[i].path);
	/* Ops in order; services last, once, at the end of the host's converge. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < p->n_res; i++) {
			const struct lc_res *r = &p->res[i];

			if (r->status != LC_RES_CHANGED || (r->kind == LC_RES_SERVICE) != pass)
				continue;
			lc_buf_addf(out, "lc_op_%zu() {\n  ", i);
			switch (r->kind) {
			case LC_RES_DIR:
				/* -m: the mode of the last component, umask aside */
				if (r->fact.exists)
					lc_buf_addf(out, "chmod %04o -- ", r->mode);
				else
					lc_buf_addf(out, "mkdir -p -m %04o -- ", r->mode);
				q(out, r->path);
				add_owner(out, r, r->path);
				break;
			case LC_RES_FILE:
				file_op(out, r);
				break;
			case LC_RES_COMMAND:
				command_op(out, r);
				break;
			case LC_RES_PACKAGE:
				lc_buf_addf(out, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
					    "--no-install-recommends -- %s", r->fact.missing);
				break;
			case LC_RES_SERVICE:
				if (r->action == LC_SVC_STOP || r->action == LC_SVC_RESTART)
					svc_stop(out, p, r);
				if (r->action == LC_SVC_START || r->action == LC_SVC_RESTART)
					svc_start(out, p, r);
				lc_buf_addf(out, "lc_unpend %s", r->path);
				break;
			}
			lc_buf_addf(out, "\n}\nlc_run %zu\n", i);
		}
	}
	/* temp files of ops that did not run (an earlier op failed) */
	for (i = 0, pass = 0; i < p->n_res; i++) {
		if (p->res[i].status == LC_RES_CHANGED && p->res[i].need_content &&
		    p->res[i].tmp_path) {
			lc_buf_adds(out, pass++ ? " \\\n  " : "[ $lc_failed = 0 ] || rm -f --");
			lc_buf_addc(out, ' ');
			q(out, p->res[i].tmp_path);
		}
	}
	if (pass)
		lc_buf_addc(out, '\n');
	state_write(out, p);
	if (temps)
		lc_buf_addf(out, "[ ! -e %s ] || rm -f %s\n", temps, temps);
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
