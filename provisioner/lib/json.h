/* json.h - JSON text to and from lc_node trees (RFC 8259), through
 * Debian's libjansson: the only jansson user is json.c.
 *
 * JSON read here (the monitoring API's answers, definition files, the
 * host's state record, the agent's status) becomes the trees yamlx.h
 * builds, so YAML and JSON are walked the same way:
 *
 *   object -> LC_NODE_MAP (keys in document order; a duplicate key is refused)
 *   array  -> LC_NODE_SEQ
 *   string -> LC_NODE_SCALAR, plain = 0 (escapes decoded to UTF-8, \u0000
 *             kept: len counts it)
 *   number -> LC_NODE_SCALAR, plain = 1: an integer as such, a real in the
 *             fewest digits that read back as the same double, still a
 *             real (-0.5e+3 is "-500.0")
 *   true, false, null -> LC_NODE_SCALAR, plain = 1, that word
 *
 * Nodes read from JSON carry the file's name but no line (jansson keeps no
 * positions); errors in the text itself name FILE:LINE:COL.
 *
 * JSON written here (--json output, API bodies, status, state records)
 * comes from such trees: a YAML plain scalar that reads as a JSON number,
 * true, false or null is written as one, everything else (quoted scalars,
 * plain text) as a string; bytes that are not UTF-8 become U+FFFD.  Code
 * that makes JSON builds a tree with the lc_json_* constructors below.
 * Nothing here prints. */
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

/* ---- building JSON values ------------------------------------------- */

struct lc_node *lc_json_object(void);
struct lc_node *lc_json_array(void);
/* A string (NULL: null); lc_json_strn takes a length (NUL bytes allowed). */
struct lc_node *lc_json_str(const char *s);
struct lc_node *lc_json_strn(const char *s, size_t len);
struct lc_node *lc_json_int(long long v);
struct lc_node *lc_json_real(double v);
/* A measurement: an integer when v is one (below 2^53), else a real;
 * null when not finite. */
struct lc_node *lc_json_number(double v);
struct lc_node *lc_json_bool(int v);
struct lc_node *lc_json_null(void);
/* Add key: v (taken) to obj, after its other members; the caller keeps
 * keys unique.  Returns v. */
struct lc_node *lc_json_set(struct lc_node *obj, const char *key, struct lc_node *v);
/* Add v (taken) to the end of arr.  Returns v. */
struct lc_node *lc_json_push(struct lc_node *arr, struct lc_node *v);
/* Append n, compact, and a newline to out; then free n.  One --json line. */
void lc_json_line(struct lc_buf *out, struct lc_node *n);

#endif
