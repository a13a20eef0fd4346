/* error.c - errors as values. */
#include "error.h"

#include <stdio.h>
#include <string.h>

int lc_error_set(struct lc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int lc_error_prefix(struct lc_error *err, const char *fmt, ...)
{
	char prefix[LC_ERROR_MSG_MAX];
	char old[LC_ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return LC_ERR;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* Truncation is acceptable: messages are capped by design. */
	if (snprintf(err->msg, sizeof(err->msg), "%.*s: %s", (int)sizeof(prefix) / 2,
		     prefix, old) < 0)
		err->msg[0] = '\0';
	return err->code ? err->code : LC_ERR;
}

void lc_error_clear(struct lc_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
