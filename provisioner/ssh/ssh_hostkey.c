/* ssh_hostkey.c - host keys for the SSH transport: reading known_hosts
 * (line by line, hashed entries and @revoked too), the host key algorithms
 * to offer, checking the key the host offered, appending a new one. */
#include "ssh_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "files.h"

/* Host key algorithms in order of preference (DESIGN §4: ed25519 first,
 * so we get the key OpenSSH wrote) with their known_hosts key-type bit.
 * libssh2 1.10 has no rsa-sha2-* host key algorithms; method_pref would
 * silently drop them (with an overlapping memcpy), we filter first. */
static const struct {
	const char *alg;
	int kh_bit;
} hostkey_algs[] = {
	{ "ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519 },
	{ "ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256 },
	{ "ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384 },
	{ "ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521 },
	{ "rsa-sha2-512", LIBSSH2_KNOWNHOST_KEY_SSHRSA },
	{ "rsa-sha2-256", LIBSSH2_KNOWNHOST_KEY_SSHRSA },
	{ "ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA },
};

static const struct keytype {
	int hostkey_type;          /* LIBSSH2_HOSTKEY_TYPE_* */
	int kh_bit;                /* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;          /* as written in known_hosts */
} keytypes[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa" },
	{ LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss" },
};

/* ---- host keys ------------------------------------------------------ */

/* The name OpenSSH uses in known_hosts: "host", or "[host]:port". */
void lc_ssh_known_hosts_name(struct lc_buf *b, const struct lc_ssh_opts *o)
{
	const char *name = o->hostkey_alias ? o->hostkey_alias : o->address;

	if (o->port == 22)
		lc_buf_adds(b, name);
	else
		lc_buf_addf(b, "[%s]:%d", name, o->port);
}

/* Read known_hosts line by line: libssh2_knownhost_readfile stops at the
 * first line it cannot parse, we skip such lines as OpenSSH does.
 * "@revoked" entries go to `revoked`; "@cert-authority" ones are ignored
 * (no certificates here).  A missing file is an empty one. */
int lc_ssh_load_known_hosts(struct ssh_transport *t, const char *file,
			    LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *revoked,
			    struct lc_error *err)
{
	struct lc_buf data = LC_BUF_INIT, line = LC_BUF_INIT;
	const char *p, *end;
	int e, rc = 0;

	e = -lc_file_read(&data, file, FILE_MAX);
	if (e && e != ENOENT) {
		rc = lc_error_set(err, LC_EIO, "%s: cannot read known hosts file %s: %s",
				  t->where, file, strerror(e));
		goto out;
	}
	for (p = data.buf, end = data.buf + data.len; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		LIBSSH2_KNOWNHOSTS *into = kh;

		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (p < eol && *p == '@') {
			static const char marker[] = "@revoked";
			size_t n = sizeof(marker) - 1;
			if ((size_t)(eol - p) > n && !memcmp(p, marker, n) &&
			    (p[n] == ' ' || p[n] == '\t')) {
				into = revoked;
				p += n;
			} else {
				into = NULL;
			}
		}
		if (into) {
			lc_buf_reset(&line);
			lc_buf_add(&line, p, (size_t)(eol - p));
			/* An unparsable line is skipped, not fatal. */
			(void)libssh2_knownhost_readline(into, line.buf, line.len,
							 LIBSSH2_KNOWNHOST_FILE_OPENSSH);
		}
		p = nl ? nl + 1 : end;
	}
out:
	lc_buf_release(&data);
	lc_buf_release(&line);
	return rc;
}

/* Does kh list a key of type kh_bit for name?  Checking a key nobody has
 * answers MISMATCH exactly when it does (hashed entries included). */
static int has_key_type(LIBSSH2_KNOWNHOSTS *kh, const char *name, int kh_bit)
{
	static const char probe[] = "labctl: no host has this key";

	return libssh2_knownhost_checkp(kh, name, -1, probe, sizeof(probe) - 1,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN |
					LIBSSH2_KNOWNHOST_KEYENC_RAW | kh_bit,
					NULL) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
}

/* The host key algorithms to offer: our preference order, restricted to
 * what this libssh2 supports, with the types known_hosts already lists for
 * this host first (as OpenSSH does), so a host known by its ECDSA key is
 * not asked for its ed25519 key and then refused as unknown. */
int lc_ssh_set_hostkey_prefs(struct ssh_transport *t, LIBSSH2_KNOWNHOSTS *kh,
			     const char *name, struct lc_error *err)
{
	struct lc_buf prefs = LC_BUF_INIT;
	const char **algs = NULL;
	int nalgs, pass, rc = 0;
	size_t i;

	nalgs = libssh2_session_supported_algs(t->session, LIBSSH2_METHOD_HOSTKEY, &algs);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < ARRAY_SIZE(hostkey_algs); i++) {
			int j, ok = nalgs < 0; /* cannot tell: offer it */
			if (has_key_type(kh, name, hostkey_algs[i].kh_bit) != !pass)
				continue;
			for (j = 0; j < nalgs && !ok; j++)
				ok = !strcmp(algs[j], hostkey_algs[i].alg);
			if (!ok)
				continue;
			if (prefs.len)
				lc_buf_addc(&prefs, ',');
			lc_buf_adds(&prefs, hostkey_algs[i].alg);
		}
	}
	if (nalgs > 0)
		libssh2_free(t->session, algs);
	if (prefs.len &&
	    libssh2_session_method_pref(t->session, LIBSSH2_METHOD_HOSTKEY, prefs.buf))
		rc = lc_error_set(err, LC_ERR, "%s: cannot set host key algorithms '%s': %s",
				  t->where, prefs.buf, lc_ssh_errmsg(t));
	lc_buf_release(&prefs);
	return rc;
}

/* Append "name keytype base64" to known_hosts in one write (O_APPEND), so
 * concurrent threads adding different hosts do not interleave.  Never
 * libssh2_knownhost_writefile: it drops comments and lines it skipped. */
static int append_known_host(struct ssh_transport *t, const char *file,
			     const char *name, const struct keytype *kt,
			     const char *key, size_t keylen, struct lc_error *err)
{
	struct lc_buf line = LC_BUF_INIT;
	struct stat st;
	size_t off = 0;
	int fd, rc = 0;
	char last;

	fd = open(file, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = lc_error_set(err, LC_EIO, "%s: cannot add host key to %s: %s",
				  t->where, file, strerror(errno));
		goto out;
	}
	/* A last line without newline must not swallow ours. */
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
		lc_buf_addc(&line, '\n');
	lc_buf_addf(&line, "%s %s ", name, kt->name);
	lc_base64_encode(&line, key, keylen, 1);
	lc_buf_addc(&line, '\n');
	while (off < line.len) {
		ssize_t n = write(fd, line.buf + off, line.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = lc_error_set(err, LC_EIO, "%s: cannot add host key to %s: %s",
					  t->where, file, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
out:
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = lc_error_set(err, LC_EIO, "%s: cannot add host key to %s: %s",
				  t->where, file, strerror(errno));
	lc_buf_release(&line);
	return rc;
}

int lc_ssh_check_host_key(struct ssh_transport *t, const struct lc_ssh_opts *o,
			  LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *revoked,
			  const char *name, struct lc_error *err)
{
	struct lc_buf fp = LC_BUF_INIT;
	const struct keytype *kt = NULL;
	const char *key, *hash;
	size_t keylen = 0, i;
	int type = 0, mask, other = 0, rc = 0;

	key = libssh2_session_hostkey(t->session, &keylen, &type);
	for (i = 0; i < ARRAY_SIZE(keytypes); i++)
		if (keytypes[i].hostkey_type == type)
			kt = &keytypes[i];
	if (!key || !kt) {
		rc = lc_error_set(err, LC_EHOSTKEY, "%s: the host key has an unsupported type",
				  t->where);
		goto out;
	}
	hash = libssh2_hostkey_hash(t->session, LIBSSH2_HOSTKEY_HASH_SHA256);
	lc_buf_addf(&fp, "%s key SHA256:", kt->name);
	if (hash)
		lc_base64_encode(&fp, hash, 32, 0);

	mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kt->kh_bit;
	if (libssh2_knownhost_checkp(revoked, name, -1, key, keylen, mask, NULL) ==
	    LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		rc = lc_error_set(err, LC_EHOSTKEY,
				  "host key of %s is marked @revoked in %s; connection "
				  "refused, no command was run (%s)",
				  t->where, o->known_hosts, fp.buf);
		goto out;
	}
	switch (libssh2_knownhost_checkp(kh, name, -1, key, keylen, mask, NULL)) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		rc = lc_error_set(err, LC_EHOSTKEY,
				  "host key of %s does not match the one in %s: this may be "
				  "a man-in-the-middle attack; connection refused, no command "
				  "was run (offered %s; if the host was reinstalled, remove "
				  "the old key with: ssh-keygen -R '%s' -f %s)",
				  t->where, o->known_hosts, fp.buf, name, o->known_hosts);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		/* We offered the known types first, so a host listed only with
		 * other key types no longer has them: that is a changed key,
		 * not a new host, even with accept_new_hostkeys. */
		for (i = 0; i < ARRAY_SIZE(keytypes); i++)
			if (keytypes[i].kh_bit != kt->kh_bit &&
			    has_key_type(kh, name, keytypes[i].kh_bit))
				other = 1;
		if (other)
			rc = lc_error_set(err, LC_EHOSTKEY,
					  "host key of %s does not match the one in %s (it "
					  "lists keys of other types only): this may be a "
					  "man-in-the-middle attack; connection refused, no "
					  "command was run (offered %s)",
					  t->where, o->known_hosts, fp.buf);
		else if (!o->accept_new_hostkeys)
			rc = lc_error_set(err, LC_EHOSTKEY,
					  "host key of %s is not in %s; run with "
					  "--accept-new-hostkeys to trust it (%s)",
					  t->where, o->known_hosts, fp.buf);
		else
			rc = append_known_host(t, o->known_hosts, name, kt, key, keylen, err);
		break;
	default:
		rc = lc_error_set(err, LC_EHOSTKEY, "%s: cannot check the host key: %s",
				  t->where, lc_ssh_errmsg(t));
		break;
	}
out:
	lc_buf_release(&fp);
	return rc;
}

