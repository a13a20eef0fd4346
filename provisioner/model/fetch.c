/* fetch.c - artifacts by URL with a pinned SHA-256, through a local cache. */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

#define FETCH_MAX ((curl_off_t)1 << 30)

struct sink {
	int fd;
	struct lc_sha256 *sha;
	curl_off_t written;
	int werr;
};

static size_t on_data(char *p, size_t size, size_t n, void *data)
{
	struct sink *s = data;
	size_t len = size * n, off = 0;

	if (s->written + (curl_off_t)len > FETCH_MAX)
		return 0;
	lc_sha256_update(s->sha, p, len);
	while (off < len) {
		ssize_t w = write(s->fd, p + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			s->werr = errno;
			return 0;
		}
		off += (size_t)w;
	}
	s->written += (curl_off_t)len;
	return len;
}

/* The digest of a cached file, to trust nothing on disk blindly: read a
 * buffer at a time, whatever its size. */
static int cached_ok(const char *path, const char *sha256)
{
	char got[LC_SHA256_HEX];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok = 0;

	if (fd < 0)
		return 0;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size <= FETCH_MAX &&
	    !lc_sha256_fd(got, fd, (size_t)st.st_size))
		ok = !strcmp(got, sha256);
	close(fd);
	return ok;
}

int lc_fetch(char **out, int *fetched, const char *cache_dir, const char *url,
	     const char *sha256, int timeout_ms, struct lc_error *err)
{
	struct sink s = { -1, NULL, 0, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	char got[LC_SHA256_HEX];
	char *path = NULL, *tmp = NULL;
	CURL *c = NULL;
	CURLcode cc;
	long code = 0;
	int rc = 0;

	*out = NULL;
	*fetched = 0;
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8) && strncmp(url, "file://", 7))
		return lc_error_set(err, LC_EPARSE, "%s: only http, https and file URLs are allowed",
				    url);
	if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST)
		return lc_error_set(err, LC_EIO, "%s: %s", cache_dir, strerror(errno));
	path = lc_xasprintf("%s/%s", cache_dir, sha256);
	if (cached_ok(path, sha256)) {
		*out = path;
		return 0;
	}
	tmp = lc_xasprintf("%s/.partial.%s.%ld", cache_dir, sha256, (long)getpid());
	s.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.fd < 0) {
		rc = lc_error_set(err, LC_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	s.sha = lc_sha256_new();
	if (!(c = curl_easy_init())) {
		rc = lc_error_set(err, LC_ENOMEM, "libcurl: cannot create a handle");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 5000 ? timeout_ms : 5000));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	lc_sha256_final(s.sha, got);
	s.sha = NULL;
	if (cc != CURLE_OK) {
		rc = lc_error_set(err, LC_EIO, "%s: cannot download: %s", url,
				  s.werr ? strerror(s.werr) : errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	if (strcmp(got, sha256)) {
		rc = lc_error_set(err, LC_EPARSE, "%s: SHA-256 mismatch: expected %s, got %s "
				  "(%lld bytes); nothing was pushed", url, sha256, got,
				  (long long)s.written);
		goto out;
	}
	if (fsync(s.fd) < 0 || close(s.fd) < 0) {
		s.fd = -1;
		rc = lc_error_set(err, LC_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	s.fd = -1;
	if (rename(tmp, path) < 0) {
		rc = lc_error_set(err, LC_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	*fetched = 1;
	*out = path;
	path = NULL;
out:
	if (s.sha)
		lc_sha256_final(s.sha, got);
	if (s.fd >= 0)
		close(s.fd);
	if (tmp)
		unlink(tmp);  /* gone already when renamed */
	if (c)
		curl_easy_cleanup(c);
	free(tmp);
	free(path);
	return rc;
}
