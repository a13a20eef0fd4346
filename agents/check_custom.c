/* check_custom.c - custom checks, each run in its own process group with a
 * time limit (instance key 'timeout', seconds, default 10; killed when it
 * passes):
 *
 *   checks.d/NAME.py  a Python module defining an AgentCheck subclass, as the
 *                     real Agent runs it: lab_check_runner.py (next to
 *                     lab-agent, in lab-agent-python/, or $LAB_AGENT_PYTHON_DIR)
 *                     imports it with lab-agent's datadog_checks.base, runs
 *                     check(instance) once and prints what it reported;
 *   checks.d/NAME     an executable that prints DogStatsD lines.
 *
 * Their stdout is DogStatsD lines; malformed lines, a non-zero exit and a
 * time out are the check's error.  A runner's last line, "#state JSON", is
 * kept and handed to its next run (rates and monotonic counts need the
 * previous sample). */
#include "check.h"

#include <limits.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dogstatsd.h"
#include "json.h"

#define CUSTOM_TIMEOUT_S 10
#define CUSTOM_TIMEOUT_MAX_S 300
#define CUSTOM_STDOUT_MAX (1u << 20)
#define CUSTOM_STDERR_MAX (64u << 10)

#define RUNNER "lab_check_runner.py"
#define STATE_PREFIX "#state "

struct custom_state {
	char *exe;             /* the executable, or the Python module */
	char *name;
	long timeout;          /* seconds */
	/* a Python check: python3, the runner, its config, the last #state */
	char *python, *runner, *config, *state;
};

/* The absolute path of prog on PATH (what execvp would run), or NULL. */
static char *which(const char *prog)
{
	const char *path = getenv("PATH"), *p, *colon;
	char *cand;

	for (p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; ; p = colon + 1) {
		colon = strchr(p, ':');
		cand = lc_xasprintf("%.*s/%s", (int)(colon ? colon - p : (long)strlen(p)), p, prog);
		if (cand[0] == '/' && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!colon)
			return NULL;
	}
}

/* lab_check_runner.py: in $LAB_AGENT_PYTHON_DIR, else next to the running
 * lab-agent in lab-agent-python/ (the lab's hosts, the build tree), else in
 * ../lib/lab-agent/python/ (cmake --install). */
static char *find_runner(void)
{
	const char *env = getenv("LAB_AGENT_PYTHON_DIR");
	char self[PATH_MAX], *slash, *r;
	ssize_t n;

	if (env && *env)
		return lc_xasprintf("%s/" RUNNER, env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	r = lc_xasprintf("%s/lab-agent-python/" RUNNER, self);
	if (access(r, R_OK) == 0)
		return r;
	free(r);
	return lc_xasprintf("%s/../lib/lab-agent/python/" RUNNER, self);
}

/* {"init_config": ..., "instance": ...} for the runner. */
static char *runner_config(const struct lc_check_conf *conf, const struct lc_check_instance *inst)
{
	const struct lc_node *ic = NULL;
	struct lc_node *o = lc_json_object();
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	for (i = 0; i < 2 && !ic; i++)
		if (conf->docs[i].root)
			ic = lc_node_get(conf->docs[i].root, "init_config");
	lc_json_set(o, "init_config", ic && !lc_node_is_null(ic) ? lc_node_dup(ic) : lc_json_null());
	lc_json_set(o, "instance", inst->node && !lc_node_is_null(inst->node) ?
		    lc_node_dup(inst->node) : lc_json_object());
	lc_json_write(&b, o, -1);
	lc_node_free(o);
	return lc_buf_detach(&b, NULL);
}

static void custom_free(void *state)
{
	struct custom_state *st = state;

	if (!st)
		return;
	free(st->exe);
	free(st->name);
	free(st->python);
	free(st->runner);
	free(st->config);
	free(st->state);
	free(st);
}

static int custom_init(void **out, const struct lc_check_conf *conf,
		       const struct lc_check_instance *inst, struct lc_error *err)
{
	const struct lc_node *tn = inst->node ? lc_node_get(inst->node, "timeout") : NULL;
	long timeout = CUSTOM_TIMEOUT_S;
	struct custom_state *st;

	*out = NULL;
	if (!conf->exe)
		return lc_error_set(err, LC_EPARSE, "custom check %s has no executable",
				    conf->name);
	if (!lc_node_is_null(tn) && lc_node_int(&timeout, tn, 1, CUSTOM_TIMEOUT_MAX_S, NULL) < 0)
		return lc_node_error(err, LC_EPARSE, tn,
				     "bad timeout (expected whole seconds from 1 to %d)",
				     CUSTOM_TIMEOUT_MAX_S);
	st = lc_xcalloc(1, sizeof(*st));
	st->exe = lc_xstrdup(conf->exe);
	st->name = lc_xstrdup(conf->name);
	st->timeout = timeout;
	if (conf->python) {
		st->python = which("python3");
		st->runner = find_runner();
		if (!st->python || !st->runner || access(st->runner, R_OK) < 0) {
			int rc = lc_error_set(err, LC_EIO, "custom check %s is a Python check, which "
					      "needs python3 and %s (%s)", conf->name,
					      st->runner ? st->runner : RUNNER,
					      !st->python ? "python3 is not on PATH" :
					      "not found: install lab-agent-python next to lab-agent");
			custom_free(st);
			return rc;
		}
		st->config = runner_config(conf, inst);
		st->state = lc_xstrdup("");
	}
	*out = st;
	return 0;
}


/* In the child, between fork and exec: async-signal-safe calls only. */
static void child_exec(char *const argv[], int out_fd, int err_fd, int exec_err_fd,
		       long max_fd)
{
	struct sigaction sa;
	sigset_t none;
	int devnull, e, fd;

	setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0 && devnull != 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	/* Nothing else of the agent's (sockets, the status file) leaks in. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (fd = 3; fd < max_fd; fd++)
			if (fd != exec_err_fd)
				close(fd);
	execv(argv[0], argv);
	e = errno;
	if (write(exec_err_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static void kill_child(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Append at most cap bytes in total to b; returns 1 when more came. */
static int add_capped(struct lc_buf *b, const char *data, size_t n, size_t cap)
{
	if (b->len + n <= cap) {
		lc_buf_add(b, data, n);
		return 0;
	}
	if (b->len < cap)
		lc_buf_add(b, data, cap - b->len);
	return 1;
}

/* The last non-empty line of the script's stderr (capped), for the error
 * message: a Python traceback ends with the line that says what failed. */
static void last_line(struct lc_buf *out, const struct lc_buf *text)
{
	const char *p = text->buf, *end = text->buf + text->len, *nl;
	const char *best = NULL;
	size_t n, best_n = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n && !(n == 1 && *p == '\r')) {
			best = p;
			best_n = n > 300 ? 300 : n;
		}
		p += n + 1;
	}
	if (best)
		lc_buf_add(out, best, best_n);
}

enum run_end { RUN_DONE, RUN_TIMEOUT, RUN_CANCELLED, RUN_TOO_BIG };

/* Read stdout and stderr of the child until both end, the time limit
 * passes, the agent stops, or stdout exceeds its cap. */
static enum run_end drain(int out_fd, int err_fd, struct lc_buf *out,
			  struct lc_buf *errtext, double deadline,
			  const struct lc_cancel *cancel)
{
	struct pollfd pfd[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	char chunk[4096];
	ssize_t n;
	int i;

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		double left = deadline - lc_clock_now();
		int ms;

		if (cancel && cancel->cancelled && cancel->cancelled(cancel->arg))
			return RUN_CANCELLED;
		if (left <= 0)
			return RUN_TIMEOUT;
		ms = left > 0.2 ? 200 : (int)(left * 1000) + 1;
		if (poll(pfd, 2, ms) < 0) {
			if (errno == EINTR)
				continue;
			return RUN_TIMEOUT;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, chunk, sizeof(chunk));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				pfd[i].fd = -1;
				continue;
			}
			if (i == 0 && add_capped(out, chunk, (size_t)n, CUSTOM_STDOUT_MAX))
				return RUN_TOO_BIG;
			if (i == 1)
				add_capped(errtext, chunk, (size_t)n, CUSTOM_STDERR_MAX);
		}
	}
	return RUN_DONE;
}

/* Both pipes ended: wait for the exit until the deadline. */
static enum run_end reap(pid_t pid, int *status, double deadline,
			 const struct lc_cancel *cancel)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return RUN_DONE;
		if (cancel && cancel->cancelled && cancel->cancelled(cancel->arg))
			return RUN_CANCELLED;
		if (lc_clock_now() >= deadline)
			return RUN_TIMEOUT;
		nanosleep(&ts, NULL);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Take the runner's own line out of text: keep the last "#state" for the
 * next run. */
static void take_runner_lines(struct custom_state *st, struct lc_buf *text)
{
	struct lc_buf keep = LC_BUF_INIT;
	const char *p = text->buf, *end = text->buf + text->len, *nl;
	size_t n, plen = strlen(STATE_PREFIX);

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n >= plen && !memcmp(p, STATE_PREFIX, plen)) {
			free(st->state);
			st->state = lc_xstrndup(p + plen, n - plen);
		} else {
			lc_buf_add(&keep, p, n);
			lc_buf_addc(&keep, '\n');
		}
		p += n + 1;
	}
	lc_buf_release(text);
	*text = keep;
}

static int custom_run(void *state, struct lc_metrics *out,
		      const struct lc_cancel *cancel, struct lc_error *err)
{
	struct custom_state *st = state;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, execp[2] = { -1, -1 };
	struct lc_buf text = LC_BUF_INIT, errtext = LC_BUF_INIT, msg = LC_BUF_INIT;
	struct lc_error perr = LC_ERROR_INIT;
	long max_fd = sysconf(_SC_OPEN_MAX);
	char *const exe_argv[] = { st->exe, NULL };
	char *const py_argv[] = { st->python, st->runner, st->exe, st->name, st->config,
				  st->state, NULL };
	char *const *argv = st->python ? py_argv : exe_argv;
	double deadline;
	enum run_end end;
	int status = 0, exec_errno = 0, rc = 0;
	size_t bad;
	ssize_t n;
	pid_t pid;

	if (max_fd < 0 || max_fd > 65536)
		max_fd = 65536;
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(execp, O_CLOEXEC) < 0) {
		rc = lc_error_set(err, LC_EIO, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = lc_error_set(err, LC_EIO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(argv, outp[1], errp[1], execp[1], max_fd);
	deadline = lc_clock_now() + (double)st->timeout;
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	close_fd(&execp[1]);

	/* exec closes execp[1]: EOF means it ran, 4 bytes are its errno. */
	do
		n = read(execp[0], &exec_errno, sizeof(exec_errno));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(exec_errno)) {
		wait_child(pid, &status);
		rc = lc_error_set(err, LC_EIO, "cannot run %s: %s", st->exe,
				  strerror(exec_errno));
		goto out;
	}

	end = drain(outp[0], errp[0], &text, &errtext, deadline, cancel);
	if (end == RUN_DONE)
		end = reap(pid, &status, deadline, cancel);
	if (end != RUN_DONE) {
		kill_child(pid);
		wait_child(pid, &status);
		if (end == RUN_TIMEOUT)
			rc = lc_error_set(err, LC_ETIMEOUT, "%s timed out after %ld s and was killed",
					  st->exe, st->timeout);
		else if (end == RUN_TOO_BIG)
			rc = lc_error_set(err, LC_EREMOTE, "%s printed more than %u bytes and was killed",
					  st->exe, CUSTOM_STDOUT_MAX);
		else
			rc = lc_error_set(err, LC_ERR, "%s stopped: the agent is shutting down",
					  st->exe);
		goto out;
	}

	if (st->python)
		take_runner_lines(st, &text);
	/* Good lines count even when others are bad or the script failed. */
	bad = lc_dogstatsd_parse_text(out, text.buf, text.len, &perr);
	if (WIFEXITED(status) && WEXITSTATUS(status)) {
		lc_buf_addf(&msg, "%s exited with status %d", st->exe, WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		lc_buf_addf(&msg, "%s was killed by signal %d", st->exe, WTERMSIG(status));
	}
	if (msg.len && errtext.len) {
		lc_buf_adds(&msg, ": ");
		last_line(&msg, &errtext);
	}
	if (bad) {
		if (msg.len)
			lc_buf_adds(&msg, "; ");
		lc_buf_addf(&msg, "%zu malformed line%s in the output of %s, first: %s",
			    bad, bad == 1 ? "" : "s", st->exe, perr.msg);
	}
	if (msg.len)
		rc = lc_error_set(err, LC_EREMOTE, "%s", msg.buf);
out:
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&execp[0]);
	close_fd(&execp[1]);
	lc_buf_release(&text);
	lc_buf_release(&errtext);
	lc_buf_release(&msg);
	return rc;
}

const struct lc_check_ops lc_check_custom_ops = {
	.kind = "custom",
	.init = custom_init,
	.run = custom_run,
	.free = custom_free,
};
