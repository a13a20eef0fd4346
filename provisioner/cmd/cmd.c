/* cmd.c - the command table: find a command by exact name or unique
 * prefix; the mapping from error codes to exit statuses. */
#include "cmd.h"

#include <string.h>

#include "error.h"

static const struct lc_cmd *const table[] = {
	&lc_cmd_up,
	&lc_cmd_converge,
	&lc_cmd_plan,
	&lc_cmd_status,
	&lc_cmd_ping,
	&lc_cmd_down,
	&lc_cmd_dash,
	&lc_cmd_completion,
	NULL,
};

const struct lc_cmd *const *lc_cmd_table(void)
{
	return table;
}

const struct lc_cmd *lc_cmd_find(const char *name)
{
	const struct lc_cmd *found = NULL;
	size_t i, len = strlen(name);

	for (i = 0; table[i]; i++) {
		if (!strcmp(table[i]->name, name))
			return table[i];
		if (len && !strncmp(table[i]->name, name, len)) {
			if (found)
				return NULL;
			found = table[i];
		}
	}
	return found;
}

int lc_cmd_exit_status(int code, int generic)
{
	switch (code) {
	case LC_EUSAGE:
	case LC_EPARSE:
	case LC_EIO:
	case LC_EUNDEF:
		return LC_EXIT_USAGE;
	case LC_ECANCELED:
		return LC_EXIT_INTERRUPTED;
	case LC_ECONNECT:
	case LC_EAUTH:
	case LC_EREMOTE:
	case LC_ETIMEOUT:
		return LC_EXIT_FAILED;
	default:
		return generic;
	}
}
