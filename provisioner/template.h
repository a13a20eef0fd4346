/* template.h - the template renderer.
 *
 *   {{ name }}            a variable; dotted names walk maps ({{ hosts.postgresql.address }})
 *                         and numeric parts index lists ({{ tags.0 }})
 *   {{ name | join(", ") }}  a list joined with a separator
 *   {{ name | default("x") }} used when name is undefined
 *   {{ "text" }}          a literal (how to write a literal "{{")
 *
 * A scalar renders as its text; a list renders as a YAML flow list with
 * double-quoted items (["a", "b"]); a mapping is an error.  An undefined
 * variable is an error naming "template:line".  Nothing here prints. */
#ifndef LC_TEMPLATE_H
#define LC_TEMPLATE_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "yamlx.h"

/* Resolve the first part of a dotted name; NULL when undefined. */
typedef const struct lc_node *(*lc_template_lookup_fn)(void *data, const char *name);

/* Render src (name is used in errors).  *used_secret (may be NULL) is set
 * when a node marked secret was rendered into the output. */
int lc_template_render(struct lc_buf *out, const char *name, const char *src,
		       size_t len, lc_template_lookup_fn lookup, void *data,
		       int *used_secret, struct lc_error *err);

#endif
