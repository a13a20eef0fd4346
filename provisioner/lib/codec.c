/* codec.c - base64 through OpenSSL. */
#include "codec.h"

#include <string.h>

#include <openssl/evp.h>

void lc_base64_encode(struct lc_buf *out, const void *data, size_t len, int pad)
{
	size_t start = out->len, n;

	if (len > (size_t)1 << 30)  /* EVP takes an int; nothing here is that big */
		len = (size_t)1 << 30;
	lc_buf_grow(out, (len + 2) / 3 * 4 + 1);
	n = (size_t)EVP_EncodeBlock((unsigned char *)out->buf + start, data, (int)len);
	while (!pad && n && out->buf[start + n - 1] == '=')
		n--;
	lc_buf_setlen(out, start + n);
}

int lc_base64_decode(struct lc_buf *out, const char *in, size_t len)
{
	struct lc_buf clean = LC_BUF_INIT;
	size_t i, pads = 0, start = out->len;
	int n, rc = 0;

	/* EVP_DecodeBlock wants whole groups without white space */
	lc_buf_grow(&clean, len + 4);
	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\n", in[i]) || !in[i])
			lc_buf_addc(&clean, in[i]);
	while (clean.len && clean.buf[clean.len - 1] == '=' && pads < 2) {
		lc_buf_setlen(&clean, clean.len - 1);
		pads++;
	}
	if (clean.len % 4 == 1 || memchr(clean.buf, '=', clean.len) ||
	    memchr(clean.buf, '\0', clean.len)) {
		rc = -1;
		goto out;
	}
	pads = (4 - clean.len % 4) % 4;
	for (i = 0; i < pads; i++)
		lc_buf_addc(&clean, '=');
	if (clean.len > (size_t)1 << 30) {
		rc = -1;
		goto out;
	}
	lc_buf_grow(out, clean.len / 4 * 3 + 1);
	n = EVP_DecodeBlock((unsigned char *)out->buf + start, (unsigned char *)clean.buf,
			    (int)clean.len);
	if (n < 0 || (size_t)n < pads) {
		rc = -1;
		goto out;
	}
	lc_buf_setlen(out, start + (size_t)n - pads);
out:
	if (rc)
		lc_buf_setlen(out, start);
	lc_buf_release(&clean);
	return rc;
}
