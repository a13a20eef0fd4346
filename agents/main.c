/* main.c - lab-agent: flags, signals, logging and the loop that runs the
 * checks when they are due, hands their metrics to the forwarder and keeps
 * the status file current.
 *
 *   lab-agent [-c /etc/datadog-agent] [--once] [--status-file PATH]
 *
 * SIGHUP re-reads the configuration; SIGTERM and SIGINT stop cleanly. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "config.h"
#include "error.h"
#include "metric.h"
#include "status.h"
#include "apm.h"
#include "metadata.h"
#include "receiver.h"
#include "submit.h"

#define DEFAULT_STATUS_FILE "/var/lib/lab-agent/status.json"

enum { SIG_NONE, SIG_RELOAD, SIG_STOP };

/* The one global: what the signal handler asks for. */
static volatile sig_atomic_t signalled;

struct agent {
	const char *dir;
	const char *status_path;
	int once;
	enum lc_log_level log_level;
	struct lc_agent_conf conf;
	struct lc_check_confs confs;
	struct lc_checks checks;
	struct lc_metric_base base;
	struct lc_status status;
	struct lc_submit *submit;
	struct lc_apm *apm;            /* daemon mode: the traces received */
	struct lc_receiver *receiver;  /* NULL: off (apm_config, --once) */
	unsigned receiver_port;
	char receiver_host[48];
	double next_apm_flush;
	unsigned long long intake_events;
	unsigned long long intake_failed, intake_dropped;
	char *status_error;    /* last failure to write the status file */
	int failed;            /* --once: a check or the submission failed */
};

/* ---- logging ------------------------------------------------------------ */

static void agent_log(const struct agent *a, enum lc_log_level level,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One line per event on stderr: "2024-05-01T12:00:00Z INFO message".
 * Control characters in messages are escaped so a line stays one line. */
static void agent_log(const struct agent *a, enum lc_log_level level,
		      const char *fmt, ...)
{
	struct lc_buf msg = LC_BUF_INIT, line = LC_BUF_INIT;
	va_list ap;
	size_t i, off = 0;
	ssize_t n;

	if (level < a->log_level || a->log_level == LC_LOG_OFF)
		return;
	va_start(ap, fmt);
	lc_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	{
		char iso[LC_CLOCK_ISO];

		lc_clock_utc_iso(iso, time(NULL));
		lc_buf_adds(&line, iso);
	}
	lc_buf_addf(&line, " %s ", lc_log_level_name(level));
	for (i = 0; i < msg.len; i++) {
		unsigned char c = (unsigned char)msg.buf[i];

		if (c == '\n')
			lc_buf_adds(&line, "\\n");
		else if (c < 0x20 || c == 0x7f)
			lc_buf_addf(&line, "\\x%02x", c);
		else
			lc_buf_addc(&line, (char)c);
	}
	lc_buf_addc(&line, '\n');
	/* One write, so lines never interleave. */
	while (off < line.len) {
		n = write(STDERR_FILENO, line.buf + off, line.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	lc_buf_release(&msg);
	lc_buf_release(&line);
}

/* ---- signals ------------------------------------------------------------ */

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		if (signalled != SIG_STOP)
			signalled = SIG_RELOAD;
	} else {
		signalled = SIG_STOP;
	}
}

static void watched_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;       /* no SA_RESTART: waits end with EINTR */
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Take the pending request (SIG_RELOAD is consumed, SIG_STOP stays). */
static int take_signal(void)
{
	sigset_t set, old;
	int v;

	watched_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	v = signalled;
	if (v == SIG_RELOAD)
		signalled = SIG_NONE;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return v;
}

static int stop_requested(void *arg)
{
	(void)arg;
	return signalled == SIG_STOP;
}

/* Sleep up to seconds, waking at once for a signal (no lost wake-up: the
 * flag is checked with the signals blocked, and ppoll unblocks them). */
static void wait_for(double seconds)
{
	sigset_t set, old;
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	watched_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (signalled == SIG_NONE)
		ppoll(NULL, 0, &ts, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- configuration ------------------------------------------------------- */

static void status_config(struct agent *a, const char *conf_error)
{
	struct lc_status *st = &a->status;
	struct lc_buf url = LC_BUF_INIT;
	size_t i;

	free(st->dir);
	st->dir = lc_xstrdup(a->dir);
	free(st->hostname);
	st->hostname = lc_xstrdup(a->conf.hostname);
	lc_tags_release(&st->tags);
	lc_tags_copy(&st->tags, &a->conf.tags);
	free(st->env);
	st->env = lc_xstrdup(a->conf.env);
	lc_url_redact(&url, a->conf.intake);
	free(st->dd_url);
	st->dd_url = lc_buf_detach(&url, NULL);
	st->submission = *a->conf.api_key != '\0';
	lc_tags_release(&st->errors);
	if (conf_error)
		lc_tags_adds(&st->errors, conf_error);
	for (i = 0; i < a->confs.errors.nr; i++)
		lc_tags_adds(&st->errors, a->confs.errors.v[i]);
}

/* Read datadog.yaml and conf.d.  A bad datadog.yaml keeps the previous
 * settings (the defaults at start: submission off); a bad check config
 * disables that check only. */
static void load_config(struct agent *a, int initial)
{
	struct lc_agent_conf conf = LC_AGENT_CONF_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_tags names = LC_TAGS_INIT;
	struct lc_buf url = LC_BUF_INIT, meta = LC_BUF_INIT;
	char *conf_error = NULL;
	size_t i;

	if (lc_agent_conf_load(&conf, a->dir, &err) < 0) {
		conf_error = lc_xstrdup(err.msg);
		if (initial) {
			agent_log(a, LC_LOG_ERROR, "config: %s; running with defaults "
				  "(submission disabled) until it is fixed and the agent gets SIGHUP",
				  err.msg);
			lc_agent_conf_release(&a->conf);
			a->conf = conf;
		} else {
			agent_log(a, LC_LOG_ERROR, "config: %s; keeping the previous datadog.yaml settings",
				  err.msg);
			lc_agent_conf_release(&conf);
		}
	} else {
		lc_agent_conf_release(&a->conf);
		a->conf = conf;
	}
	a->log_level = a->conf.log_level;

	lc_checks_release(&a->checks);
	lc_check_confs_release(&a->confs);
	lc_check_confs_load(&a->confs, a->dir);
	lc_checks_build(&a->checks, &a->confs, lc_clock_now());

	lc_metric_base_release(&a->base);
	lc_metric_base_init(&a->base, a->conf.hostname, &a->conf.tags, a->conf.env);
	lc_submit_configure(a->submit, a->conf.intake, a->conf.api_key);
	/* the host and its host tags, for the host map: now, then every 30 min */
	lc_host_metadata_json(&meta, &a->conf);
	lc_submit_set_metadata(a->submit, meta.buf);
	lc_buf_release(&meta);

	status_config(a, conf_error);
	if (conf_error || a->confs.errors.nr)
		a->failed = 1;
	for (i = 0; i < a->confs.notes.nr; i++)
		agent_log(a, LC_LOG_INFO, "config: %s", a->confs.notes.v[i]);
	for (i = 0; i < a->confs.errors.nr; i++)
		agent_log(a, LC_LOG_ERROR, "config: %s", a->confs.errors.v[i]);
	for (i = 0; i < a->checks.nr; i++) {
		const struct lc_check *c = &a->checks.v[i];
		struct lc_status_check *sc = lc_status_check(&a->status, c->conf->name);

		lc_tags_adds(&names, c->conf->name);
		lc_status_check_set_error(sc, c->error);
		if (c->error)
			a->failed = 1;
		if (c->error)
			agent_log(a, LC_LOG_ERROR, "check %s: not scheduled: %s",
				  c->conf->name, c->error);
		else
			agent_log(a, LC_LOG_INFO, "check %s (%s): %zu instance%s, every %ld s%s",
				  c->conf->name, c->ops->kind, c->n_slots,
				  c->n_slots == 1 ? "" : "s", c->slots[0].inst->interval,
				  c->n_slots > 1 ? " (first instance)" : "");
	}
	lc_status_keep_only(&a->status, &names);

	lc_url_redact(&url, a->conf.intake);
	agent_log(a, LC_LOG_INFO, "%s %s: hostname %s, env %s, %zu tag%s, intake %s, submission %s",
		  initial ? "loaded" : "reloaded", a->dir, a->conf.hostname,
		  *a->conf.env ? a->conf.env : "(none)", a->conf.tags.nr,
		  a->conf.tags.nr == 1 ? "" : "s", url.buf,
		  *a->conf.api_key ? "enabled" : "disabled (no api_key)");
	lc_buf_release(&url);
	lc_tags_release(&names);
	free(conf_error);
}

/* ---- status ------------------------------------------------------------- */

static void write_status(struct agent *a)
{
	struct lc_error err = LC_ERROR_INIT;

	if (lc_status_write(a->status_path, &a->status, &err) < 0) {
		if (!a->status_error || strcmp(a->status_error, err.msg))
			agent_log(a, LC_LOG_ERROR, "status: %s", err.msg);
		free(a->status_error);
		a->status_error = lc_xstrdup(err.msg);
	} else if (a->status_error) {
		agent_log(a, LC_LOG_INFO, "status: writing %s again", a->status_path);
		free(a->status_error);
		a->status_error = NULL;
	}
}

/* Copy the forwarder's counters into the status; log what changed.
 * Returns 1 when anything did. */
static int sync_intake(struct agent *a)
{
	struct lc_submit_stats st;
	struct lc_status_intake *in = &a->status.intake;
	int changed;

	lc_submit_get_stats(a->submit, &st);
	changed = st.events != a->intake_events;
	if (st.failed > a->intake_failed)
		agent_log(a, LC_LOG_WARN, "intake: %s (%llu failed so far; %zu points buffered, retrying with backoff)",
			  st.last_error ? st.last_error : "failed", st.failed, st.buffered);
	if (st.dropped > a->intake_dropped)
		agent_log(a, LC_LOG_WARN, "intake: buffer full, dropped %llu oldest points (%llu in all)",
			  st.dropped - a->intake_dropped, st.dropped);
	if (st.sent > in->sent)
		agent_log(a, in->last_error ? LC_LOG_INFO : LC_LOG_DEBUG,
			  "intake: %llu points accepted%s", st.sent - in->sent,
			  in->last_error ? " (intake reachable again)" : "");
	a->intake_events = st.events;
	a->intake_failed = st.failed;
	a->intake_dropped = st.dropped;
	in->sent = st.sent;
	in->failed = st.failed;
	in->dropped = st.dropped;
	in->buffered = st.buffered;
	in->last_success = st.last_success;
	free(in->last_error);
	in->last_error = st.last_error;
	st.last_error = NULL;
	lc_submit_stats_release(&st);
	return changed;
}

/* ---- running checks ----------------------------------------------------- */

static void run_check(struct agent *a, struct lc_check *c, double now)
{
	const struct lc_cancel cancel = { stop_requested, NULL };
	struct lc_metrics got = LC_METRICS_INIT;
	struct lc_buf errors = LC_BUF_INIT;
	struct lc_status_check *sc = lc_status_check(&a->status, c->conf->name);
	int had_error = sc->error != NULL;

	if (!lc_check_run_due(c, now, &a->base, &got, &errors, &cancel))
		goto out;
	lc_status_check_record(sc, time(NULL), got.v, got.nr,
			       errors.len ? errors.buf : NULL);
	if (errors.len) {
		a->failed = 1;
		agent_log(a, LC_LOG_WARN, "check %s: %s", c->conf->name, errors.buf);
	} else if (had_error && sc->runs > 1) {
		agent_log(a, LC_LOG_INFO, "check %s: ok again", c->conf->name);
	}
	agent_log(a, LC_LOG_DEBUG, "check %s: %zu metrics", c->conf->name, got.nr);
	lc_submit_push(a->submit, &got);
	sync_intake(a);
	write_status(a);
out:
	lc_metrics_release(&got);
	lc_buf_release(&errors);
}

static void run_due(struct agent *a)
{
	size_t i;

	for (i = 0; i < a->checks.nr && signalled != SIG_STOP; i++) {
		double now = lc_clock_now();

		if (lc_check_due(&a->checks.v[i], now))
			run_check(a, &a->checks.v[i], now);
	}
}

/* The trace receiver as apm_config and bind_host say (daemon mode only):
 * started, moved, or stopped. */
static void apply_apm(struct agent *a)
{
	struct lc_error err = LC_ERROR_INIT;
	char state[64];

	if (a->once || !a->apm)
		return;
	if (a->receiver && (!a->conf.apm_enabled || a->conf.apm_port != a->receiver_port ||
			    strcmp(a->conf.bind_host, a->receiver_host))) {
		lc_receiver_stop(a->receiver);
		a->receiver = NULL;
		lc_apm_set_receiver(a->apm, "off");
	}
	if (a->receiver || !a->conf.apm_enabled)
		return;
	if (lc_receiver_start(&a->receiver, a->conf.bind_host, a->conf.apm_port, a->apm,
			      a->conf.env, &err) < 0) {
		agent_log(a, LC_LOG_ERROR, "%s; traces are not received", err.msg);
		lc_apm_set_receiver(a->apm, err.msg);
		return;
	}
	a->receiver_port = a->conf.apm_port;
	snprintf(a->receiver_host, sizeof(a->receiver_host), "%s", a->conf.bind_host);
	snprintf(state, sizeof(state), "listening on %s:%u", a->receiver_host, a->receiver_port);
	lc_apm_set_receiver(a->apm, state);
	agent_log(a, LC_LOG_INFO, "trace receiver %s", state);
}

/* Every flush interval: the trace metrics into the submission, the APM
 * part of the status.  1 when the status changed. */
static int flush_apm(struct agent *a, double now)
{
	struct lc_metrics got = LC_METRICS_INIT;
	size_t n;

	if (!a->apm || now < a->next_apm_flush)
		return 0;
	a->next_apm_flush = now + LC_SUBMIT_FLUSH_S;
	n = lc_apm_take(a->apm, &got);
	if (n) {
		/* the host and its tags; env comes from the spans */
		struct lc_metric_base base = LC_METRIC_BASE_INIT;

		lc_metric_base_init(&base, a->conf.hostname, &a->conf.tags, "");
		lc_metrics_decorate(&got, 0, &base, NULL, (long long)time(NULL),
				    LC_SUBMIT_FLUSH_S);
		lc_metric_base_release(&base);
		if (lc_submit_enabled(a->submit))
			lc_submit_push(a->submit, &got);
		lc_metrics_release(&got);
	}
	if (!lc_apm_changed(a->apm) && a->status.apm)
		return 0;
	lc_node_free(a->status.apm);
	a->status.apm = lc_apm_status(a->apm, now);
	return 1;
}

static int run_once(struct agent *a)
{
	struct lc_error err = LC_ERROR_INIT;

	run_due(a);
	if (lc_submit_enabled(a->submit) && lc_submit_flush(a->submit, &err) < 0)
		a->failed = 1;
	sync_intake(a);
	write_status(a);
	return a->failed || a->status_error ? 1 : 0;
}

static int run_loop(struct agent *a)
{
	struct lc_error err = LC_ERROR_INIT;
	int sig;

	if (lc_submit_start(a->submit, LC_SUBMIT_FLUSH_S, &err) < 0) {
		agent_log(a, LC_LOG_ERROR, "%s", err.msg);
		return 1;
	}
	a->apm = lc_apm_new();
	apply_apm(a);
	a->next_apm_flush = lc_clock_now() + LC_SUBMIT_FLUSH_S;
	a->status.apm = lc_apm_status(a->apm, lc_clock_now());
	write_status(a);
	while ((sig = take_signal()) != SIG_STOP) {
		double now, next;
		int changed;

		if (sig == SIG_RELOAD) {
			agent_log(a, LC_LOG_INFO, "SIGHUP: reloading the configuration");
			load_config(a, 0);
			apply_apm(a);
			write_status(a);
		}
		run_due(a);
		changed = flush_apm(a, lc_clock_now());
		if (sync_intake(a) || changed)
			write_status(a);
		now = lc_clock_now();
		next = lc_checks_next_due(&a->checks, now);
		/* At most a second, to report the forwarder's news promptly. */
		wait_for(next - now < 1 ? next - now : 1);
	}
	agent_log(a, LC_LOG_INFO, "stopping");
	lc_receiver_stop(a->receiver);
	a->receiver = NULL;
	a->next_apm_flush = 0;
	flush_apm(a, lc_clock_now());   /* what came in since the last flush */
	lc_submit_stop(a->submit);
	sync_intake(a);
	write_status(a);
	return 0;
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *to)
{
	fprintf(to,
		"usage: lab-agent [-c DIR] [--once] [--status-file PATH]\n"
		"  -c, --config DIR       configuration directory (default %s):\n"
		"                         datadog.yaml, conf.d/, checks.d/\n"
		"      --once             run every check once, submit, write the status, exit\n"
		"                         (exit 1 when a check or the submission failed)\n"
		"      --status-file PATH status file (default %s)\n"
		"  -V, --version          print the version\n"
		"  -h, --help             this help\n"
		"Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT stop.\n",
		LC_AGENT_DEFAULT_DIR, DEFAULT_STATUS_FILE);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "status-file", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent a;
	struct lc_error err = LC_ERROR_INIT;
	int opt, rc;

	memset(&a, 0, sizeof(a));
	a.dir = LC_AGENT_DEFAULT_DIR;
	a.status_path = DEFAULT_STATUS_FILE;
	a.log_level = LC_LOG_INFO;
	while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': a.dir = optarg; break;
		case 'o': a.once = 1; break;
		case 's': a.status_path = optarg; break;
		case 'V': printf("lab-agent %s\n", LABCTL_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !*a.dir || !*a.status_path) {
		usage(stderr);
		return 2;
	}

	install_signals();
	/* Before any thread: curl_global_init. */
	if (lc_submit_new(&a.submit, LC_SUBMIT_MAX_POINTS, &err) < 0) {
		agent_log(&a, LC_LOG_ERROR, "%s", err.msg);
		return 1;
	}
	a.status.pid = (long)getpid();
	a.status.running_since = time(NULL);
	agent_log(&a, LC_LOG_INFO, "lab-agent %s starting (pid %ld, config %s, status %s%s)",
		  LABCTL_VERSION, a.status.pid, a.dir, a.status_path,
		  a.once ? ", once" : "");
	load_config(&a, 1);

	rc = a.once ? run_once(&a) : run_loop(&a);

	lc_submit_free(a.submit);
	lc_apm_free(a.apm);
	lc_checks_release(&a.checks);
	lc_check_confs_release(&a.confs);
	lc_metric_base_release(&a.base);
	lc_agent_conf_release(&a.conf);
	lc_status_release(&a.status);
	free(a.status_error);
	if (!a.once)
		agent_log(&a, LC_LOG_INFO, "stopped");
	return rc;
}
