/* local_keys.c - the local lab's state directory (layout in
 * provider_local.h): host names and addresses, paths, the lock, the user
 * and host key pairs (ssh-keygen), and STATE/known_hosts. */
#include "provider_local_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- names, addresses, paths -------------------------------------------- */

int lc_local_check_name(const char *name, struct lc_error *err)
{
	size_t i, len = name ? strlen(name) : 0;

	if (!len || len > 63)
		return lc_error_set(err, LC_EUSAGE, "local host name '%s' must be 1 to 63 characters",
				    name ? name : "");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '-' && c != '.')))
			return lc_error_set(err, LC_EUSAGE,
					    "local host name '%s': use letters, digits, '_', '-' and '.', "
					    "starting with a letter or digit", name);
	}
	return 0;
}

int lc_local_check_host(const struct lc_local_host *h, struct lc_error *err)
{
	struct in_addr a;

	if (lc_local_check_name(h->name, err) < 0)
		return err ? err->code : LC_EUSAGE;
	if (!h->address || inet_pton(AF_INET, h->address, &a) != 1)
		return lc_error_set(err, LC_EUSAGE, "'%s' is not an IPv4 address",
				    h->address ? h->address : "");
	if ((ntohl(a.s_addr) >> 24) != 127)
		return lc_error_set(err, LC_EUSAGE,
				    "address %s is not in 127.0.0.0/8; "
				    "local lab hosts only listen on loopback addresses",
				    h->address);
	if (h->port < 1 || h->port > 65535)
		return lc_error_set(err, LC_EUSAGE, "port %d is out of range", h->port);
	return 0;
}

/* STATE resolved to an absolute path that is safe in overlayfs options. */
int lc_local_state_realpath(struct lc_buf *out, const char *state_dir, struct lc_error *err)
{
	char *rp = realpath(state_dir, NULL);

	if (!rp)
		return lc_error_set(err, LC_EIO, "state directory %s: %s", state_dir,
				    strerror(errno));
	lc_buf_adds(out, rp);
	free(rp);
	if (strpbrk(out->buf, ",:\\\n"))
		return lc_error_set(err, LC_EUSAGE,
				    "state directory %s: its path must not contain ',', ':' or '\\' "
				    "(overlayfs mount options)", out->buf);
	return 0;
}

void lc_local_host_init(struct host *h, const char *state, const char *name)
{
	h->name = name;
	lc_buf_init(&h->dir);
	lc_buf_addf(&h->dir, "%s/hosts/%s", state, name);
	lc_buf_init(&h->upper);
	lc_buf_addf(&h->upper, "%s/upper", h->dir.buf);
	lc_buf_init(&h->work);
	lc_buf_addf(&h->work, "%s/work", h->dir.buf);
	lc_buf_init(&h->merged);
	lc_buf_addf(&h->merged, "%s/merged", h->dir.buf);
	lc_buf_init(&h->pidfile);
	lc_buf_addf(&h->pidfile, "%s/init.pid", h->dir.buf);
	lc_buf_init(&h->logfile);
	lc_buf_addf(&h->logfile, "%s/init.log", h->dir.buf);
	lc_buf_init(&h->endpoint);
	lc_buf_addf(&h->endpoint, "%s/endpoint", h->dir.buf);
}

void lc_local_host_release(struct host *h)
{
	lc_buf_release(&h->dir);
	lc_buf_release(&h->upper);
	lc_buf_release(&h->work);
	lc_buf_release(&h->merged);
	lc_buf_release(&h->pidfile);
	lc_buf_release(&h->logfile);
	lc_buf_release(&h->endpoint);
}

void lc_local_key_path(struct lc_buf *out, const char *state_dir)
{
	lc_buf_addf(out, "%s/id_ed25519", state_dir);
}

void lc_local_known_hosts_path(struct lc_buf *out, const char *state_dir)
{
	lc_buf_addf(out, "%s/known_hosts", state_dir);
}

/* ---- lock, keys, known_hosts -------------------------------------------- */

/* flock(STATE/lock): one up or down at a time per state dir. */
int lc_local_lock_state(const char *state, int *fd_out, struct lc_error *err)
{
	struct lc_buf path = LC_BUF_INIT;
	int fd, rc = 0;

	*fd_out = -1;
	lc_buf_addf(&path, "%s/lock", state);
	fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = lc_error_set(err, LC_EIO, "opening %s: %s", path.buf, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			rc = lc_error_set(err, LC_EIO, "locking %s: %s", path.buf, strerror(errno));
			close(fd);
			goto out;
		}
	}
	*fd_out = fd;
out:
	lc_buf_release(&path);
	return rc;
}

/* ssh-keygen -t ed25519 into path (removing a half-made pair first). */
int lc_local_make_keypair(const char *path, const char *comment, struct lc_error *err)
{
	struct lc_buf pub = LC_BUF_INIT, out = LC_BUF_INIT;
	const char *argv[] = { SSH_KEYGEN_PATH, "-q", "-t", "ed25519", "-N", "",
			       "-C", comment, "-f", path, NULL };
	int rc;

	lc_buf_addf(&pub, "%s.pub", path);
	if ((unlink(path) < 0 && errno != ENOENT) || (unlink(pub.buf) < 0 && errno != ENOENT)) {
		rc = lc_error_set(err, LC_EIO, "removing %s: %s", path, strerror(errno));
		goto out;
	}
	rc = lc_local_run_cmd(argv, &out, err);
	if (rc < 0)
		lc_error_prefix(err, "generating %s", path);
out:
	lc_buf_release(&pub);
	lc_buf_release(&out);
	return rc;
}

int lc_local_ensure_keys(const char *state_dir, struct lc_error *err)
{
	struct lc_buf key = LC_BUF_INIT, pub = LC_BUF_INIT, hosts = LC_BUF_INIT;
	struct lc_buf out = LC_BUF_INIT;
	struct stat st;
	int rc, lockfd = -1;

	if (stat(state_dir, &st) < 0) {
		if ((rc = lc_local_mkdir_parents(state_dir, err)) < 0)
			goto out;
		if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
			rc = lc_error_set(err, LC_EIO, "creating %s: %s", state_dir, strerror(errno));
			goto out;
		}
	}
	if ((rc = lc_local_make_dir(state_dir, 0700, err)) < 0)
		goto out;
	lc_buf_addf(&hosts, "%s/hosts", state_dir);
	if ((rc = lc_local_make_dir(hosts.buf, 0700, err)) < 0)
		goto out;
	if ((rc = lc_local_lock_state(state_dir, &lockfd, err)) < 0)
		goto out;
	lc_local_key_path(&key, state_dir);
	lc_buf_addf(&pub, "%s.pub", key.buf);
	if (access(key.buf, F_OK) < 0) {
		rc = lc_local_make_keypair(key.buf, "labctl-lab", err);
	} else if (access(pub.buf, F_OK) < 0) {
		const char *argv[] = { SSH_KEYGEN_PATH, "-y", "-f", key.buf, NULL };
		rc = lc_local_run_cmd(argv, &out, err);
		if (rc < 0)
			lc_error_prefix(err, "reading the public half of %s", key.buf);
		else
			rc = lc_local_write_file(pub.buf, out.buf, out.len, 0644, err);
	}
out:
	lc_buf_release(&key);
	lc_buf_release(&pub);
	lc_buf_release(&hosts);
	lc_buf_release(&out);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

/* Names of every directory in STATE/hosts. */
int lc_local_list_hosts(const char *state, char ***out, size_t *nr, struct lc_error *err)
{
	struct lc_buf path = LC_BUF_INIT;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	DIR *d;
	int rc = 0;

	*out = NULL;
	*nr = 0;
	lc_buf_addf(&path, "%s/hosts", state);
	d = opendir(path.buf);
	if (!d) {
		if (errno != ENOENT)
			rc = lc_error_set(err, LC_EIO, "reading %s: %s", path.buf, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (lc_local_check_name(de->d_name, NULL) < 0 || de->d_type != DT_DIR)
			continue;
		LC_ALLOC_GROW(names, n + 1, alloc);
		names[n++] = lc_xstrdup(de->d_name);
	}
	closedir(d);
	*out = names;
	*nr = n;
	names = NULL;
out:
	lc_buf_release(&path);
	return rc;
}

void lc_local_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Regenerate STATE/known_hosts from the host key of every running host. */
int lc_local_write_known_hosts(const char *state, struct lc_error *err)
{
	struct lc_buf text = LC_BUF_INIT, path = LC_BUF_INIT, tmp = LC_BUF_INIT;
	struct lc_buf pub = LC_BUF_INIT, addr = LC_BUF_INIT, key = LC_BUF_INIT;
	char **names = NULL, *sp;
	size_t i, n = 0;
	int port, rc;

	if ((rc = lc_local_list_hosts(state, &names, &n, err)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct host h;

		lc_local_host_init(&h, state, names[i]);
		lc_buf_reset(&pub);
		lc_buf_reset(&addr);
		lc_buf_reset(&key);
		lc_buf_addf(&key, "%s" HOST_KEY ".pub", h.upper.buf);
		if (lc_local_host_init_pid(&h) && lc_local_read_endpoint(&h, &addr, &port) == 0 &&
		    lc_file_read(&pub, key.buf, 4096) == 0 &&
		    !strncmp(pub.buf, "ssh-ed25519 ", 12)) {
			/* keep "ssh-ed25519 BASE64", drop the comment */
			sp = strpbrk(pub.buf + 12, " \n");
			if (sp)
				lc_buf_setlen(&pub, (size_t)(sp - pub.buf));
			if (port == 22)
				lc_buf_addf(&text, "%s %s\n", addr.buf, pub.buf);
			else
				lc_buf_addf(&text, "[%s]:%d %s\n", addr.buf, port, pub.buf);
		}
		lc_local_host_release(&h);
	}
	lc_local_known_hosts_path(&path, state);
	lc_buf_addf(&tmp, "%s.tmp.%d", path.buf, (int)getpid());
	if ((rc = lc_local_write_file(tmp.buf, text.buf, text.len, 0644, err)) < 0)
		goto out;
	if (rename(tmp.buf, path.buf) < 0) {
		rc = lc_error_set(err, LC_EIO, "renaming %s: %s", tmp.buf, strerror(errno));
		unlink(tmp.buf);
	}
out:
	lc_local_free_names(names, n);
	lc_buf_release(&text);
	lc_buf_release(&path);
	lc_buf_release(&tmp);
	lc_buf_release(&pub);
	lc_buf_release(&addr);
	lc_buf_release(&key);
	return rc;
}
