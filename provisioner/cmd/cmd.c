/* cmd.c - find commands by exact name or unique prefix. */
#include "cmd.h"

#include <string.h>

static const struct lc_cmd *const table[] = {
	&lc_cmd_up,
	&lc_cmd_converge,
	&lc_cmd_plan,
	&lc_cmd_status,
	&lc_cmd_ping,
	&lc_cmd_down,
	&lc_cmd_dash,
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
