/* json.h - JSON text to and from lc_node trees (RFC 8259).
 *
 * libyaml reads most JSON, but not all of it: it refuses the surrogate pairs
 * ("\ud83d\ude00") that JSON encoders write for characters outside the
 * Basic Multilingual Plane, so what the monitoring API answers goes through
 * this parser instead.  Its trees are the ones yamlx.h builds:
 *
 *   object -> LC_NODE_MAP (keys in document order; a duplicate key is refused)
 *   array  -> LC_NODE_SEQ
 *   string -> LC_NODE_SCALAR, plain = 0 (escapes decoded to UTF-8; a lone
 *             surrogate becomes U+FFFD)
 *   number, true, false, null -> LC_NODE_SCALAR, plain = 1, the text as written
 *
 * and the writer types scalars the same way back, so a YAML plain scalar
 * that reads as a JSON number, true, false or null is written as one and
 * everything else (quoted scalars, plain text) as a string.  Nothing here
 * prints. */
#ifndef LC_JSON_H
#define LC_JSON_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "yamlx.h"

enum lc_json_type {
	LC_JSON_NULL,
	LC_JSON_BOOL,
	LC_JSON_NUMBER,
	LC_JSON_STRING,
	LC_JSON_ARRAY,
	LC_JSON_OBJECT,
};

struct lc_json_limits {
	size_t max_bytes;      /* refuse longer input */
	unsigned max_depth;    /* refuse deeper nesting */
	size_t max_nodes;      /* refuse more values */
};

/* Generous enough for a whole account's monitor list. */
#define LC_JSON_LIMITS_DEFAULT { 64u << 20, 128, 10000000 }

/* Parse one JSON value (surrounding white space allowed).  limits may be
 * NULL for the defaults.  out->file is a copy of name, which every node's
 * file points at; errors read "NAME:LINE:COL: what was wrong".  On failure
 * *out stays empty.  Release with lc_doc_release. */
int lc_json_parse(struct lc_doc *out, const char *name, const char *text, size_t len,
		  const struct lc_json_limits *limits, struct lc_error *err);

/* The JSON type of a node (NULL is LC_JSON_NULL). */
enum lc_json_type lc_json_type(const struct lc_node *n);
/* 1 when s is a number in JSON's grammar. */
int lc_json_is_number(const char *s);

/* Append n as JSON: compact when indent < 0, else one member per line
 * indented by indent spaces per level.  NULL writes null. */
void lc_json_write(struct lc_buf *out, const struct lc_node *n, int indent);

#endif
