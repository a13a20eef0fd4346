/* template.h - the template renderer.
 *
 *   {{ name }}            a variable; dotted names walk maps ({{ hosts.postgresql.address }})
 *                         and numeric parts index lists ({{ tags.0 }})
 *   {{ name | join(", ") }}  a list of scalars joined with a separator
 *   {{ name | default("x") }} used when name is undefined at any part
 *   {{ name | yaml }}     the value as a YAML flow value ("a", ["a"], {"k": "v"})
 *   {{ name | upper }}, {{ name | lower }}   ASCII case of a scalar
 *   {{ "text" }}          a literal (how to write a literal "{{"); escapes
 *                         \" \\ \n \t \r; no newline inside
 *
 * Text outside tags is copied byte for byte; a tag ends at the first "}}"
 * outside a string literal.  Filters apply left to right; an undefined value
 * passes through other filters until a default() catches it.
 *
 * A scalar renders as its text; a list renders as a YAML flow list with
 * double-quoted, escaped items (["a", "b"]); a mapping is an error that
 * names its keys.  An undefined variable is LC_EUNDEF, a bad tag LC_EPARSE;
 * messages start "template:line" (the line of the "{{") and name variables
 * and filters, never values, since values may be secret.  Nothing here
 * prints. */
#ifndef LC_TEMPLATE_H
#define LC_TEMPLATE_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "yamlx.h"

/* Rendered text (and any one value) is refused past this size. */
#define LC_TEMPLATE_MAX ((size_t)64 << 20)

/* Resolve the first part of a dotted name; NULL when undefined. */
typedef const struct lc_node *(*lc_template_lookup_fn)(void *data, const char *name);

/* Append the rendering of src (len bytes, may hold NULs) to out; name is
 * used in errors.  lookup may return NULL for undefined names.
 * *used_secret (may be NULL) is set to 1 when a node marked secret - or
 * anything inside or below a secret list or mapping - was rendered into the
 * output, else to 0.  On error out is left as it was and *used_secret is 0. */
int lc_template_render(struct lc_buf *out, const char *name, const char *src,
		       size_t len, lc_template_lookup_fn lookup, void *data,
		       int *used_secret, struct lc_error *err);

/* The same, with every secret value written as LC_TEMPLATE_MASK: what a
 * diff may show. */
#define LC_TEMPLATE_MASK "********"
int lc_template_render_masked(struct lc_buf *out, const char *name, const char *src,
			      size_t len, lc_template_lookup_fn lookup, void *data,
			      struct lc_error *err);

#endif
