/* error.h - errors as values: a code, a message and where it happened. */
#ifndef LC_ERROR_H
#define LC_ERROR_H

#include <stdarg.h>

enum lc_code {
	LC_OK = 0,
	LC_ERR = -1,       /* generic failure */
	LC_ENOMEM = -2,
	LC_EUSAGE = -3,    /* bad command line */
	LC_EPARSE = -4,    /* bad inventory, role, template or edit */
	LC_EIO = -5,       /* local file system */
	LC_ECONNECT = -6,  /* host unreachable, timed out */
	LC_EAUTH = -7,     /* authentication refused */
	LC_EHOSTKEY = -8,  /* host key unknown or changed */
	LC_EREMOTE = -9,   /* a command on the host failed */
	LC_ETIMEOUT = -10,
	LC_EUNDEF = -11,   /* undefined variable */
	LC_ECANCELED = -12, /* interrupted (SIGINT, SIGTERM) */
};

#define LC_ERROR_MSG_MAX 1024

struct lc_error {
	int code;
	char msg[LC_ERROR_MSG_MAX];
};

#define LC_ERROR_INIT { 0, { 0 } }

/* Set err (may be NULL) and return code, so callers can write
 * `return lc_error_set(err, LC_EPARSE, "unknown op '%s'", name);` */
int lc_error_set(struct lc_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix context to an existing message: "converging demo_api: <old msg>". */
int lc_error_prefix(struct lc_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void lc_error_clear(struct lc_error *err);

#endif
