/* yamlx.h - YAML documents as a small tree of nodes that know where they came
 * from (file:line:col).  The only user of libyaml is yamlx.c; no libyaml type
 * appears here.  Duplicate keys, anchors/aliases, depth and size are refused
 * with a positioned error. */
#ifndef LC_YAMLX_H
#define LC_YAMLX_H

#include <stdarg.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

enum lc_node_kind {
	LC_NODE_SCALAR,
	LC_NODE_SEQ,
	LC_NODE_MAP,
};

struct lc_node;

struct lc_pair {
	struct lc_node *key;   /* always a scalar */
	struct lc_node *value;
};

struct lc_node {
	enum lc_node_kind kind;
	const char *file;      /* shared, owned by whoever built the tree */
	unsigned line, col;    /* 1-based; 0 when built in code */
	int plain;             /* scalar was written without quotes */
	int secret;            /* value must never be shown (set by loaders) */
	/* LC_NODE_SCALAR */
	char *str;             /* NUL-terminated */
	size_t len;
	/* LC_NODE_SEQ */
	struct lc_node **items;
	size_t n_items;
	/* LC_NODE_MAP, in document order */
	struct lc_pair *pairs;
	size_t n_pairs;
	size_t alloc;
};

struct lc_yaml_limits {
	size_t max_bytes;      /* refuse larger input (default 4 MiB) */
	unsigned max_depth;    /* refuse deeper nesting (default 64) */
	size_t max_nodes;      /* refuse more nodes (default 200000) */
};

#define LC_YAML_LIMITS_DEFAULT { 4u << 20, 64, 200000 }

struct lc_doc {
	char *file;            /* the name used in positions */
	struct lc_node *root;  /* NULL for an empty document */
};

#define LC_DOC_INIT { NULL, NULL }

/* Load one YAML document.  limits may be NULL for the defaults.  Errors read
 * "FILE:LINE:COL: what was wrong (what was expected)".
 * On success out->file is a copy of path/name that every node's file points
 * at; out->root is NULL for an empty document (no content, comments only, or
 * a lone "---").  On failure *out stays empty.  Refused with LC_EPARSE: more
 * than one document, anchors (&a), aliases (*a), tags (!!str), keys that are
 * not strings (collections, empty plain keys, keys containing NUL), duplicate
 * keys, and input beyond limits; input must be UTF-8.  lc_yaml_load_file
 * fails with LC_EIO when the file cannot be read. */
int lc_yaml_load_file(struct lc_doc *out, const char *path,
		      const struct lc_yaml_limits *limits, struct lc_error *err);
int lc_yaml_load_buf(struct lc_doc *out, const char *name, const char *data,
		     size_t len, const struct lc_yaml_limits *limits,
		     struct lc_error *err);
void lc_doc_release(struct lc_doc *doc);

/* Building and freeing trees in code (vars merging, lookups). */
struct lc_node *lc_node_new(enum lc_node_kind kind, const char *file,
			    unsigned line, unsigned col);
struct lc_node *lc_node_new_scalar(const char *s, size_t len);
struct lc_node *lc_node_dup(const struct lc_node *n);  /* deep copy */
void lc_node_seq_add(struct lc_node *seq, struct lc_node *item);
void lc_node_map_set(struct lc_node *map, struct lc_node *key, struct lc_node *value);
void lc_node_free(struct lc_node *n);

/* Lookups and checks for loaders. */
const struct lc_node *lc_node_get(const struct lc_node *map, const char *key);
/* Append "file:line:col" to out. */
void lc_node_where(struct lc_buf *out, const struct lc_node *n);
/* Error at a node: "file:line:col: <fmt>". Returns code. */
int lc_node_error(struct lc_error *err, int code, const struct lc_node *n,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int lc_node_verror(struct lc_error *err, int code, const struct lc_node *n,
		   const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* Fail unless n is of kind; what names the thing ("the 'hosts' key"). */
int lc_node_expect(const struct lc_node *n, enum lc_node_kind kind,
		   const char *what, struct lc_error *err);
/* Fail on any key of map not in allowed (NULL-terminated): "unknown key
 * 'adress' in host (expected one of: address, port, ...)". */
int lc_node_check_keys(const struct lc_node *map, const char *const *allowed,
		       const char *what, struct lc_error *err);
/* Scalar conversions with positioned errors. */
int lc_node_int(long *out, const struct lc_node *n, long min, long max,
		struct lc_error *err);
int lc_node_bool(int *out, const struct lc_node *n, struct lc_error *err);
const char *lc_node_kind_name(enum lc_node_kind kind);

#endif
