/* testutil.h - small helpers shared by the unit tests: temp directories,
 * files, running /bin/sh.  Header-only; include after <cmocka.h>. */
#ifndef LC_TESTUTIL_H
#define LC_TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"

/* A new directory under /tmp (malloc'd path). */
static inline char *tu_mkdtemp(const char *tag)
{
	char *tmpl = lc_xasprintf("/tmp/lc-test-%s-XXXXXX", tag);

	assert_non_null(mkdtemp(tmpl));
	return tmpl;
}

static inline int tu_rm_one(const char *path, const struct stat *st, int type,
			    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* rm -rf dir, then free the string. */
static inline void tu_rmrf(char *dir)
{
	if (dir)
		nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	free(dir);
}

/* mkdir -p the parent directories of path. */
static inline void tu_mkparents(const char *path)
{
	char *p = lc_xstrdup(path), *s;

	for (s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	free(p);
}

/* Write len bytes to dir/rel (dir may be NULL: rel is the path), creating
 * parents; returns the full path (malloc'd). */
static inline char *tu_write_n(const char *dir, const char *rel, const char *data,
			       size_t len)
{
	char *path = dir ? lc_xasprintf("%s/%s", dir, rel) : lc_xstrdup(rel);
	FILE *f;

	tu_mkparents(path);
	f = fopen(path, "wb");
	if (!f)
		fail_msg("fopen %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static inline char *tu_write(const char *dir, const char *rel, const char *text)
{
	return tu_write_n(dir, rel, text, strlen(text));
}

/* Same, without handing back the path. */
static inline void tu_put(const char *dir, const char *rel, const char *text)
{
	free(tu_write(dir, rel, text));
}

/* The whole content of path (NULL when it cannot be read). */
static inline char *tu_read(const char *path, size_t *len)
{
	struct lc_buf b = LC_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		lc_buf_add(&b, chunk, n);
	fclose(f);
	return lc_buf_detach(&b, len);
}

/* Run `/bin/sh SCRIPT` (script written to a temp file) in cwd; stdout goes
 * to *out.  Returns the exit status, or -1 when sh did not exit normally. */
static inline int tu_sh_run(const char *cwd, const char *script, size_t len,
			    struct lc_buf *out)
{
	char path[] = "/tmp/lc-test-script-XXXXXX";
	char chunk[4096];
	int pfd[2], fd, status;
	ssize_t n;
	pid_t pid;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, len), (ssize_t)len);
	close(fd);
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		if (cwd && chdir(cwd) < 0)
			_exit(126);
		execl("/bin/sh", "sh", path, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	lc_buf_reset(out);
	while ((n = read(pfd[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		lc_buf_add(out, chunk, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `/bin/sh -n` on script: 0 when the syntax is valid. */
static inline int tu_sh_syntax(const char *script, size_t len)
{
	char path[] = "/tmp/lc-test-syntax-XXXXXX";
	char *cmd;
	int fd, rc;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, len), (ssize_t)len);
	close(fd);
	cmd = lc_xasprintf("/bin/sh -n %s", path);
	rc = system(cmd);
	free(cmd);
	unlink(path);
	return rc;
}

/* Fail unless hay contains needle, showing both. */
#define tu_assert_contains(hay, needle)                                            \
	do {                                                                       \
		const char *tu_h_ = (hay), *tu_n_ = (needle);                      \
		if (!tu_h_ || !strstr(tu_h_, tu_n_))                               \
			fail_msg("'%s' does not contain '%s'", tu_h_ ? tu_h_ : "(null)", \
				 tu_n_);                                           \
	} while (0)

static inline int tu_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static inline int tu_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

#endif
