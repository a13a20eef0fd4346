/* fetch.h - artifacts: a file a role takes from a URL with a pinned
 * SHA-256 (http, https or file; other protocols are refused).  Downloaded
 * once into a local cache, hashed while it streams, and renamed into place
 * only when the digest matches. */
#ifndef LC_FETCH_H
#define LC_FETCH_H

#include "error.h"
#include "sha.h"

/* Ensure CACHE/<sha256> holds the artifact; *out is that path.  A digest
 * mismatch names the expected and the actual digest; nothing is kept.
 * *fetched is 1 when it was downloaded now, 0 when the cache had it. */
int lc_fetch(char **out, int *fetched, const char *cache_dir, const char *url,
	     const char *sha256, int timeout_ms, struct lc_error *err);

#endif
