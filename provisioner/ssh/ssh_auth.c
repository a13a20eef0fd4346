/* ssh_auth.c - authenticating the SSH transport: with a key file, or with
 * every key ssh-agent holds; when that fails, say why (an RSA key, which
 * libssh2 1.10 cannot use with OpenSSH 8.8+, or an encrypted key). */
#include "ssh_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "files.h"

static const char rsa_advice[] =
	"RSA keys cannot log in to OpenSSH 8.8 or later with libssh2 1.10 "
	"(no rsa-sha2 signatures); use an ed25519 or ECDSA key";

/* ---- authentication ------------------------------------------------- */

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Take one SSH wire string from *p (left bytes remaining). */
static int get_string(const unsigned char **p, size_t *left,
		      const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (*left < 4)
		return -1;
	n = get_u32(*p);
	if (*left - 4 < n)
		return -1;
	*s = *p + 4;
	*len = n;
	*p += 4 + (size_t)n;
	*left -= 4 + (size_t)n;
	return 0;
}

static int is_string(const unsigned char *s, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(s, want, len);
}

/* What went wrong with a key file, for the message: is it RSA (from the
 * .pub file, a PEM RSA header, or the public half of an OpenSSH-format
 * private key) and is it encrypted? */
static void key_file_info(const char *priv, const char *pub, int *rsa, int *encrypted)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char magic[] = "openssh-key-v1";
	struct lc_buf data = LC_BUF_INIT, bin = LC_BUF_INIT;
	const unsigned char *p, *s;
	size_t left, len;
	const char *b, *e;

	*rsa = *encrypted = 0;
	if (pub && !lc_file_read(&data, pub, FILE_MAX))
		*rsa = !strncmp(data.buf, "ssh-rsa ", 8);
	lc_buf_reset(&data);
	if (lc_file_read(&data, priv, FILE_MAX))
		goto out;
	if (strstr(data.buf, "BEGIN RSA PRIVATE KEY"))
		*rsa = 1;
	if (strstr(data.buf, "Proc-Type: 4,ENCRYPTED") ||
	    strstr(data.buf, "BEGIN ENCRYPTED PRIVATE KEY"))
		*encrypted = 1;
	b = strstr(data.buf, begin);
	if (!b)
		goto out;
	b += sizeof(begin) - 1;
	e = strstr(b, "-----END");
	if (lc_base64_decode(&bin, b, e ? (size_t)(e - b) : strlen(b)))
		goto out;
	/* magic\0, string cipher, string kdf, string kdfopts, u32 n, string pub */
	p = (const unsigned char *)bin.buf;
	left = bin.len;
	if (left < sizeof(magic) || memcmp(p, magic, sizeof(magic)))
		goto out;
	p += sizeof(magic);
	left -= sizeof(magic);
	if (get_string(&p, &left, &s, &len))
		goto out;
	if (!is_string(s, len, "none"))
		*encrypted = 1;
	if (get_string(&p, &left, &s, &len) || get_string(&p, &left, &s, &len) ||
	    left < 4)
		goto out;
	p += 4;
	left -= 4;
	if (get_string(&p, &left, &s, &len))
		goto out;
	p = s;
	left = len;
	if (!get_string(&p, &left, &s, &len) && is_string(s, len, "ssh-rsa"))
		*rsa = 1;
out:
	lc_buf_release(&data);
	lc_buf_release(&bin);
}

int lc_ssh_auth_key_file(struct ssh_transport *t, const struct lc_ssh_opts *o,
			 int64_t deadline, int timeout_ms, struct lc_error *err)
{
	struct lc_buf pub = LC_BUF_INIT;
	const char *pubpath;
	int rc, rsa, encrypted;

	lc_buf_addf(&pub, "%s.pub", o->identity_file);
	pubpath = access(pub.buf, R_OK) == 0 ? pub.buf : NULL;
	/* Passphrase "" and not NULL: with NULL, libssh2 1.10 (OpenSSL)
	 * calls strlen(NULL) on an encrypted PEM key. */
	NB_LOOP(rc, t, deadline,
		libssh2_userauth_publickey_fromfile_ex(t->session, o->user,
						       (unsigned)strlen(o->user),
						       pubpath, o->identity_file, ""));
	if (!rc)
		goto out;
	if (rc == NB_TIMEOUT || lc_ssh_is_connection_error(rc)) {
		rc = lc_ssh_fail(t, t->where, rc, timeout_ms, "during authentication", err);
		goto out;
	}
	key_file_info(o->identity_file, pubpath, &rsa, &encrypted);
	if (rsa)
		rc = lc_error_set(err, LC_EAUTH, "%s: authentication as %s failed with key %s: %s",
				  t->name, o->user, o->identity_file, rsa_advice);
	else if (encrypted)
		rc = lc_error_set(err, LC_EAUTH,
				  "%s: authentication as %s failed with key %s: the key is "
				  "encrypted and labctl cannot ask for its passphrase; load "
				  "it into ssh-agent and leave identity_file unset",
				  t->name, o->user, o->identity_file);
	else
		rc = lc_error_set(err, LC_EAUTH, "%s: authentication as %s failed with key %s (%s)",
				  t->name, o->user, o->identity_file, lc_ssh_errmsg(t));
out:
	lc_buf_release(&pub);
	return rc;
}

int lc_ssh_auth_agent(struct ssh_transport *t, const struct lc_ssh_opts *o,
		      int64_t deadline, int timeout_ms, struct lc_error *err)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	LIBSSH2_AGENT *agent;
	int rc, tried = 0, rsa = 0, connected = 0;

	agent = libssh2_agent_init(t->session);
	if (!agent) {
		rc = lc_error_set(err, LC_EAUTH, "%s: cannot use ssh-agent: %s",
				  t->name, lc_ssh_errmsg(t));
		goto out;
	}
	if (libssh2_agent_connect(agent)) {
		const char *sock = getenv("SSH_AUTH_SOCK");
		rc = lc_error_set(err, LC_EAUTH,
				  "%s: authentication as %s failed: no identity file is set "
				  "and ssh-agent is not reachable (SSH_AUTH_SOCK=%s)",
				  t->name, o->user, sock ? sock : "(unset)");
		goto out;
	}
	connected = 1;
	if (libssh2_agent_list_identities(agent)) {
		rc = lc_error_set(err, LC_EAUTH, "%s: cannot list ssh-agent keys: %s",
				  t->name, lc_ssh_errmsg(t));
		goto out;
	}
	rc = LIBSSH2_ERROR_AUTHENTICATION_FAILED;
	while (rc && libssh2_agent_get_identity(agent, &id, prev) == 0) {
		const unsigned char *p = id->blob, *s;
		size_t left = id->blob_len, len;
		prev = id;
		tried++;
		if (!get_string(&p, &left, &s, &len) && is_string(s, len, "ssh-rsa"))
			rsa++;
		NB_LOOP(rc, t, deadline, libssh2_agent_userauth(agent, o->user, id));
		if (rc == LIBSSH2_ERROR_SOCKET_DISCONNECT && tried > 1) {
			t->dead = 1;
			rc = lc_error_set(err, LC_EAUTH,
					  "%s: authentication as %s failed: the host hung up "
					  "after %d ssh-agent keys (MaxAuthTries?)%s%s",
					  t->name, o->user, tried, rsa ? "; " : "",
					  rsa ? rsa_advice : "");
			goto out;
		}
		if (rc == NB_TIMEOUT || lc_ssh_is_connection_error(rc)) {
			rc = lc_ssh_fail(t, t->where, rc, timeout_ms, "during authentication", err);
			goto out;
		}
	}
	if (rc)
		rc = lc_error_set(err, LC_EAUTH,
				  "%s: authentication as %s failed with every ssh-agent key "
				  "(%d tried)%s%s", t->name, o->user, tried,
				  rsa ? "; " : "", rsa ? rsa_advice : "");
out:
	if (agent) {
		if (connected)
			libssh2_agent_disconnect(agent);
		libssh2_agent_free(agent);
	}
	return rc;
}

